"""Business-time arithmetic: working periods per weekday, holidays, time zones, DST.

A calendar says, per weekday, which wall-clock periods are working time ("09:00-17:30", or
several for split shifts; "22:00-06:00" is an overnight period that belongs to the day it
starts). For each local date the periods are turned into absolute instants with the calendar's
time zone, so a DST switch simply makes that day's instants closer together or further apart:
business minutes are always real elapsed minutes inside working periods.

Holidays (country/subdivision from the ``holidays`` package, plus explicit dates) cancel the
periods that *start* on that date. Everything here is pure; the per-day instants are cached on
the calendar object so walks over months stay cheap (they step over whole periods).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from deskwatch.core.timeutil import parse_date

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_MAX_SEARCH_DAYS = 3 * 366  # a calendar with no working time at all would otherwise loop forever


class CalendarError(ValueError):
    """A calendar definition that cannot work; the message names the problem."""

    def __init__(self, message: str, day: str | None = None):
        super().__init__(message)
        self.day = day  # the weekday key at fault, when there is one


def parse_period(text: str) -> tuple[int, int]:
    """"HH:MM-HH:MM" -> (start, end) in minutes after local midnight of the day it starts.

    An end at or before the start is an overnight period ending the next day, so the end may
    exceed 1440. "24:00" is allowed as an end. Raises CalendarError.
    """
    m = _PERIOD.match(text) if isinstance(text, str) else None
    if not m:
        raise CalendarError(f'expected a period such as "09:00-17:30", got {text!r}')
    sh, sm, eh, em = (int(g) for g in m.groups())
    if sh > 23 or sm > 59:
        raise CalendarError(f'{text!r}: start {sh:02d}:{sm:02d} is not a time of day (00:00 to 23:59)')
    if em > 59 or eh > 24 or (eh == 24 and em != 0):
        raise CalendarError(f'{text!r}: end {eh:02d}:{em:02d} is not a time of day (00:00 to 24:00)')
    start, end = sh * 60 + sm, eh * 60 + em
    if end == start:
        raise CalendarError(f"{text!r}: a period cannot start and end at the same time")
    if end < start:
        end += 1440  # overnight: belongs to the day it starts
    return start, end


def format_period(start: int, end: int) -> str:
    e = end % 1440 if end != 1440 else 1440
    return f"{start // 60:02d}:{start % 60:02d}-{e // 60:02d}:{e % 60:02d}"


@dataclass(frozen=True)
class Calendar:
    """Working time of one team. ``week[i]`` holds the (start, end) minute periods of weekday i
    (0 = Monday), sorted; see ``parse_period`` for the minute form."""

    name: str
    timezone: str
    week: tuple[tuple[tuple[int, int], ...], ...]
    country: str | None = None
    subdivision: str | None = None
    holidays: frozenset[date] = frozenset()
    _cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise CalendarError("week: expected 7 weekdays, Monday first")
        check_week(self.week)
        object.__setattr__(self, "_zone", ZoneInfo(self.timezone))

    @property
    def zone(self) -> ZoneInfo:
        return self._zone  # type: ignore[attr-defined]

    # -- holidays ---------------------------------------------------------------------------
    def is_holiday(self, day: date) -> bool:
        if day in self.holidays:
            return True
        if not self.country:
            return False
        key = ("holidays", day.year)
        found = self._cache.get(key)
        if found is None:
            found = frozenset(
                holidays_lib.country_holidays(self.country, subdiv=self.subdivision, years=day.year).keys()
            )
            self._cache[key] = found
        return day in found

    # -- per-day instants -------------------------------------------------------------------
    def day_periods(self, day: date) -> tuple[tuple[float, float], ...]:
        """Working periods that start on local ``day``, as UTC POSIX seconds, sorted."""
        got = self._cache.get(day)
        if got is not None:
            return got
        out: list[tuple[float, float]] = []
        if not self.is_holiday(day):
            midnight = datetime(day.year, day.month, day.day)
            for start, end in self.week[day.weekday()]:
                a = _instant(midnight + timedelta(minutes=start), self.zone)
                b = _instant(midnight + timedelta(minutes=end), self.zone)
                if b > a:  # a period swallowed by a DST gap has no length
                    out.append((a, b))
        got = tuple(out)
        if len(self._cache) > 20000:  # bound memory for very long-running processes
            self._cache.clear()
        self._cache[day] = got
        return got

    def local_date(self, ts: float) -> date:
        return datetime.fromtimestamp(ts, self.zone).date()


def _instant(local: datetime, zone: ZoneInfo) -> float:
    """Wall-clock time in ``zone`` -> POSIX seconds.

    An ambiguous time (the repeated fall-back hour) is its first occurrence. A time that does
    not exist (inside the spring-forward gap) is the instant the gap ends: "work from 02:30" on
    the night New York skips 02:00-03:00 starts at 03:00 EDT, not an hour later.
    """
    t0 = local.replace(tzinfo=zone).timestamp()  # fold=0: read with the pre-switch offset
    if datetime.fromtimestamp(t0, zone).replace(tzinfo=None) == local:
        return t0
    t1 = local.replace(tzinfo=zone, fold=1).timestamp()  # post-switch offset: before the gap
    lo, hi = int(min(t0, t1)), int(max(t0, t1))
    while lo < hi:  # the first instant whose wall time is at or after ``local``
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).replace(tzinfo=None) >= local:
            hi = mid
        else:
            lo = mid + 1
    return float(lo)


def check_week(week: tuple[tuple[tuple[int, int], ...], ...]) -> None:
    """Periods must not overlap, within a day or across midnight (an overnight period running
    into the next day's first period). Raises CalendarError naming the weekday."""
    spans: list[tuple[int, int, int]] = []
    for i, periods in enumerate(week):
        for start, end in periods:
            spans.append((i * 1440 + start, i * 1440 + end, i))
    # Sunday's overnight period runs into Monday: compare it with the week before as well.
    spans += [(a - 7 * 1440, b - 7 * 1440, i) for a, b, i in spans if b > 7 * 1440]
    spans.sort()
    for (a1, b1, d1), (a2, b2, d2) in zip(spans, spans[1:]):
        if a2 < b1:
            first = f"{format_period(a1 % 1440, a1 % 1440 + b1 - a1)} ({DAYS[d1]})"
            raise CalendarError(
                f"period {format_period(a2 % 1440, a2 % 1440 + b2 - a2)} overlaps {first}; make the periods disjoint",
                day=DAYS[d2],
            )


def _ts(t: datetime) -> float:
    if t.tzinfo is None:
        raise ValueError(f"{t!r}: a time without a time zone; pass an aware datetime")
    return t.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def _periods_from(cal: Calendar, ts: float):
    """Working periods (a, b) with b > ts, in time order, starting with the day before ts's
    local date (whose overnight period may still be running)."""
    day = cal.local_date(ts) - timedelta(days=1)
    empty_days = 0
    while True:
        periods = cal.day_periods(day)
        for a, b in periods:
            if b > ts:
                yield a, b
        empty_days = 0 if periods else empty_days + 1
        if empty_days > _MAX_SEARCH_DAYS:
            raise CalendarError(f"calendar {cal.name!r} has no working time in {_MAX_SEARCH_DAYS} days")
        day += timedelta(days=1)


def add_business_minutes(cal: Calendar, start: datetime, minutes: float) -> datetime:
    """The instant when ``minutes`` business minutes have passed since ``start`` (UTC).

    Time outside working periods does not count; ``minutes <= 0`` returns ``start`` unchanged.
    """
    if minutes <= 0:
        return start.astimezone(timezone.utc)
    t = _ts(start)
    remaining = minutes * 60.0
    for a, b in _periods_from(cal, t):
        s = max(a, t)
        if b - s >= remaining:
            return _dt(s + remaining)
        remaining -= b - s
    raise AssertionError("unreachable")  # pragma: no cover


def business_minutes_between(cal: Calendar, start: datetime, end: datetime) -> float:
    """Business minutes from ``start`` to ``end``; negative when ``end`` is before ``start``."""
    a0, b0 = _ts(start), _ts(end)
    if b0 < a0:
        return -business_minutes_between(cal, end, start)
    total = 0.0
    for a, b in _periods_from(cal, a0):
        if a >= b0:
            break
        total += min(b, b0) - max(a, a0)
    return total / 60.0


def in_business_hours(cal: Calendar, t: datetime) -> bool:
    """True when ``t`` falls inside a working period (start inclusive, end exclusive)."""
    ts = _ts(t)
    day = cal.local_date(ts)
    for d in (day - timedelta(days=1), day):
        for a, b in cal.day_periods(d):
            if a <= ts < b:
                return True
    return False


def next_business_start(cal: Calendar, t: datetime) -> datetime:
    """``t`` itself when inside working time, else the start of the next working period."""
    ts = _ts(t)
    for a, _b in _periods_from(cal, ts):
        return _dt(max(a, ts))
    raise AssertionError("unreachable")  # pragma: no cover


def calendar_from_config(name: str, section: Any) -> Calendar:
    """Build a Calendar from a ``Section`` of ``[sla.calendars.<name>]``; ConfigError names the key."""
    tz = section.string("timezone", "UTC")
    try:
        ZoneInfo(tz)
    except (KeyError, ValueError):
        raise section.error("timezone", f'unknown time zone "{tz}"; use an IANA name such as "Europe/London"') from None
    hours = section.section("hours", {})
    week: list[tuple[tuple[int, int], ...]] = []
    for day in DAYS:
        periods = []
        for text in hours.strings(day, ()):
            try:
                periods.append(parse_period(text))
            except CalendarError as e:
                raise hours.error(day, str(e)) from None
        week.append(tuple(sorted(periods)))
    hours.check_unknown(DAYS)
    try:
        check_week(tuple(week))
    except CalendarError as e:
        raise hours.error(e.day or "", str(e)) from None
    if not any(week):
        raise section.error("hours", "no working periods on any day; add e.g. mon = [\"09:00-17:00\"]")
    country = section.string("country", "") or None
    subdivision = section.string("subdivision", "") or None
    if subdivision and not country:
        raise section.error("subdivision", "set country as well (e.g. country = \"GB\")")
    if country:
        try:
            holidays_lib.country_holidays(country, subdiv=subdivision, years=2026)
        except NotImplementedError as e:
            key = "subdivision" if subdivision and "subdiv" in str(e) else "country"
            raise section.error(key, f"{e}; use an ISO code the holidays package knows (e.g. GB, US; ENG, NY)") from None
    dates = set()
    raw = section.raw("holidays", [])
    if not isinstance(raw, list):
        raise section.error("holidays", "expected a list of dates such as [\"2026-12-24\"]")
    for i, v in enumerate(raw):
        try:
            dates.add(parse_date(v))
        except ValueError as e:
            raise section.error(f"holidays[{i}]", str(e)) from None
    section.check_unknown(("timezone", "hours", "country", "subdivision", "holidays"))
    return Calendar(
        name=name,
        timezone=tz,
        week=tuple(week),
        country=country,
        subdivision=subdivision,
        holidays=frozenset(dates),
    )
