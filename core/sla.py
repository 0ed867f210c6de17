"""SLA engine: which policy applies to a ticket, and how each of its targets stands at ``now``.

Owns the ``sla`` config section (``DEFAULTS`` and ``parse``). Pure: tickets, config and ``now``
in, ``SlaStatus`` out. Business-time arithmetic lives in ``deskwatch.core.calendar``.

Clocks (see docs/sla.md for the worked examples):

* first_response runs from ``created_at`` to the first public agent message;
* next_response runs from the oldest customer message that no public agent reply has answered
  yet (only after the first agent reply: before that, first_response covers the wait) to the
  next public agent reply;
* resolution runs from ``created_at`` until the ticket is solved or closed.

Every clock pauses while the ticket waits on the customer (pending, on_hold) and while it sits
solved or closed before being reopened. A ticket that is solved/closed now has all clocks
stopped (state ``met``; ``elapsed_pct`` over 100 tells that the target was met late).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from deskwatch.core.calendar import (
    Calendar,
    add_business_minutes,
    business_minutes_between,
    calendar_from_config,
)
from deskwatch.core.calendar import in_business_hours as _calendar_in_business_hours
from deskwatch.core.model import CHANNELS, PRIORITIES, SlaStatus, SlaTarget, Ticket
from deskwatch.core.settings import Section

TARGETS = ("first_response", "next_response", "resolution")
PAUSED_STATUSES = ("pending", "on_hold")
STOPPED_STATUSES = ("solved", "closed")

_WEEKDAYS_0930 = ["09:00-17:30"]

DEFAULTS: dict[str, Any] = {
    "default_calendar": "business",
    "warning_at": 0.75,
    "calendars": {
        "business": {
            "timezone": "Europe/London",
            "hours": {
                "mon": list(_WEEKDAYS_0930),
                "tue": list(_WEEKDAYS_0930),
                "wed": list(_WEEKDAYS_0930),
                "thu": list(_WEEKDAYS_0930),
                "fri": list(_WEEKDAYS_0930),
                "sat": [],
                "sun": [],
            },
            "country": "GB",
            "subdivision": "ENG",
            "holidays": [],
        },
    },
    # First match wins; a working day of the default calendar is 510 business minutes.
    "policies": [
        {
            "name": "enterprise-critical",
            "tiers": ["enterprise"],
            "priorities": ["urgent", "high"],
            "first_response": {"minutes": 30, "business": False},
            "next_response": {"minutes": 60, "business": False},
            "resolution": {"minutes": 480, "business": False},
        },
        {
            "name": "urgent",
            "priorities": ["urgent"],
            "first_response": {"minutes": 60, "business": False},
            "next_response": {"minutes": 120, "business": False},
            "resolution": {"minutes": 1440, "business": False},
        },
        {
            "name": "high",
            "priorities": ["high"],
            "first_response": {"minutes": 120, "business": True},
            "next_response": {"minutes": 240, "business": True},
            "resolution": {"minutes": 1020, "business": True},
        },
        {
            "name": "normal",
            "priorities": ["normal"],
            "first_response": {"minutes": 240, "business": True},
            "next_response": {"minutes": 480, "business": True},
            "resolution": {"minutes": 2550, "business": True},
        },
        {
            "name": "low",
            "priorities": ["low"],
            "first_response": {"minutes": 510, "business": True},
            "next_response": {"minutes": 1020, "business": True},
            "resolution": {"minutes": 5100, "business": True},
        },
    ],
}


# ---------------------------------------------------------------------------------------------
# Config


@dataclass(frozen=True)
class TargetSpec:
    minutes: int
    business: bool = True  # business minutes of the policy's calendar, else calendar minutes


@dataclass(frozen=True)
class SlaPolicy:
    name: str
    calendar: str
    targets: Mapping[str, TargetSpec]  # target name -> spec, in TARGETS order
    priorities: tuple[str, ...] = ()  # empty: any; a ticket without priority counts as "normal"
    tiers: tuple[str, ...] = ()  # organization tiers, lower case; empty: any
    channels: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # the ticket carries at least one of them; empty: any
    warning_at: float = 0.75


@dataclass(frozen=True)
class SlaConfig:
    calendars: Mapping[str, Calendar]
    policies: tuple[SlaPolicy, ...]
    default_calendar: str = "business"
    warning_at: float = 0.75

    def calendar(self, name: str | None = None) -> Calendar:
        """The named calendar (the default one when ``name`` is None); KeyError names the choices."""
        key = name or self.default_calendar
        try:
            return self.calendars[key]
        except KeyError:
            raise KeyError(f"unknown SLA calendar {key!r}; known: {', '.join(sorted(self.calendars))}") from None


def _choices(section: Section, name: str, allowed: tuple[str, ...] | None) -> tuple[str, ...]:
    values = tuple(v.strip().lower() for v in section.strings(name, ()))
    if allowed is not None:
        for v in values:
            if v not in allowed:
                raise section.error(name, f"unknown value {v!r}; expected some of {', '.join(allowed)}")
    return values


def _policy(sec: Section, calendars: Mapping[str, Calendar], default_calendar: str, warning_at: float) -> SlaPolicy:
    name = sec.string("name")
    if not name.strip():
        raise sec.error("name", "must not be empty")
    calendar = sec.string("calendar", default_calendar)
    if calendar not in calendars:
        raise sec.error(
            "calendar",
            f'unknown calendar "{calendar}"; define [sla.calendars.{calendar}] or use one of {", ".join(sorted(calendars))}',
        )
    targets: dict[str, TargetSpec] = {}
    for target in TARGETS:
        if not sec.has(target):
            continue
        t = sec.section(target)
        targets[target] = TargetSpec(minutes=t.integer("minutes", min=1), business=t.boolean("business", True))
        t.check_unknown(("minutes", "business"))
    if not targets:
        raise sec.error("", f"no targets; add at least one of {', '.join(TARGETS)} = {{ minutes = 60 }}")
    policy = SlaPolicy(
        name=name,
        calendar=calendar,
        targets=targets,
        priorities=_choices(sec, "priorities", PRIORITIES),
        tiers=_choices(sec, "tiers", None),
        channels=_choices(sec, "channels", CHANNELS),
        tags=_choices(sec, "tags", None),
        warning_at=sec.number("warning_at", warning_at, min=0.01, max=1),
    )
    sec.check_unknown(("name", "calendar", "priorities", "tiers", "channels", "tags", "warning_at", *TARGETS))
    return policy


def parse(section: Section) -> SlaConfig:
    """Validate the ``[sla]`` section; ConfigError names the key (e.g. sla.calendars.x.timezone)."""
    warning_at = section.number("warning_at", DEFAULTS["warning_at"], min=0.01, max=1)
    cal_section = section.section("calendars", DEFAULTS["calendars"])
    calendars = {name: calendar_from_config(name, sub) for name, sub in cal_section.subsections()}
    if not calendars:
        raise section.error("calendars", "no calendars; define at least [sla.calendars.business]")
    default_calendar = section.string("default_calendar", DEFAULTS["default_calendar"])
    if default_calendar not in calendars:
        raise section.error(
            "default_calendar", f'unknown calendar "{default_calendar}"; known: {", ".join(sorted(calendars))}'
        )
    policies = tuple(
        _policy(p, calendars, default_calendar, warning_at) for p in section.sections("policies", DEFAULTS["policies"])
    )
    seen: set[str] = set()
    for i, p in enumerate(policies):
        if p.name in seen:
            raise section.error(f"policies[{i}].name", f'duplicate policy name "{p.name}"')
        seen.add(p.name)
    section.check_unknown(("warning_at", "calendars", "default_calendar", "policies"))
    return SlaConfig(calendars=calendars, policies=policies, default_calendar=default_calendar, warning_at=warning_at)


# ---------------------------------------------------------------------------------------------
# Matching


def match_policy(ticket: Ticket, config: SlaConfig) -> SlaPolicy | None:
    """The first policy whose every non-empty condition holds for the ticket, else None."""
    priority = (ticket.priority or "normal").lower()
    tier = (ticket.organization.tier or "").lower() if ticket.organization else ""
    tags = {t.lower() for t in ticket.tags}
    for p in config.policies:
        if p.priorities and priority not in p.priorities:
            continue
        if p.tiers and tier not in p.tiers:
            continue
        if p.channels and ticket.channel.lower() not in p.channels:
            continue
        if p.tags and not tags.intersection(p.tags):
            continue
        return p
    return None


def in_business_hours(config: SlaConfig | Calendar, t: datetime, calendar: str | None = None) -> bool:
    """Whether ``t`` is inside working time of the named calendar (the default when None).

    Routing uses it for the after-hours rule. Raises KeyError for an unknown calendar name.
    """
    cal = config if isinstance(config, Calendar) else config.calendar(calendar)
    return _calendar_in_business_hours(cal, t)


# ---------------------------------------------------------------------------------------------
# Clocks

# A pause: (start, end); end None means the ticket is still in that state at ``now``.
Pause = tuple[datetime, "datetime | None"]


@dataclass(frozen=True)
class _Timeline:
    pauses: tuple[Pause, ...]  # pending/on_hold, and solved/closed spells that were reopened
    stopped_at: datetime | None  # the ticket is solved/closed now, since this instant


def _timeline(ticket: Ticket, now: datetime) -> _Timeline:
    """Status spells from ``status_history`` (plus the current status) turned into pauses."""
    spells = [("open", ticket.created_at)]
    for change in sorted(ticket.status_history, key=lambda c: c.at):
        at = min(max(change.at, ticket.created_at), now)
        spells.append((change.status, at))
    if spells[-1][0] != ticket.status:
        # No (or stale) history: the current status holds since the last update we know of.
        at = min(max(ticket.updated_at, spells[-1][1]), now)
        spells.append((ticket.status, at))
    pauses: list[Pause] = []
    stopped_at = None
    for i, (status, at) in enumerate(spells):
        end = spells[i + 1][1] if i + 1 < len(spells) else None
        if status in STOPPED_STATUSES and end is None:
            stopped_at = at
        elif status in PAUSED_STATUSES or status in STOPPED_STATUSES:
            if end is not None and end <= at:
                continue
            if pauses and pauses[-1][1] == at:  # pending -> on_hold: one continuous pause
                at = pauses.pop()[0]
            pauses.append((at, end))
    return _Timeline(tuple(pauses), stopped_at)


@dataclass(frozen=True)
class _Clock:
    start: datetime
    stop: datetime | None  # when the target was met (or the ticket solved), if it was


@dataclass
class _Meter:
    """Measures and advances time on one target's scale: business minutes of a calendar, or
    plain minutes."""

    calendar: Calendar
    business: bool

    def measure(self, a: datetime, b: datetime) -> float:
        if b <= a:
            return 0.0
        if self.business:
            return business_minutes_between(self.calendar, a, b)
        return (b - a).total_seconds() / 60.0

    def advance(self, a: datetime, minutes: float) -> datetime:
        if self.business:
            return add_business_minutes(self.calendar, a, minutes)
        return (a + timedelta(minutes=minutes)).astimezone(timezone.utc)


def _elapsed(meter: _Meter, start: datetime, end: datetime, pauses: tuple[Pause, ...]) -> float:
    """Minutes counted from ``start`` to ``end``, leaving out pauses."""
    total, t = 0.0, start
    for a, b in pauses:
        b_eff = end if b is None else min(b, end)
        if b_eff <= t:
            continue
        if a >= end:
            break
        if a > t:
            total += meter.measure(t, a)
        t = b_eff
    if t < end:
        total += meter.measure(t, end)
    return total


def _due(meter: _Meter, start: datetime, minutes: float, pauses: tuple[Pause, ...]) -> datetime | None:
    """The instant the target runs out, given the pauses; None when it would run out only
    after an open-ended pause (unknown resume time)."""
    remaining, t = float(minutes), start
    for a, b in pauses:
        if b is not None and b <= t:
            continue
        if a > t:
            used = meter.measure(t, a)
            if used >= remaining:
                return meter.advance(t, remaining)
            remaining -= used
        if b is None:
            return None
        t = max(t, b)
    return meter.advance(t, remaining)


def _target(
    name: str, spec: TargetSpec, clock: _Clock, pauses: tuple[Pause, ...], policy: SlaPolicy, cal: Calendar, now: datetime
) -> SlaTarget:
    meter = _Meter(cal, spec.business)
    met = clock.stop is not None and clock.stop <= now
    end = clock.stop if met else now
    elapsed = _elapsed(meter, clock.start, end, pauses)
    if met:
        # The due instant as it stood when the clock stopped: later pauses do not matter.
        due_pauses = tuple((a, b if b is not None and b < end else end) for a, b in pauses if a < end)
    else:
        due_pauses = pauses
    due_at = _due(meter, clock.start, spec.minutes, due_pauses)
    paused_now = any(b is None and a <= now for a, b in pauses)
    if met:
        state = "met"
    elif elapsed >= spec.minutes:
        state = "breached"
    elif paused_now:
        state = "paused"
    elif elapsed >= policy.warning_at * spec.minutes:
        state = "warning"
    else:
        state = "ok"
    return SlaTarget(
        name=name,
        due_at=due_at,
        elapsed_pct=100.0 * elapsed / spec.minutes,
        state=state,
        business=spec.business,
        minutes=spec.minutes,
    )


def _first_agent_reply(ticket: Ticket, after: datetime) -> datetime | None:
    times = [m.created_at for m in ticket.messages if m.author == "agent" and m.public and m.created_at >= after]
    return min(times) if times else None


def _next_response_clock(ticket: Ticket, first_reply: datetime) -> tuple[datetime, datetime | None] | None:
    """(oldest unanswered customer message, the agent reply answering it or None). When nobody
    waits, the last answered wait; None when the customer never wrote after the first reply."""
    waiting: datetime | None = None
    last: tuple[datetime, datetime | None] | None = None
    for m in sorted(ticket.messages, key=lambda m: m.created_at):
        if m.created_at <= first_reply:
            continue
        if m.author == "customer" and waiting is None:
            waiting = m.created_at
        elif m.author == "agent" and m.public and waiting is not None:
            last, waiting = (waiting, m.created_at), None
    if waiting is not None:
        return waiting, None
    return last


def evaluate(ticket: Ticket, config: SlaConfig, now: datetime) -> SlaStatus | None:
    """The SLA status of ``ticket`` at ``now`` under the first matching policy (None: no policy).

    Targets appear in TARGETS order; next_response only once an agent has replied and the
    customer wrote again.
    """
    policy = match_policy(ticket, config)
    if policy is None:
        return None
    cal = config.calendar(policy.calendar)
    line = _timeline(ticket, now)
    solved = line.stopped_at
    targets: list[SlaTarget] = []
    first_reply = _first_agent_reply(ticket, ticket.created_at)
    for name, spec in policy.targets.items():
        if name == "first_response":
            stop = _earliest(first_reply, solved)
            clock = _Clock(ticket.created_at, stop)
        elif name == "next_response":
            if first_reply is None:
                continue
            wait = _next_response_clock(ticket, first_reply)
            if wait is None:
                continue
            clock = _Clock(wait[0], _earliest(wait[1], solved))
        else:
            clock = _Clock(ticket.created_at, solved)
        targets.append(_target(name, spec, clock, line.pauses, policy, cal, now))
    return SlaStatus(policy=policy.name, targets=tuple(targets))


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)
