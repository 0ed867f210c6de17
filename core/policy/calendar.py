"""Business-time arithmetic: working periods per weekday, holidays, time zones, DST.

A calendar says, per weekday, which wall-clock periods are working time ("09:00-17:30", or
several for split shifts; "22:00-06:00" is an overnight period that belongs to the day it
starts). For each local date the periods are turned into absolute instants with the calendar's
time zone, so a DST switch simply makes that day's instants closer together or further apart:
business minutes are always real elapsed minutes inside working periods.

Holidays (country/subdivision from the ``holidays`` package, plus explicit dates) cancel the
periods that *start* on that date. Everything here is pure (no clock, no I/O).

Speed: the SLA engine asks several questions per ticket, so instead of walking day by day each
calendar lazily keeps a ``_Timeline``: its working periods over a range of days, as UTC POSIX
seconds, with a running sum of business seconds. A question is then a few bisects. The day walk
it replaces is the definition of the answers (``tests/test_calendar.py`` keeps it and compares).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from deskwatch.core.model.timeutil import parse_date
from deskwatch.core.policy.periods import DAYS, CalendarError, check_week, format_period, parse_period  # noqa: F401

_MAX_SEARCH_DAYS = 3 * 366  # a calendar with no working time at all would otherwise loop forever
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_CHUNK_DAYS = 64  # the least a timeline grows by; it grows by half its span when that is more
_MAX_SPAN_DAYS = 4000  # a timeline asked about days further apart starts afresh (bounds memory)
# The days a timeline may hold: far inside datetime's years 1-9999, so that a walk (which looks
# up to _MAX_SEARCH_DAYS ahead) and local midnights plus offsets never leave its range.
_FIRST_DAY, _LAST_DAY = date(1900, 1, 1).toordinal(), date(9000, 1, 1).toordinal()
# The instants asked about keep a margin of a walk's search inside those days, so that the
# answer is found (or refused) without building a timeline thousands of years long.
_FIRST_TS = (_FIRST_DAY - date(1970, 1, 1).toordinal() + 7) * 86400.0
_LAST_TS = (_LAST_DAY - date(1970, 1, 1).toordinal() - 4 * 366) * 86400.0


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
    # Not an init field: dataclasses.replace must not hand a changed calendar these answers.
    _cache: dict = field(default_factory=dict, init=False, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise CalendarError("week: expected 7 weekdays, Monday first")
        check_week(self.week)
        object.__setattr__(self, "_zone", ZoneInfo(self.timezone))
        # Lazily built; replaced as a whole (never changed in place), so a reader that took a
        # reference keeps a consistent view even if another thread extends it meanwhile.
        object.__setattr__(self, "_timeline", None)
        object.__setattr__(self, "_hours_memo", (None, False))  # last in_business_hours answer

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
        got = self._instants(day)
        if len(self._cache) > 20000:  # bound memory for very long-running processes
            self._cache.clear()
        self._cache[day] = got
        return got

    def _instants(self, day: date) -> tuple[tuple[float, float], ...]:
        """``day_periods`` without the cache (the timeline keeps its own copy)."""
        if self.is_holiday(day):
            return ()
        out: list[tuple[float, float]] = []
        midnight = datetime(day.year, day.month, day.day)
        for start, end in self.week[day.weekday()]:
            a = _instant(midnight + timedelta(minutes=start), self.zone)
            b = _instant(midnight + timedelta(minutes=end), self.zone)
            if b > a:  # a period swallowed by a DST gap has no length
                out.append((a, b))
        return tuple(out)

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


# ---------------------------------------------------------------------------------------------
# The timeline
#
# The answers are defined by a day walk: starting with the day before ``ts``'s local date, take
# each day's periods in order, skip those that ended by ``ts``, and give up with CalendarError
# after more than _MAX_SEARCH_DAYS days in a row without any period. The timeline answers the
# same questions with bisects and reproduces the walk exactly, including where it gives up.
#
# Exactness: period edges are whole seconds and every sum below is of values on the grid of the
# input timestamps, well inside a double's 53 bits, so the sums are exact in any order and the
# results equal the walk's to the last bit (the randomized test in test_calendar.py checks it).


@dataclass(frozen=True, slots=True)
class _Timeline:
    """Working periods of local days ``lo`` .. ``hi - 1`` (date ordinals), in time order."""

    lo: int
    hi: int
    starts: list[float]  # UTC POSIX seconds; periods are disjoint, so both lists are increasing
    ends: list[float]
    days: list[int]  # the local day (ordinal) each period belongs to
    cum: list[float]  # cum[k]: business seconds in periods 0 .. k-1 (whole seconds, so exact)
    gaps: list[int]  # indices k with more than _MAX_SEARCH_DAYS empty days before days[k]
    # For _walk_start's shortcut, which needs ts to be at least two UTC days after ``lo`` and,
    # when period k is the first to end after ts, fast_from[k] <= ts < fast_until[k] (see there).
    # Both lists have one more entry (that never holds) for "no period ends after ts".
    covered_from: float
    fast_from: list[float]
    fast_until: list[float]


def _build(cal: Calendar, lo: int, hi: int, keep: _Timeline | None = None) -> _Timeline:
    """The timeline of days lo .. hi-1, reusing the periods of ``keep`` (which lies inside)."""
    if lo < _FIRST_DAY or hi > _LAST_DAY:
        raise _out_of_range(cal, lo if lo < _FIRST_DAY else hi)
    periods: list[tuple[float, float, int]] = []

    def add_days(first: int, last: int) -> None:
        for o in range(first, last):
            periods.extend((a, b, o) for a, b in cal._instants(date.fromordinal(o)))

    if keep is None:
        add_days(lo, hi)
    else:
        add_days(lo, keep.lo)
        periods.extend(zip(keep.starts, keep.ends, keep.days))
        add_days(keep.hi, hi)
    cum, total = [0.0], 0.0
    for a, b, _ in periods:
        total += b - a
        cum.append(total)
    days = [o for _, _, o in periods]
    gaps = [k for k in range(1, len(days)) if days[k] - days[k - 1] - 1 > _MAX_SEARCH_DAYS]
    fast_from = [(o - _EPOCH_ORDINAL - _MAX_SEARCH_DAYS + 2) * 86400.0 for o in days] + [math.inf]
    fast_until = [(o - _EPOCH_ORDINAL + 1) * 86400.0 for o in days] + [-math.inf]
    tl = _Timeline(
        lo, hi, [a for a, _, _ in periods], [b for _, b, _ in periods], days, cum, gaps,
        (lo + 2 - _EPOCH_ORDINAL) * 86400.0, fast_from, fast_until,
    )
    object.__setattr__(cal, "_timeline", tl)
    return tl


def _ordinal(ts: float) -> int:
    return int(ts // 86400) + _EPOCH_ORDINAL if math.isfinite(ts) else (1 if ts < 0 else date.max.toordinal())


def _out_of_range(cal: Calendar, day: int) -> CalendarError:
    year = date.fromordinal(min(max(day, 1), date.max.toordinal())).year
    return CalendarError(f"calendar {cal.name!r} counts business time between the years 1900 and 9000, "
                         f"not around the year {year}; check the ticket's dates")


def _cover(cal: Calendar, day: int) -> _Timeline:
    """The calendar's timeline, grown (or started afresh when too far off) to include ``day``."""
    tl: _Timeline | None = cal._timeline  # type: ignore[attr-defined]
    if tl is not None and tl.lo <= day < tl.hi:
        return tl
    if tl is None or max(tl.hi, day + 1) - min(tl.lo, day) > _MAX_SPAN_DAYS:
        return _build(cal, day - 7, day + _CHUNK_DAYS)
    grow = max(_CHUNK_DAYS, (tl.hi - tl.lo) // 2)
    if day < tl.lo:
        return _build(cal, min(day, tl.lo - grow), tl.hi, tl)
    return _build(cal, tl.lo, max(day + 1, tl.hi + grow), tl)


def _no_working_time(cal: Calendar) -> CalendarError:
    return CalendarError(f"calendar {cal.name!r} has no working time in {_MAX_SEARCH_DAYS} days")


def _first_walk_day(cal: Calendar, ts: float) -> int:
    return cal.local_date(ts).toordinal() - 1


def _grow(cal: Calendar, tl: _Timeline, ts: float) -> _Timeline:
    """More days at the end, for a walk from ``ts`` that has not found what it needs in ``tl``.

    The walk would have gone through every day of ``tl`` from its first day on, so it gives up
    if the empty days at the end (those it walks) are already too many.
    """
    last = tl.days[-1] + 1 if tl.days else tl.lo
    if tl.hi - max(last, _first_walk_day(cal, ts)) > _MAX_SEARCH_DAYS:
        raise _no_working_time(cal)
    return _build(cal, tl.lo, tl.hi + max(_CHUNK_DAYS, (tl.hi - tl.lo) // 2), tl)


def _check_gaps(cal: Calendar, tl: _Timeline, after: int, upto: int) -> None:
    """CalendarError when the walk from period ``after`` to period ``upto`` crosses too many
    empty days in a row (almost never: the list is empty for any real calendar)."""
    gaps = tl.gaps
    if gaps:
        k = bisect_right(gaps, after)
        if k < len(gaps) and gaps[k] <= upto:
            raise _no_working_time(cal)


def _walk_start(cal: Calendar, ts: float) -> tuple[_Timeline, int]:
    """The timeline and the index of the first period the walk from ``ts`` yields."""
    # The walk starts on the day before ts's local date, which is within a day of its UTC date
    # (offsets stay under 24 hours): on utc_day - 2 or later. Finding the local date costs more
    # than everything else here, and it is only needed when the first period ending after ts
    # belongs to a day near that. Otherwise, with that period's day D, utc_day <= D means it is
    # part of the walk, and D <= utc_day + _MAX_SEARCH_DAYS - 2 that the walk reaches it before
    # giving up; the timeline's fast_from/fast_until hold those two bounds as instants.
    tl = cal._timeline  # type: ignore[attr-defined]
    if tl is not None and ts >= tl.covered_from:  # covers utc_day - 2
        i = bisect_right(tl.ends, ts)
        if tl.fast_from[i] <= ts < tl.fast_until[i]:
            return tl, i
    tl = _cover(cal, int(ts // 86400) + _EPOCH_ORDINAL - 2)
    i = bisect_right(tl.ends, ts)
    if tl.fast_from[i] <= ts < tl.fast_until[i]:
        return tl, i
    return _walk_start_exact(cal, ts)


def _walk_start_exact(cal: Calendar, ts: float) -> tuple[_Timeline, int]:
    first = _first_walk_day(cal, ts)
    tl = _cover(cal, first)
    while True:
        p = bisect_left(tl.days, first)  # the walk's first period
        # A period of an earlier day still running at ts is not part of the walk, hence max().
        # (It takes a zone whose clock jumps back across midnight; kept so the walk stays the
        # definition even there.)
        i = max(p, bisect_right(tl.ends, ts))
        if i < len(tl.ends):
            break
        tl = _grow(cal, tl, ts)
    if tl.days[p] - first > _MAX_SEARCH_DAYS:
        raise _no_working_time(cal)
    _check_gaps(cal, tl, p, i)
    return tl, i


# ---------------------------------------------------------------------------------------------
# Business-time arithmetic


def _ts(t: datetime) -> float:
    if t.tzinfo is None:
        raise ValueError(f"{t!r}: a time without a time zone; pass an aware datetime")
    return t.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def add_business_minutes(cal: Calendar, start: datetime, minutes: float) -> datetime:
    """The instant when ``minutes`` business minutes have passed since ``start`` (UTC).

    Time outside working periods does not count; ``minutes <= 0`` returns ``start`` unchanged.
    """
    if minutes <= 0:
        return start.astimezone(timezone.utc)
    return _dt(add_business_seconds(cal, _ts(start), minutes * 60.0))


def add_business_seconds(cal: Calendar, t: float, seconds: float) -> float:
    """``add_business_minutes`` on POSIX seconds, for hot paths that already hold timestamps:
    the instant when ``seconds`` business seconds have passed since ``t``."""
    if seconds <= 0:
        return t
    if not _FIRST_TS <= t < _LAST_TS:
        raise _out_of_range(cal, _ordinal(t))
    tl, i = _walk_start(cal, t)
    return _add_from(cal, tl, i, t, seconds)


def _add_from(cal: Calendar, tl: _Timeline, i: int, t: float, remaining: float) -> float:
    if not math.isfinite(remaining):
        raise ValueError(f"cannot add {remaining / 60.0} business minutes")  # would never finish
    a, b = tl.starts[i], tl.ends[i]
    s = a if a > t else t
    if b - s >= remaining:
        return s + remaining
    # What is left after period i; exact, like each step of the walk's running subtraction.
    need = remaining - (b - s)
    base = tl.cum[i + 1]
    # The walk stops in the first period m-1 with cum[m] - base >= need (exact). base + need is
    # rounded, and rounding is monotone, so the bisect can only land short of it, never past.
    target = base + need
    while True:
        cum = tl.cum
        m = bisect_left(cum, target, i + 2)
        while m < len(cum) and cum[m] - base < need:
            m += 1
        if m < len(cum):
            break
        tl = _grow(cal, tl, t)
    j = m - 1  # the period where the time runs out
    if tl.gaps:
        _check_gaps(cal, tl, i, j)
    return tl.starts[j] + (need - (cum[j] - base))


def business_minutes_between(cal: Calendar, start: datetime, end: datetime) -> float:
    """Business minutes from ``start`` to ``end``; negative when ``end`` is before ``start``."""
    a0, b0 = _ts(start), _ts(end)
    if b0 < a0:
        return -business_minutes_between(cal, end, start)
    return business_seconds_between(cal, a0, b0) / 60.0


def business_seconds_between(cal: Calendar, a0: float, b0: float) -> float:
    """``business_minutes_between`` on POSIX seconds (and in seconds), for hot paths."""
    if b0 < a0:
        return -business_seconds_between(cal, b0, a0)
    if not (_FIRST_TS <= a0 and b0 < _LAST_TS):
        raise _out_of_range(cal, _ordinal(a0 if a0 < _FIRST_TS else b0))
    tl, i = _walk_start(cal, a0)
    return _between_from(cal, tl, i, a0, b0)


def _between_from(cal: Calendar, tl: _Timeline, i: int, a0: float, b0: float) -> float:
    while True:
        k = bisect_left(tl.starts, b0, i)  # the walk stops at the first period starting at b0 or later
        if k < len(tl.starts):
            break
        tl = _grow(cal, tl, a0)
    if tl.gaps:
        _check_gaps(cal, tl, i, k)
    if k == i:
        return 0.0
    starts, ends = tl.starts, tl.ends
    a, b = starts[i], ends[i]
    if k == i + 1:
        return (b if b < b0 else b0) - (a if a > a0 else a0)
    # first (partial) period + whole ones in between + last (partial) one
    first = b - (a if a > a0 else a0)
    last_b = ends[k - 1]
    return first + (tl.cum[k - 1] - tl.cum[i + 1]) + ((last_b if last_b < b0 else b0) - starts[k - 1])


def business_seconds_since(cal: Calendar, start: float, end: float, seconds: float) -> tuple[float, float]:
    """``(business_seconds_between(cal, start, end), add_business_seconds(cal, start, seconds))``
    with one search for ``start``: an SLA clock's time used so far and its due instant.

    ``end`` must be after ``start`` and ``seconds`` above 0 (the SLA engine's case; the walk
    would not look for ``end`` otherwise, so neither may this). This is the SLA engine's inner
    loop, so the common case (the answer within the timeline, no long gaps) is written out
    here; anything else goes through ``_between_from`` and ``_add_from``, which it mirrors.
    """
    if not (_FIRST_TS <= start and end < _LAST_TS):
        raise _out_of_range(cal, _ordinal(start if start < _FIRST_TS else end))
    tl = cal._timeline  # type: ignore[attr-defined]
    if tl is None or start < tl.covered_from:
        tl, i = _walk_start(cal, start)
    else:
        i = bisect_right(tl.ends, start)
        if not tl.fast_from[i] <= start < tl.fast_until[i]:
            tl, i = _walk_start(cal, start)
    starts, ends, cum = tl.starts, tl.ends, tl.cum
    n = len(starts)
    k = bisect_left(starts, end, i)
    if k == n or tl.gaps:
        used = _between_from(cal, tl, i, start, end)
    elif k == i:
        used = 0.0
    else:
        a, b = starts[i], ends[i]
        s0 = a if a > start else start
        if k == i + 1:
            used = (b if b < end else end) - s0
        else:
            last_b = ends[k - 1]
            used = (b - s0) + (cum[k - 1] - cum[i + 1]) + ((last_b if last_b < end else end) - starts[k - 1])
    a, b = starts[i], ends[i]
    s0 = a if a > start else start
    if b - s0 >= seconds:
        return used, s0 + seconds
    need = seconds - (b - s0)
    base = cum[i + 1]
    m = bisect_left(cum, base + need, i + 2)
    while m <= n and cum[m] - base < need:
        m += 1
    if m > n or tl.gaps or not math.isfinite(seconds):
        return used, _add_from(cal, tl, i, start, seconds)
    return used, starts[m - 1] + (need - (cum[m - 1] - base))


def in_business_hours(cal: Calendar, t: datetime) -> bool:
    """True when ``t`` falls inside a working period (start inclusive, end exclusive)."""
    ts = _ts(t)
    last_ts, last = cal._hours_memo  # type: ignore[attr-defined]
    if ts == last_ts:  # routing asks with the same ``now`` for every ticket of a batch
        return last
    if not _FIRST_TS <= ts < _LAST_TS:
        raise _out_of_range(cal, _ordinal(ts))
    day = cal.local_date(ts)
    found = any(a <= ts < b for d in (day - timedelta(days=1), day) for a, b in cal.day_periods(d))
    object.__setattr__(cal, "_hours_memo", (ts, found))
    return found


def next_business_start(cal: Calendar, t: datetime) -> datetime:
    """``t`` itself when inside working time, else the start of the next working period."""
    ts = _ts(t)
    if not _FIRST_TS <= ts < _LAST_TS:
        raise _out_of_range(cal, _ordinal(ts))
    tl, i = _walk_start(cal, ts)
    return _dt(max(tl.starts[i], ts))


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
