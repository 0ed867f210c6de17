"""Comparing replayed timelines: a candidate config against the active one and against what
people did (the figures of ``deskwatch replay``, docs/replay.md)."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Sequence

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


def summarize(label: str, timelines: Sequence[Timeline], people: dict[str, People]) -> ConfigSummary:
    escalated = 0
    pages_by_week: dict[str, int] = {}
    false = misses = 0
    deltas: list[float] = []
    compared = 0
    weeks = set()
    for tl in timelines:
        steps = tl.steps[label]
        for s in steps:
            weeks.add(_week(s.at))
        first = first_escalation(steps)
        if first is not None:
            escalated += 1
            route = first.decision.route
            if (route is not None and route.on_call) or getattr(first.decision, "page", False):
                pages_by_week[_week(first.at)] = pages_by_week.get(_week(first.at), 0) + 1
        p = people.get(tl.ticket.id)
        if p is None:
            continue
        compared += 1
        if first is not None and p.not_worthy and p.escalated_at is None:
            false += 1
        if p.escalated_at is not None:
            if first is None or first.at > p.escalated_at:
                misses += 1
            if first is not None:
                deltas.append((first.at - p.escalated_at).total_seconds() / 60)
    n = len(timelines)
    has_people = bool(people)
    return ConfigSummary(
        label=label, escalation_rate=round(100 * escalated / n, 1) if n else None, escalated=escalated,
        pages_per_week=round(sum(pages_by_week.values()) / len(weeks), 2) if weeks else None,
        pages=sum(pages_by_week.values()),
        false_escalations=false if has_people else None, misses=misses if has_people else None,
        earlier_minutes_median=round(statistics.median(deltas), 1) if deltas else None,
        earlier=sum(d < 0 for d in deltas), later=sum(d > 0 for d in deltas), compared_with_people=compared,
    )


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


def compare(timelines: Sequence[Timeline], people: dict[str, People], active: str, candidate: str) -> Comparison:
    labels = (active, candidate) if candidate != active else (active,)
    cmp = Comparison(tickets=len(timelines), steps=sum(len(tl.steps[active]) for tl in timelines), labels=labels,
                     people_tickets=len(people))
    cmp.summaries = [summarize(label, timelines, people) for label in labels]
    cmp.confusion = {r: {c: 0 for c in RECOMMENDATIONS} for r in RECOMMENDATIONS}
    for tl in timelines:
        a_steps, b_steps = tl.steps[active], tl.steps[candidate]
        ha, hb = highest(a_steps), highest(b_steps)
        cmp.confusion[ha][hb] += 1
        if ha == hb:
            continue
        for sa, sb in zip(a_steps, b_steps):
            if sa.decision.recommendation != sb.decision.recommendation:
                signal, detail = why_changed(sa.decision, sb.decision)
                cmp.changes.append(Change(tl.ticket.id, format_time(sa.at), ha, hb, signal, detail))
                break
    cmp.changes.sort(key=lambda c: (-abs(_rank(c.candidate) - _rank(c.active)), c.ticket_id))
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
