"""The learning loop in the simulator: a fortnight on the rules, `deskwatch learn`, a fortnight
with the models. Prints routing agreement with the simulated team's habits and the share of
deskwatch's escalations the team turned down, before and after learning.

    python bench/learn_loop.py                    # 14 + 14 simulated days, 100 new conversations a day
    python bench/learn_loop.py --days 7 --per-day 60 --seed 3

What runs: the three simulated helpdesks (core/simulator, rate limits off) on a simulated
clock; the real connectors and the daemon's own sync, decide and write-back steps (write-back
on, `Daemon.sync_source` and `drain_outbox`, rules only at first); the simulated team
(core/simulator/team.py) with habits deskwatch is not told: which team owns which product
area, which customers the leads escalate, which escalations they turn down. Its agents act
through the helpdesk APIs; deskwatch learns only from what it syncs back, through the
`deskwatch learn` command on the store. Time is simulated: a step of --step minutes takes
as long as the sync it runs, nothing waits.

Figures, each over the tickets created in that fortnight:
- routing agreement: deskwatch's first decision for a ticket names the team that owns it;
- false escalations: escalations deskwatch wrote to a helpdesk that the team turned down,
  over all escalations deskwatch wrote;
- missed: tickets the team's leads escalated themselves that deskwatch did not escalate.
Targets (learning issue): agreement >= 0.90 after learning, false escalations at least halved.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import tomli_w

from deskwatch.core import config
from deskwatch.core.cli import main as cli_main
from deskwatch.core.cli.commands.daemon import build
from deskwatch.core.daemon.sync import Daemon
from deskwatch.core.model.settings import Section
from deskwatch.core.simulator.runner import Simulator, parse
from deskwatch.core.simulator.team import Habits, Team

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
WRITE_DELAY = timedelta(seconds=5)


@dataclass
class Figures:
    tickets: int = 0
    agree: int = 0
    escalated: int = 0  # escalations deskwatch wrote to a helpdesk
    turned_down: int = 0  # of those, turned down by the team
    team_escalated: int = 0  # tickets the leads escalated themselves
    missed: int = 0  # of those, never escalated by deskwatch

    @property
    def agreement(self) -> float:
        return self.agree / self.tickets if self.tickets else 0.0

    @property
    def false_rate(self) -> float:
        return self.turned_down / self.escalated if self.escalated else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**vars(self), "agreement": round(self.agreement, 4), "false_escalation_rate": round(self.false_rate, 4)}


@dataclass
class LoopResult:
    before: Figures
    after: Figures
    learn_output: str
    habits: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Loop:
    """The simulator, the daemon's steps and the team on one simulated clock."""

    def __init__(self, folder: Path, *, seed: int, per_day: float, step_minutes: float):
        self.now = T0
        self.step = timedelta(minutes=step_minutes)
        clock: Callable[[], datetime] = lambda: self.now  # noqa: E731
        sim_cfg = {"seed": seed, "backlog": 0, "rate_limits": False, "rate_per_minute": per_day / 1440}
        self.sim = Simulator(parse(Section(sim_cfg, "simulator")), clock).start()
        data = config.default_data()
        data["store"] = {"path": str(folder / "deskwatch.db")}
        data["sources"] = self.sim.sources_config(write_back=True, poll_interval=60)
        # Simulated minutes pass in milliseconds here: the export's per-minute limit, counted
        # on the wall clock, would make every step wait.
        data["sources"]["zendesk"]["export_requests_per_minute"] = 100_000.0
        # Freshdesk tells backfill (resolved before the last hour: no conversations, no ratings
        # read) by the wall clock; simulated tickets are months old by it.
        data["sources"]["freshdesk"]["caught_up_minutes"] = 10 * 365 * 24 * 60.0
        self.config_file = folder / "deskwatch.toml"
        self.config_file.write_text(tomli_w.dumps(data))
        self.cfg = config.load(self.config_file)
        self.store, connectors = build(self.cfg)
        self.daemon = Daemon(self.cfg, self.store, connectors, clock=clock)
        self.habits = Habits.seeded(seed, (o.name for o in self.sim.world.orgs))
        self.team = Team(self.habits, self.sim.apps, seed)

    async def run(self, days: float) -> tuple[datetime, datetime]:
        """Advance ``days`` of simulated time; returns the window."""
        start = self.now
        end = start + timedelta(days=days)
        while self.now < end:
            # The team acts between two syncs, and deskwatch writes back a little after it reads:
            # a change stamped in the very second the export's cursor already passed would
            # not be exported again (the simulator's cursor is a time and an id).
            self.now += self.step / 2
            self.team.act(self.now)
            self.now += self.step / 2
            for src in self.daemon.sources.values():
                await self.daemon.sync_source(src)
            self.now += WRITE_DELAY
            for src in self.daemon.sources.values():
                await self.daemon.drain_outbox(src)
            self.daemon.decider.advance_chains(self.now)
        # One last sync so the team's latest actions are in the store.
        for src in self.daemon.sources.values():
            await self.daemon.sync_source(src)
        return start, end

    def learn(self) -> str:
        """`deskwatch learn` on the store, as a person (or the daemon's schedule) runs it."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli_main(["learn", "--config", str(self.config_file)])
        return out.getvalue() + err.getvalue() + (f"(exit {code})\n" if code else "")

    def figures(self, start: datetime, end: datetime) -> Figures:
        f = Figures()
        conn = self.store._conn
        written = {r[0] for r in conn.execute("SELECT ticket_id, payload FROM outbox WHERE state = 'applied'")
                   if json.loads(r[1]).get("escalated")}
        for name, app in self.sim.apps.items():
            for native, c in list(app.by_id.items()):  # type: ignore[attr-defined]
                if not (start <= c.created_at < end) or c.deleted:
                    continue
                tid = f"{name}:{native}"
                first = conn.execute("SELECT team FROM decisions WHERE ticket_id = ? AND actor = 'deskwatch' "
                                     "ORDER BY id LIMIT 1", (tid,)).fetchone()
                if first is None:
                    continue
                key = (name, str(native))
                f.tickets += 1
                f.agree += first[0] == self.habits.owner(c)
                if tid in written:
                    f.escalated += 1
                    f.turned_down += key in self.team.tally.turned_down
                if key in self.team.tally.escalated:
                    f.team_escalated += 1
                    f.missed += tid not in written
        return f

    def close(self) -> None:
        self.store.close()
        self.sim.stop()


async def _both(loop: Loop, days: float) -> tuple[Figures, str, Figures]:
    # One event loop for both fortnights: the connectors' HTTP clients belong to it.
    before = loop.figures(*await loop.run(days))
    learned = loop.learn()
    after = loop.figures(*await loop.run(days))
    for src in loop.daemon.sources.values():
        await src.connector.close()
    return before, learned, after


def run_loop(days: float = 14, per_day: float = 100, seed: int = 7, step_minutes: float = 20,
             folder: Path | None = None) -> LoopResult:
    """Run the whole loop (rules, learn, models) and return the figures of both fortnights."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="deskwatch-loop-") as tmp:
        loop = Loop(folder or Path(tmp), seed=seed, per_day=per_day, step_minutes=step_minutes)
        try:
            before, learned, after = asyncio.run(_both(loop, days))
        finally:
            loop.close()
    return LoopResult(before, after, learned, loop.habits.describe(), time.monotonic() - started)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=float, default=14, help="simulated days before learning, and again after (default 14)")
    ap.add_argument("--per-day", type=float, default=100, help="new conversations a day across the helpdesks (default 100)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--step", type=float, default=20, help="simulated minutes between syncs (default 20)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    res = run_loop(args.days, args.per_day, args.seed, args.step)
    if args.json:
        print(json.dumps({"before": res.before.to_dict(), "after": res.after.to_dict(), "seconds": round(res.seconds, 1)}, indent=2))
        return
    print("the simulated team's habits (deskwatch is not told):")
    for line in res.habits:
        print(f"  {line}")
    print("deskwatch learn:")
    for line in res.learn_output.rstrip().splitlines():
        print(f"  {line}")
    b, a = res.before, res.after
    print(f"{'':24}{'rules only':>14}{'with models':>14}")
    print(f"{'tickets':24}{b.tickets:>14,}{a.tickets:>14,}")
    print(f"{'routing agreement':24}{b.agreement:>14.3f}{a.agreement:>14.3f}   (target >= 0.90 after)")
    print(f"{'escalations written':24}{b.escalated:>14,}{a.escalated:>14,}")
    print(f"{'turned down by the team':24}{b.turned_down:>14,}{a.turned_down:>14,}")
    print(f"{'false-escalation rate':24}{b.false_rate:>14.3f}{a.false_rate:>14.3f}   (target: at most half)")
    print(f"{'leads escalated':24}{b.team_escalated:>14,}{a.team_escalated:>14,}")
    print(f"{'  of which deskwatch not':24}{b.missed:>14,}{a.missed:>14,}")
    print(f"({args.days:g} + {args.days:g} simulated days, {res.seconds:.0f} s wall)")


if __name__ == "__main__":
    sys.exit(main())
