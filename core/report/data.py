"""What the report reads from the store: each ticket of the period with its customer messages,
resolution time, every decision (deskwatch's and people's) and its audit trail.

Read once, in a few queries, into plain dataclasses; the figures (``metrics.py``) are computed
from these alone, so they can be tested without SQL and a figure never re-queries the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from deskwatch.core.model import CLOSED_STATUSES
from deskwatch.core.model.timeutil import format_time, parse_time

ENGINE_ACTOR = "deskwatch"  # as core/store/decisions.py records the engine's decisions
ESCALATING = ("priority", "immediate")  # as core/policy/actions.ESCALATING


@dataclass(frozen=True)
class Target:
    policy: str
    name: str
    state: str


@dataclass(frozen=True)
class DecisionRow:
    at: datetime
    actor: str
    recommendation: str
    tier: str
    team: str | None
    agent: str | None
    on_call: bool
    page: bool
    management: bool
    targets: tuple[Target, ...] = ()

    @property
    def by_engine(self) -> bool:
        return self.actor == ENGINE_ACTOR

    @property
    def escalating(self) -> bool:
        return self.recommendation in ESCALATING


@dataclass(frozen=True)
class AuditRow:
    kind: str
    actor: str
    at: datetime
    data: dict[str, Any]


@dataclass
class TicketFacts:
    id: str
    source: str
    channel: str
    created_at: datetime
    status: str
    tier: str | None  # the customer's account tier (organization), for grouping
    customer_times: tuple[datetime, ...] = ()
    resolved_at: datetime | None = None
    decisions: list[DecisionRow] = field(default_factory=list)
    audits: list[AuditRow] = field(default_factory=list)


@dataclass(frozen=True)
class Period:
    since: datetime | None
    until: datetime | None

    def contains(self, t: datetime) -> bool:
        return (self.since is None or t >= self.since) and (self.until is None or t < self.until)


def load(store: Any, period: Period) -> list[TicketFacts]:
    """The tickets created in ``period`` (not deleted), oldest first, with everything the
    figures need. Reads through ``store.read`` (either store); nothing is written."""
    where, args = "deleted = 0", []
    if period.since is not None:
        where += " AND created_at >= ?"
        args.append(format_time(period.since))
    if period.until is not None:
        where += " AND created_at < ?"
        args.append(format_time(period.until))
    facts: dict[str, TicketFacts] = {}
    for r in store.read(f"SELECT id, source, channel, created_at, updated_at, status, data FROM tickets WHERE {where} "
                      "ORDER BY created_at, id", args):
        data = json.loads(r["data"])
        facts[r["id"]] = TicketFacts(
            id=r["id"], source=r["source"], channel=r["channel"], created_at=parse_time(r["created_at"]),
            status=r["status"], tier=((data.get("organization") or {}).get("tier")),
            resolved_at=_resolved_at(data, r["status"], r["updated_at"]),
        )
    ids = list(facts)
    times: dict[str, list[datetime]] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for m in store.read(f"SELECT ticket_id, created_at FROM messages WHERE author = 'customer' AND ticket_id IN ({marks}) "
                          "ORDER BY ticket_id, seq", chunk):
            times.setdefault(m["ticket_id"], []).append(parse_time(m["created_at"]))
        for d in store.read(f"SELECT ticket_id, decided_at, actor, recommendation, tier, team, agent, data FROM decisions "
                          f"WHERE ticket_id IN ({marks}) ORDER BY id", chunk):
            facts[d["ticket_id"]].decisions.append(_decision(d))
        for a in store.read(f"SELECT ticket_id, kind, actor, at, data FROM audit WHERE ticket_id IN ({marks}) "
                          "AND kind != 'decision' ORDER BY id", chunk):
            facts[a["ticket_id"]].audits.append(AuditRow(a["kind"], a["actor"], parse_time(a["at"]), json.loads(a["data"])))
    for tid, ts in times.items():
        facts[tid].customer_times = tuple(sorted(ts))
    return list(facts.values())


def store_has_history(store: Any) -> bool:
    """True once the store holds at least one ticket with a decision."""
    return bool(store.read("SELECT 1 FROM decisions LIMIT 1"))


def _chunks(ids: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _resolved_at(data: dict[str, Any], status: str, updated_at: str) -> datetime | None:
    for change in data.get("status_history") or ():
        if change.get("status") in CLOSED_STATUSES:
            return parse_time(change["at"])
    # closed without an observed change (closed before the first sync): its last update
    return parse_time(updated_at) if status in CLOSED_STATUSES else None


def _decision(row: Any) -> DecisionRow:
    data = json.loads(row["data"])
    route = data.get("route") or {}
    sla = data.get("sla") or {}
    targets = tuple(Target(sla.get("policy", "?"), name, t.get("state", "?"))
                    for name, t in (sla.get("targets") or {}).items())
    return DecisionRow(
        at=parse_time(row["decided_at"]), actor=row["actor"], recommendation=row["recommendation"], tier=row["tier"],
        team=row["team"], agent=row["agent"], on_call=bool(route.get("on_call")), page=bool(data.get("page")),
        # Written by the management-escalation work: null or {"reasons", "evidence"}; absent before it.
        management=bool(data.get("management")), targets=targets,
    )
