"""Comparing replayed timelines: a candidate config against the active one and against what
people did (the figures of ``deskwatch replay``, docs/replay.md)."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from deskwatch.core.model import RECOMMENDATIONS, Decision
from deskwatch.core.model.timeutil import format_time
from deskwatch.core.report.data import ENGINE_ACTOR, ESCALATING, TicketFacts
from deskwatch.core.report.render import bar
from deskwatch.core.report.replay import Timeline


@dataclass(frozen=True)
class People:
    """What people did on a ticket: escalated it (when), or said it was not worth escalating."""

    escalated_at: datetime | None
    not_worthy: bool


def people_from(facts: Sequence[TicketFacts]) -> dict[str, People]:
    """From the store's audit log: escalate / override up; override down / a rejected review of
    an escalating decision."""
    out = {}
    for t in facts:
        up = [a.at for a in t.audits if a.actor != ENGINE_ACTOR and (
            a.kind == "escalate" or (a.kind == "override" and a.data.get("to") in ESCALATING))]
        down = any(a.actor != ENGINE_ACTOR and (
            (a.kind == "override" and a.data.get("to") not in ESCALATING)
            or (a.kind == "feedback" and not a.data.get("accept") and a.data.get("recommendation") in ESCALATING))
            for a in t.audits)
        out[t.id] = People(min(up) if up else None, down)
    return out


@dataclass
class ConfigSummary:
    label: str
    escalation_rate: float | None
    escalated: int
    pages_per_week: float | None
    pages: int
    false_escalations: int | None  # None: no people's actions to compare with
    misses: int | None
    earlier_minutes_median: float | None  # negative: before the person
    earlier: int
    later: int
    compared_with_people: int


@dataclass(frozen=True)
class Change:
    ticket_id: str
    at: str
    active: str
    candidate: str
    signal: str  # the signal whose contribution changed most, or why nothing did
    detail: str


@dataclass
class Comparison:
    tickets: int
    steps: int
    labels: tuple[str, ...]
    summaries: list[ConfigSummary] = field(default_factory=list)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)  # active rec -> candidate rec -> tickets
    changes: list[Change] = field(default_factory=list)
    people_tickets: int = 0


def _rank(rec: str) -> int:
    return RECOMMENDATIONS.index(rec) if rec in RECOMMENDATIONS else -1


def highest(steps) -> str:
    return max((s.decision.recommendation for s in steps), key=_rank, default="none")


def first_escalation(steps):
    return next((s for s in steps if s.decision.recommendation in ESCALATING), None)


class _Tally:
    """One config's running figures, each ticket folded in as it comes (its steps then dropped)."""

    def __init__(self, label: str, people: dict[str, People]):
        self.label, self.people = label, people
        self.tickets = self.escalated = self.false = self.misses = self.compared = 0
        self.pages_by_week: dict[str, int] = {}
        self.weeks: set[str] = set()
        self.deltas: list[float] = []  # minutes from the person's escalation, one per such ticket

    def add(self, tl: Timeline) -> None:
        steps = tl.steps[self.label]
        self.tickets += 1
        for s in steps:
            self.weeks.add(_week(s.at))
        first = first_escalation(steps)
        if first is not None:
            self.escalated += 1
            route = first.decision.route
            if (route is not None and route.on_call) or getattr(first.decision, "page", False):
                self.pages_by_week[_week(first.at)] = self.pages_by_week.get(_week(first.at), 0) + 1
        p = self.people.get(tl.ticket.id)
        if p is None:
            return
        self.compared += 1
        if first is not None and p.not_worthy and p.escalated_at is None:
            self.false += 1
        if p.escalated_at is not None:
            if first is None or first.at > p.escalated_at:
                self.misses += 1
            if first is not None:
                self.deltas.append((first.at - p.escalated_at).total_seconds() / 60)

    def summary(self) -> ConfigSummary:
        n, deltas, pages = self.tickets, self.deltas, sum(self.pages_by_week.values())
        has_people = bool(self.people)
        return ConfigSummary(
            label=self.label, escalation_rate=round(100 * self.escalated / n, 1) if n else None,
            escalated=self.escalated,
            pages_per_week=round(pages / len(self.weeks), 2) if self.weeks else None, pages=pages,
            false_escalations=self.false if has_people else None, misses=self.misses if has_people else None,
            earlier_minutes_median=round(statistics.median(deltas), 1) if deltas else None,
            earlier=sum(d < 0 for d in deltas), later=sum(d > 0 for d in deltas), compared_with_people=self.compared,
        )


def summarize(label: str, timelines: Iterable[Timeline], people: dict[str, People]) -> ConfigSummary:
    """One config's figures over ``timelines`` (read once)."""
    tally = _Tally(label, people)
    for tl in timelines:
        tally.add(tl)
    return tally.summary()


def _week(t: datetime) -> str:
    return (t.date() - timedelta(days=t.weekday())).isoformat()


def why_changed(a: Decision, b: Decision) -> tuple[str, str]:
    """The signal whose contribution moved most between ``a`` and ``b``, and by how much."""
    ca = {s.name: s.contribution for s in a.signals}
    cb = {s.name: s.contribution for s in b.signals}
    names = sorted(set(ca) | set(cb), key=lambda k: (-abs(cb.get(k, 0.0) - ca.get(k, 0.0)), k))
    if names and abs(cb.get(names[0], 0.0) - ca.get(names[0], 0.0)) > 1e-9:
        k = names[0]
        return k, f"{k} {ca.get(k, 0.0):.1f} -> {cb.get(k, 0.0):.1f} points (score {a.score:.1f} -> {b.score:.1f})"
    return "thresholds", (f"same signals and score ({a.score:.1f} -> {b.score:.1f}): the candidate's thresholds "
                          f"or rules make it {b.recommendation}")


def compare(timelines: Iterable[Timeline], people: dict[str, People], active: str, candidate: str) -> Comparison:
    """The candidate against the active config and people, reading ``timelines`` once: each
    ticket is folded into the counters as it comes, so a stream (``replay_iter``) is compared
    without holding its decisions."""
    labels = (active, candidate) if candidate != active else (active,)
    tallies = [_Tally(label, people) for label in labels]
    cmp = Comparison(tickets=0, steps=0, labels=labels, people_tickets=len(people))
    cmp.confusion = {r: {c: 0 for c in RECOMMENDATIONS} for r in RECOMMENDATIONS}
    changes: list[tuple[int, Change]] = []  # with the input place: ties sort as the input came
    for tl in timelines:
        cmp.tickets += 1
        cmp.steps += len(tl.steps[active])
        for tally in tallies:
            tally.add(tl)
        a_steps, b_steps = tl.steps[active], tl.steps[candidate]
        ha, hb = highest(a_steps), highest(b_steps)
        cmp.confusion[ha][hb] += 1
        if ha == hb:
            continue
        for sa, sb in zip(a_steps, b_steps):
            if sa.decision.recommendation != sb.decision.recommendation:
                signal, detail = why_changed(sa.decision, sb.decision)
                changes.append((tl.order, Change(tl.ticket.id, format_time(sa.at), ha, hb, signal, detail)))
                break
    changes.sort(key=lambda oc: (-abs(_rank(oc[1].candidate) - _rank(oc[1].active)), oc[1].ticket_id, oc[0]))
    cmp.changes = [c for _, c in changes]
    cmp.summaries = [tally.summary() for tally in tallies]
    return cmp


def to_json(cmp: Comparison) -> str:
    return json.dumps(asdict(cmp), indent=2, ensure_ascii=False) + "\n"


def table(cmp: Comparison, show: int = 20) -> str:
    lines = [f"replayed {cmp.tickets} tickets, {cmp.steps} customer messages, each decided as it stood then"]
    if cmp.people_tickets:
        lines.append(f"compared with people's actions on {cmp.people_tickets} tickets (the store's audit log)")
    else:
        lines.append("no people's actions to compare with (an export): false escalations and misses are n/a")
    head = f"  {'':<34}" + "".join(f"{s.label:>14}" for s in cmp.summaries)
    lines += ["", head]

    def row(name, values):
        lines.append(f"  {name:<34}" + "".join(f"{v:>14}" for v in values))

    fmt = lambda v, suffix="": "n/a" if v is None else f"{v}{suffix}"  # noqa: E731
    row("escalation rate", [fmt(s.escalation_rate, "%") for s in cmp.summaries])
    row("tickets escalated", [s.escalated for s in cmp.summaries])
    row("pages per week (on-call)", [fmt(s.pages_per_week) for s in cmp.summaries])
    row("false escalations (vs people)", [fmt(s.false_escalations) for s in cmp.summaries])
    row("misses (vs people)", [fmt(s.misses) for s in cmp.summaries])
    row("escalated vs person, median min", [fmt(s.earlier_minutes_median) for s in cmp.summaries])
    row("  earlier / later than a person", [f"{s.earlier} / {s.later}" for s in cmp.summaries])
    if len(cmp.labels) == 2:
        a, b = cmp.labels
        lines += ["", f"Confusion of the highest recommendation reached (rows {a}, columns {b})",
                  f"  {'':<12}" + "".join(f"{c:>11}" for c in RECOMMENDATIONS)]
        total = max(1, cmp.tickets)
        for r in RECOMMENDATIONS:
            cells = cmp.confusion[r]
            lines.append(f"  {r:<12}" + "".join(f"{cells[c]:>11}" for c in RECOMMENDATIONS)
                         + f"   {bar(100 * sum(cells.values()) / total)}")
        lines += ["", f"{len(cmp.changes)} ticket(s) whose decision changed"
                  + (f" (the first {show}; --format json lists all)" if len(cmp.changes) > show else "")]
        for c in cmp.changes[:show]:
            lines.append(f"  {c.ticket_id:<30} {c.active:>9} -> {c.candidate:<9} at {c.at}  {c.detail}")
    return "\n".join(lines) + "\n"
