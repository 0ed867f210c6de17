"""On-call rotations: who answers urgent work outside business hours.

A rotation hands off every day or every week at a local wall-clock time in its own time zone,
so a 09:00 hand-off stays at 09:00 across daylight-saving switches. Overrides replace the
scheduled person for a range of local dates (holidays, sick days, swaps).

Pure: ``now`` is always passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from deskwatch.core.model.settings import Section

PERIODS = {"daily": 1, "weekly": 7}
_HHMM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True)
class Override:
    """``agent`` is on call instead of the scheduled person on local dates ``start``..``end``
    (both inclusive). With ``replaces`` set, only while that person is the one scheduled."""

    agent: str
    start: date
    end: date
    replaces: str | None = None


@dataclass(frozen=True)
class Rotation:
    name: str
    team: str
    members: tuple[str, ...]  # in rotation order; members[0] holds the shift that begins on ``start``
    period: str  # daily or weekly
    handoff: time  # local wall-clock time of the hand-off
    timezone: str  # IANA name, e.g. Europe/Berlin
    start: date  # local date of the first hand-off
    overrides: tuple[Override, ...] = ()

    @cached_property
    def zone(self) -> ZoneInfo:  # looked up once: on_call_for needs it twice per ticket
        return ZoneInfo(self.timezone)


def scheduled_for(rotation: Rotation, now: datetime) -> str:
    """The member the plain schedule puts on call at ``now`` (overrides ignored)."""
    local = now.astimezone(rotation.zone)
    # The shift that is running began on the latest local date whose hand-off time has passed.
    # Comparing wall-clock times (not UTC offsets) keeps the hand-off at 09:00 through DST.
    shift_date = local.date()
    if local.time().replace(tzinfo=None) < rotation.handoff:
        shift_date -= timedelta(days=1)
    shift = (shift_date - rotation.start).days // PERIODS[rotation.period]
    return rotation.members[shift % len(rotation.members)]


def on_call_for(rotation: Rotation, now: datetime) -> str:
    """The agent on call for ``rotation`` at ``now``; the first matching override wins."""
    scheduled = scheduled_for(rotation, now)
    today = now.astimezone(rotation.zone).date()
    for o in rotation.overrides:
        if o.start <= today <= o.end and (o.replaces is None or o.replaces == scheduled):
            return o.agent
    return scheduled


# ---------------------------------------------------------------------------------------------
# config


def parse_time_of_day(section: Section, name: str, default: str) -> time:
    text = section.string(name, default)
    m = _HHMM.fullmatch(text.strip())
    if not m:
        raise section.error(name, f'expected a time of day such as "09:00", got "{text}"')
    return time(int(m.group(1)), int(m.group(2)))


def parse_timezone(section: Section, name: str, default: str) -> str:
    tz = section.string(name, default)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        problem = f'unknown time zone "{tz}"; use an IANA name such as "Europe/Berlin" or "UTC"'
        raise section.error(name, problem) from None
    return tz


def parse_override(s: Section) -> Override:
    agent = s.string("agent")
    start = s.date("from")
    end = s.date("to", s.raw("from"))
    if end < start:
        raise s.error("to", f"ends ({end}) before it starts ({start}); swap from and to")
    replaces = s.string("replaces", None) or None
    s.check_unknown(("agent", "from", "to", "replaces"))
    return Override(agent=agent, start=start, end=end, replaces=replaces)


def parse_rotation(s: Section) -> Rotation:
    """One ``[[routing.rotations]]`` table; member names are checked against agents by the caller."""
    name = s.string("name")
    team = s.string("team")
    members = s.strings("members")
    if not members:
        raise s.error("members", "is empty; list the agents who take turns, in order")
    period = s.string("period", "weekly", choices=tuple(PERIODS))
    rotation = Rotation(
        name=name,
        team=team,
        members=members,
        period=period,
        handoff=parse_time_of_day(s, "handoff", "09:00"),
        timezone=parse_timezone(s, "timezone", "UTC"),
        start=s.date("start"),
        overrides=tuple(parse_override(o) for o in s.sections("overrides")),
    )
    s.check_unknown(("name", "team", "members", "period", "handoff", "timezone", "start", "overrides"))
    return rotation
