"""SLA engine: which policy applies to a ticket, and how each of its targets stands at ``now``.

Owns the ``sla`` config section (``DEFAULTS`` and ``parse``). Pure: tickets, config and ``now``
in, ``SlaStatus`` out. Business-time arithmetic lives in ``deskwatch.core.policy.calendar``.

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

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from operator import attrgetter
from typing import Any, Mapping

from deskwatch.core.policy.calendar import (
    Calendar,
    add_business_minutes,
    add_business_seconds,
    business_minutes_between,
    business_seconds_between,
    business_seconds_since,
    calendar_from_config,
)
from deskwatch.core.policy.calendar import in_business_hours as _calendar_in_business_hours
from deskwatch.core.model import CHANNELS, PRIORITIES, SlaStatus, SlaTarget, Ticket
from deskwatch.core.model.settings import Section

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
    # match_policy's answers by (priority, tier, channel, tags): tickets repeat a few of them.
    # Not an init field, so dataclasses.replace starts a copy with policies of its own afresh.
    _matches: dict = field(default_factory=dict, init=False, compare=False, hash=False, repr=False)

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
    org = ticket.organization
    key = (ticket.priority, org.tier if org else None, ticket.channel, ticket.tags)
    matches = config._matches
    try:
        return matches[key]
    except KeyError:
        pass
    found = _first_match(ticket, config.policies)
    if len(matches) >= 1024:  # bound memory: tags can make many keys
        matches.clear()
    matches[key] = found
    return found


def _first_match(ticket: Ticket, policies: tuple[SlaPolicy, ...]) -> SlaPolicy | None:
    priority = (ticket.priority or "normal").lower()
    tier = (ticket.organization.tier or "").lower() if ticket.organization else ""
    tags = {t.lower() for t in ticket.tags}
    for p in policies:
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


_BY_AT = attrgetter("at")
_BY_CREATED = attrgetter("created_at")


def _timeline(ticket: Ticket, now: datetime) -> tuple[tuple[Pause, ...], datetime | None]:
    """Status spells from ``status_history`` (plus the current status) turned into pauses
    (pending/on_hold, and solved/closed spells that were reopened), and the instant since which
    the ticket is solved/closed now (None when it is not)."""
    created = ticket.created_at
    if not ticket.status_history:
        # The common case, short-cut: "open" since creation, then the current status (if it
        # differs) since the last update; the general loop below gives the same.
        status = ticket.status
        if status == "open":
            return (), None
        at = min(max(ticket.updated_at, created), now)
        if status in STOPPED_STATUSES:
            return (), at
        if status in PAUSED_STATUSES:
            return ((at, None),), None
        return (), None
    spells = [("open", created)]
    for change in sorted(ticket.status_history, key=_BY_AT):
        at = min(max(change.at, created), now)
        spells.append((change.status, at))
    if spells[-1][0] != ticket.status:
        # No (or stale) history: the current status holds since the last update we know of.
        at = min(max(ticket.updated_at, spells[-1][1]), now)
        spells.append((ticket.status, at))
    pauses: list[Pause] = []
    stopped_at = None
    last = len(spells) - 1
    for i, (status, at) in enumerate(spells):
        end = spells[i + 1][1] if i < last else None
        if status in STOPPED_STATUSES and end is None:
            stopped_at = at
        elif status in PAUSED_STATUSES or status in STOPPED_STATUSES:
            if end is not None and end <= at:
                continue
            if pauses and pauses[-1][1] == at:  # pending -> on_hold: one continuous pause
                at = pauses.pop()[0]
            pauses.append((at, end))
    return tuple(pauses), stopped_at


class _Meter:
    """Measures and advances time on one target's scale: business minutes of a calendar, or
    plain minutes. (``_target`` does business time without pauses itself.)

    Business time goes through the calendar's POSIX-seconds functions, the same arithmetic as
    its minute ones without the conversions' checks, which the aware-ness test here covers.
    """

    __slots__ = ("calendar", "business", "_last")

    def __init__(self, calendar: Calendar, business: bool):
        self.calendar = calendar
        self.business = business
        # _elapsed and _due both measure up to a pause: keep the last business span measured.
        self._last: tuple[datetime, datetime, float] | None = None

    def measure(self, a: datetime, b: datetime) -> float:
        if b <= a:
            return 0.0
        if not self.business:
            return (b - a).total_seconds() / 60.0
        last = self._last
        if last is not None and last[0] is a and last[1] is b:
            return last[2]
        if a.tzinfo is None or b.tzinfo is None:
            return business_minutes_between(self.calendar, a, b)  # raises, naming the time
        got = business_seconds_between(self.calendar, a.timestamp(), b.timestamp()) / 60.0
        self._last = (a, b, got)
        return got

    def advance(self, a: datetime, minutes: float) -> datetime:
        if not self.business:
            return (a + timedelta(minutes=minutes)).astimezone(timezone.utc)
        if minutes <= 0 or a.tzinfo is None:
            return add_business_minutes(self.calendar, a, minutes)
        return _utc(add_business_seconds(self.calendar, a.timestamp(), minutes * 60.0))


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


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
    name: str,
    spec: TargetSpec,
    start: datetime,
    stop: datetime | None,  # when the target was met (or the ticket solved), if it was
    pauses: tuple[Pause, ...],
    warning_at: float,
    cal: Calendar,
    now: datetime,
    paused_now: bool,
    stamps: tuple[datetime, float, float] | None,  # (created_at, its timestamp, now's), if aware
) -> SlaTarget:
    minutes = spec.minutes
    met = stop is not None and stop <= now
    end = stop if met else now
    if pauses or not spec.business or stamps is None or end <= start:
        meter = _Meter(cal, spec.business)
        elapsed = _elapsed(meter, start, end, pauses)
        if met and pauses:
            # The due instant as it stood when the clock stopped: later pauses do not matter.
            due_pauses = tuple((a, b if b is not None and b < end else end) for a, b in pauses if a < end)
        else:
            due_pauses = pauses
        due_at = _due(meter, start, minutes, due_pauses)
    else:
        # Most tickets: business minutes without pauses, where _elapsed and _due come to
        # ``measure(start, end)`` and ``advance(start, minutes)``. One calendar search answers
        # both, on timestamps read once per ticket.
        a = stamps[1] if start is stamps[0] else start.timestamp()
        b = stamps[2] if end is now else end.timestamp()
        used, due = business_seconds_since(cal, a, b, float(minutes) * 60.0)
        elapsed, due_at = used / 60.0, _utc(due)
    if met:
        state = "met"
    elif elapsed >= minutes:
        state = "breached"
    elif paused_now:
        state = "paused"
    elif elapsed >= warning_at * minutes:
        state = "warning"
    else:
        state = "ok"
    return SlaTarget(
        name=name,
        due_at=due_at,
        elapsed_pct=100.0 * elapsed / minutes,
        state=state,
        business=spec.business,
        minutes=minutes,
    )


def _replies(ticket: Ticket) -> tuple[datetime | None, tuple[datetime, datetime | None] | None]:
    """(the first public agent reply, the next_response wait), in one pass over the messages
    in time order (a stable sort, so of equal times the earlier listed one counts).

    The wait is (the oldest customer message after the first reply that no public agent reply
    has answered yet, None); when nobody waits, the last answered wait (customer message, the
    agent reply to it); None when the customer never wrote after the first reply.
    """
    created = ticket.created_at
    first_reply: datetime | None = None
    waiting: datetime | None = None
    last: tuple[datetime, datetime | None] | None = None
    for m in sorted(ticket.messages, key=_BY_CREATED):
        at = m.created_at
        if first_reply is None:
            if m.author == "agent" and m.public and at >= created:
                first_reply = at
        elif at <= first_reply:
            continue
        elif m.author == "customer":
            if waiting is None:
                waiting = at
        elif m.author == "agent" and m.public and waiting is not None:
            last, waiting = (waiting, at), None
    if waiting is not None:
        return first_reply, (waiting, None)
    return first_reply, last


def evaluate(ticket: Ticket, config: SlaConfig, now: datetime) -> SlaStatus | None:
    """The SLA status of ``ticket`` at ``now`` under the first matching policy (None: no policy).

    Targets appear in TARGETS order; next_response only once an agent has replied and the
    customer wrote again.
    """
    policy = match_policy(ticket, config)
    if policy is None:
        return None
    cal = config.calendar(policy.calendar)
    pauses, solved = _timeline(ticket, now)
    paused_now = bool(pauses) and any(b is None and a <= now for a, b in pauses)
    first_reply, wait = _replies(ticket)
    created, warning_at = ticket.created_at, policy.warning_at
    # Two targets start at creation and most end at ``now``: read those instants once.
    aware = created.tzinfo is not None and now.tzinfo is not None
    stamps = (created, created.timestamp(), now.timestamp()) if aware and not pauses else None
    targets: list[SlaTarget] = []
    for name, spec in policy.targets.items():
        if name == "first_response":
            start, stop = created, _earliest(first_reply, solved)
        elif name == "next_response":
            if wait is None:
                continue
            start, stop = wait[0], _earliest(wait[1], solved)
        else:
            start, stop = created, solved
        targets.append(_target(name, spec, start, stop, pauses, warning_at, cal, now, paused_now, stamps))
    return SlaStatus(policy=policy.name, targets=tuple(targets))


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)
