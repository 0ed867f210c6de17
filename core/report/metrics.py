"""The report's figures, each with the number of tickets it rests on.

Input: ``Outcome``s (outcomes.py) of the tickets created in the period, and the business
calendar that tells night from day for the alarm load. Output: a ``Report`` of plain values
that ``render.py`` prints as a table, JSON or CSV.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable, Iterable, Sequence

from deskwatch.core.report.data import ENGINE_ACTOR, TicketFacts
from deskwatch.core.report.outcomes import Outcome, outcome

GROUPINGS = ("team", "tier", "source", "channel", "week")


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: float | None  # None: nothing to compute it from
    unit: str  # "%", "min", "h", "count", "per night"
    n: int  # tickets it rests on
    how: str  # one line; docs/report.md has the full rule


@dataclass(frozen=True)
class Point:
    label: str  # a week (its Monday) or a group
    value: float | None
    n: int


@dataclass
class Report:
    since: str | None
    until: str | None
    tickets: int
    figures: list[Figure] = field(default_factory=list)
    breakdowns: dict[str, list[Point]] = field(default_factory=dict)  # "escalation rate by team" -> points
    trends: dict[str, list[Point]] = field(default_factory=dict)  # by week
    sla: list[Point] = field(default_factory=list)  # one per policy/target
    pages: list[dict] = field(default_factory=list)  # per on-call person
    groups: list[dict] = field(default_factory=list)  # --by: main figures per group


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def median_minutes(deltas: Iterable[timedelta | None]) -> tuple[float | None, int]:
    vals = [d.total_seconds() / 60 for d in deltas if d is not None]
    return (round(statistics.median(vals), 1) if vals else None), len(vals)


def week_of(t: datetime) -> str:
    return (t.date() - timedelta(days=t.weekday())).isoformat()


def build(
    facts: Sequence[TicketFacts], *, since: str | None, until: str | None,
    is_business: Callable[[datetime], bool], night_of: Callable[[datetime], date], by: str | None = None,
) -> Report:
    """Every figure over ``facts`` (the tickets created in the period)."""
    outs = [outcome(t) for t in facts]
    rep = Report(since, until, len(outs))
    rep.figures = headline(outs)
    for dim in ("tier", "team", "source", "channel"):
        rep.breakdowns[f"escalation rate by {dim}"] = [
            Point(g, rate, n) for g, (rate, n) in sorted(_by(outs, dim, _esc_rate).items())
        ]
    rep.breakdowns["escalations: functional vs management"] = _kinds(outs)
    rep.trends = trends(outs, facts)
    rep.sla = sla_attainment(outs)
    rep.pages = alarm_load(facts, is_business, night_of)
    if by:
        rep.groups = grouped(outs, by)
    return rep


def headline(outs: Sequence[Outcome]) -> list[Figure]:
    decided = [o for o in outs if o.decided]
    esc = [o for o in decided if o.escalated]
    by_people = [o for o in outs if o.person_escalated_at is not None]
    false = sum(o.false_escalation for o in esc)
    misses = sum(o.miss for o in by_people)
    to_esc, n_esc = median_minutes(o.to_escalation for o in esc)
    to_ack, n_ack = median_minutes(o.to_acknowledgment for o in esc)
    res_esc, n_res_esc = median_minutes(o.to_resolution for o in esc)
    other = [o for o in decided if not o.escalated]
    res_other, n_res_other = median_minutes(o.to_resolution for o in other)
    re_esc = sum(o.escalations > 1 for o in outs if o.escalations)
    n_up = sum(1 for o in outs if o.escalations)
    return [
        Figure("escalation_rate", "escalation rate", pct(len(esc), len(decided)), "%", len(decided),
               "tickets deskwatch escalated (priority or immediate) / tickets it decided"),
        Figure("escalated", "tickets escalated by deskwatch", float(len(esc)), "count", len(decided),
               "tickets with at least one escalating deskwatch decision"),
        Figure("time_to_escalation", "time to escalation (median)", to_esc, "min", n_esc,
               "last customer message at or before deskwatch's first escalating decision -> that decision"),
        Figure("time_to_acknowledgment", "escalation to acknowledgment (median)", to_ack, "min", n_ack,
               "deskwatch's first escalating decision -> first acknowledgment after it"),
        Figure("false_escalation_rate", "false escalations", pct(false, len(esc)), "%", len(esc),
               "escalated tickets a person overrode down or rejected in review / escalated tickets"),
        Figure("misses", "misses", pct(misses, len(by_people)), "%", len(by_people),
               "tickets a person escalated before deskwatch did (or without it) / tickets people escalated"),
        Figure("routing_accuracy", "routing accuracy", pct(sum(not o.rerouted for o in esc), len(esc)), "%", len(esc),
               "escalated tickets no person escalated to another team or agent afterwards / escalated tickets"),
        Figure("re_escalations", "re-escalations", pct(re_esc, n_up), "%", n_up,
               "tickets that went into escalation more than once / tickets that went into escalation"),
        Figure("resolution_escalated", "time to resolution, escalated (median)", _hours(res_esc), "h", n_res_esc,
               "created -> first solved/closed status, tickets deskwatch escalated"),
        Figure("resolution_other", "time to resolution, not escalated (median)", _hours(res_other), "h", n_res_other,
               "created -> first solved/closed status, tickets deskwatch decided and did not escalate"),
    ]


def _hours(minutes: float | None) -> float | None:
    return round(minutes / 60, 1) if minutes is not None else None


def _esc_rate(outs: Sequence[Outcome]) -> tuple[float | None, int]:
    decided = [o for o in outs if o.decided]
    return pct(sum(o.escalated for o in decided), len(decided)), len(decided)


def _key(o: Outcome, dim: str) -> str:
    if dim == "week":
        return week_of(o.facts.created_at)
    if dim == "source":
        return o.facts.source
    if dim == "channel":
        return o.facts.channel
    value = o.team if dim == "team" else o.tier
    return value or "-"


def _by(outs: Sequence[Outcome], dim: str, fn: Callable) -> dict[str, tuple]:
    groups: dict[str, list[Outcome]] = {}
    for o in outs:
        groups.setdefault(_key(o, dim), []).append(o)
    return {g: fn(members) for g, members in groups.items()}


def _kinds(outs: Sequence[Outcome]) -> list[Point]:
    esc = [o for o in outs if o.escalated]
    mgmt = sum(o.management for o in esc)
    return [Point("functional", pct(len(esc) - mgmt, len(esc)), len(esc) - mgmt),
            Point("management", pct(mgmt, len(esc)), mgmt)]


def trends(outs: Sequence[Outcome], facts: Sequence[TicketFacts]) -> dict[str, list[Point]]:
    """Week by week (the Monday of the ticket's creation; reviews by the week they were made)."""
    weeks = sorted({week_of(o.facts.created_at) for o in outs})
    by_week: dict[str, list[Outcome]] = {w: [] for w in weeks}
    for o in outs:
        by_week[week_of(o.facts.created_at)].append(o)
    esc_rate, false_rate, sla = [], [], []
    for w in weeks:
        rate, n = _esc_rate(by_week[w])
        esc_rate.append(Point(w, rate, n))
        esc = [o for o in by_week[w] if o.escalated]
        false_rate.append(Point(w, pct(sum(o.false_escalation for o in esc), len(esc)), len(esc)))
        met, total = _sla_counts(by_week[w])
        sla.append(Point(w, pct(met, total), total))
    reviews: dict[str, list[bool]] = {}
    for t in facts:
        for a in t.audits:
            if a.kind == "feedback" and a.actor != ENGINE_ACTOR:
                reviews.setdefault(week_of(a.at), []).append(bool(a.data.get("accept")))
    agreement = [Point(w, pct(sum(v), len(v)), len(v)) for w, v in sorted(reviews.items())]
    return {"escalation rate": esc_rate, "false escalations": false_rate, "SLA attainment": sla,
            "agreement with reviews": agreement}


def _target_results(o: Outcome) -> dict[tuple[str, str], bool]:
    """(policy, target) -> attained, for each target deskwatch's decisions tracked: attained
    unless some decision found it breached."""
    out: dict[tuple[str, str], bool] = {}
    for d in o.facts.decisions:
        for t in d.targets:
            key = (t.policy, t.name)
            out[key] = out.get(key, True) and t.state != "breached"
    return out


def _sla_counts(outs: Iterable[Outcome]) -> tuple[int, int]:
    met = total = 0
    for o in outs:
        for ok in _target_results(o).values():
            met += ok
            total += 1
    return met, total


def sla_attainment(outs: Sequence[Outcome]) -> list[Point]:
    counts: dict[str, list[int]] = {}
    for o in outs:
        for (policy, name), ok in _target_results(o).items():
            c = counts.setdefault(f"{policy} / {name.replace('_', ' ')}", [0, 0])
            c[0] += ok
            c[1] += 1
    return [Point(k, pct(met, total), total) for k, (met, total) in sorted(counts.items())]


def alarm_load(facts: Sequence[TicketFacts], is_business: Callable[[datetime], bool],
               night_of: Callable[[datetime], date]) -> list[dict]:
    """Pages per on-call person per night: deskwatch decisions that route to an on-call person
    (or say ``page``) outside business hours; a ticket pages the same person once."""
    nights: dict[str, dict[date, set[str]]] = {}
    for t in facts:
        for d in t.decisions:
            if d.actor != ENGINE_ACTOR or not (d.on_call or d.page) or is_business(d.at):
                continue
            who = d.agent or f"team {d.team or '-'}"
            if any(t.id in tickets for tickets in nights.get(who, {}).values()):
                continue
            nights.setdefault(who, {}).setdefault(night_of(d.at), set()).add(t.id)
    rows = []
    for who, per_night in sorted(nights.items()):
        counts = [len(v) for v in per_night.values()]
        rows.append({"person": who, "pages": sum(counts), "nights": len(counts),
                     "per_night": round(sum(counts) / len(counts), 2), "worst_night": max(counts),
                     "worst_night_date": max(per_night, key=lambda k: (len(per_night[k]), k)).isoformat()})
    return rows


def grouped(outs: Sequence[Outcome], dim: str) -> list[dict]:
    """The main figures per group of ``dim`` (team, tier, source, channel or week)."""
    rows = []
    for g, members in sorted(_by(outs, dim, lambda m: m).items()):
        figs = {f.key: f for f in headline(members)}
        met, total = _sla_counts(members)
        rows.append({
            dim: g, "tickets": len(members),
            "escalation_rate": figs["escalation_rate"].value, "escalated": int(figs["escalated"].value or 0),
            "false_escalation_rate": figs["false_escalation_rate"].value, "misses": figs["misses"].value,
            "routing_accuracy": figs["routing_accuracy"].value, "sla_attainment": pct(met, total),
        })
    return rows
