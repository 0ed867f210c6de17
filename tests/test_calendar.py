"""Business-time arithmetic, checked against due times worked out by hand in the comments."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from deskwatch.core.policy.calendar import (
    _MAX_SEARCH_DAYS,
    DAYS,
    Calendar,
    CalendarError,
    add_business_minutes,
    add_business_seconds,
    business_minutes_between,
    business_seconds_between,
    business_seconds_since,
    calendar_from_config,
    check_week,
    in_business_hours,
    next_business_start,
    parse_period,
)
from deskwatch.core.model.settings import ConfigError, Section

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def make(hours: dict, tz: str = "Europe/London", **extra) -> Calendar:
    data = {"timezone": tz, "hours": hours, **extra}
    return calendar_from_config("test", Section(data, "sla.calendars.test", "config.toml"))


def office(tz: str = "Europe/London", start: str = "09:00", end: str = "17:30", **extra) -> Calendar:
    return make({d: [f"{start}-{end}"] for d in WEEKDAYS}, tz, **extra)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- periods ----------------------------------------------------------------------------------


def test_parse_period_day_overnight_and_midnight_end():
    assert parse_period("09:00-17:30") == (540, 1050)
    assert parse_period("22:00-06:00") == (1320, 1440 + 360)  # ends 06:00 the next day
    assert parse_period("00:00-24:00") == (0, 1440)


@pytest.mark.parametrize("text", ["25:00-26:00", "09:60-10:00", "9-17", "10:00-10:00", "08:00-24:30"])
def test_parse_period_rejects_bad_times(text):
    with pytest.raises(CalendarError):
        parse_period(text)


# -- plain weeks ------------------------------------------------------------------------------


def test_same_day():
    cal = office()
    # Monday 23 Nov 2026 10:00 GMT (= UTC in winter); 240 business minutes fit before 17:30.
    assert add_business_minutes(cal, utc(2026, 11, 23, 10), 240) == utc(2026, 11, 23, 14)
    assert business_minutes_between(cal, utc(2026, 11, 23, 10), utc(2026, 11, 23, 14)) == 240


def test_over_a_weekend():
    cal = office()
    # Fri 27 Nov 16:00 + 120: Fri 16:00-17:30 uses 90, Sat/Sun are off, Mon 30 Nov 09:00 + 30.
    assert add_business_minutes(cal, utc(2026, 11, 27, 16), 120) == utc(2026, 11, 30, 9, 30)
    assert business_minutes_between(cal, utc(2026, 11, 27, 16), utc(2026, 11, 30, 9, 30)) == 120


def test_start_outside_hours_waits_for_the_next_period():
    cal = office()
    # Saturday 28 Nov 12:00 + 60: nothing counts until Mon 09:00, due Mon 10:00.
    assert add_business_minutes(cal, utc(2026, 11, 28, 12), 60) == utc(2026, 11, 30, 10)
    # Monday 07:00 + 30 -> 09:30; and a start exactly at closing time rolls to the next day.
    assert add_business_minutes(cal, utc(2026, 11, 23, 7), 30) == utc(2026, 11, 23, 9, 30)
    assert add_business_minutes(cal, utc(2026, 11, 23, 17, 30), 30) == utc(2026, 11, 24, 9, 30)
    assert next_business_start(cal, utc(2026, 11, 28, 12)) == utc(2026, 11, 30, 9)


def test_exact_end_of_period_is_due_at_closing_time():
    cal = office()
    # 09:00 + 510 (one whole 8.5 h day) ends at 17:30 the same day, not the next morning.
    assert add_business_minutes(cal, utc(2026, 11, 23, 9), 510) == utc(2026, 11, 23, 17, 30)


def test_between_is_negative_when_reversed_and_zero_minutes_is_identity():
    cal = office()
    assert business_minutes_between(cal, utc(2026, 11, 23, 14), utc(2026, 11, 23, 10)) == -240
    assert add_business_minutes(cal, utc(2026, 11, 28, 12), 0) == utc(2026, 11, 28, 12)


def test_in_business_hours_edges():
    cal = office()
    assert in_business_hours(cal, utc(2026, 11, 23, 9))  # start inclusive
    assert not in_business_hours(cal, utc(2026, 11, 23, 17, 30))  # end exclusive
    assert not in_business_hours(cal, utc(2026, 11, 28, 12))  # Saturday


# -- holidays -------------------------------------------------------------------------------


def test_country_holidays_christmas_and_observed_boxing_day():
    cal = office(country="GB", subdivision="ENG")
    # Thu 24 Dec 16:00 + 120: Thu 16:00-17:30 = 90; Fri 25 Christmas; Sat 26 / Sun 27 weekend;
    # Mon 28 Dec is Boxing Day (observed, because the 26th is a Saturday); Tue 29 09:00 + 30.
    assert add_business_minutes(cal, utc(2026, 12, 24, 16), 120) == utc(2026, 12, 29, 9, 30)


def test_subdivision_matters():
    # 2 Jan 2026 (a Friday) is a bank holiday in Scotland only.
    eng = office(country="GB", subdivision="ENG")
    sct = office(country="GB", subdivision="SCT")
    start = utc(2026, 1, 2, 9)
    assert add_business_minutes(eng, start, 60) == utc(2026, 1, 2, 10)
    assert add_business_minutes(sct, start, 60) == utc(2026, 1, 5, 10)  # Monday


def test_explicit_holiday_dates():
    cal = office(holidays=["2026-11-24", "2026-11-25"])
    # Mon 23 Nov 17:00 + 60: 30 on Monday, Tue and Wed are company days off, Thu 26 09:30.
    assert add_business_minutes(cal, utc(2026, 11, 23, 17), 60) == utc(2026, 11, 26, 9, 30)
    assert not in_business_hours(cal, utc(2026, 11, 24, 10))


# -- split shifts and overnight periods -----------------------------------------------------


def test_split_shift_skips_the_lunch_break():
    cal = make({d: ["08:00-12:00", "13:00-17:30"] for d in WEEKDAYS})
    # Mon 11:30 + 60: 11:30-12:00 = 30, lunch does not count, 13:00 + 30 = 13:30.
    assert add_business_minutes(cal, utc(2026, 11, 23, 11, 30), 60) == utc(2026, 11, 23, 13, 30)
    # A whole day is 4 h + 4.5 h = 510 minutes.
    assert business_minutes_between(cal, utc(2026, 11, 23), utc(2026, 11, 24)) == 510
    assert not in_business_hours(cal, utc(2026, 11, 23, 12, 30))


def test_overnight_period_belongs_to_the_day_it_starts():
    # Night desk Mon-Fri 22:00-06:00 (London, winter so local = UTC).
    cal = make({d: ["22:00-06:00"] for d in WEEKDAYS})
    # Fri 27 Nov 22:00 runs to Sat 06:00, so Sat 05:00 is working time...
    assert in_business_hours(cal, utc(2026, 11, 28, 5))
    # ...but Sun 23:00 is not (Sunday has no period), while Mon 23:00 is.
    assert not in_business_hours(cal, utc(2026, 11, 29, 23))
    assert in_business_hours(cal, utc(2026, 11, 30, 23))
    # Sat 05:00 + 120: 60 until Sat 06:00, then nothing until Mon 22:00; due Mon 23:00.
    assert add_business_minutes(cal, utc(2026, 11, 28, 5), 120) == utc(2026, 11, 30, 23)


def test_overnight_period_starting_on_a_holiday_is_cancelled():
    # Thu 24 Dec 22:00 -> Fri 25 06:00 belongs to the 24th (a working day); the period that
    # would start on the 25th (Christmas) does not exist.
    cal = make({d: ["22:00-06:00"] for d in WEEKDAYS}, country="GB", subdivision="ENG")
    assert in_business_hours(cal, utc(2026, 12, 25, 3))
    assert not in_business_hours(cal, utc(2026, 12, 25, 23))


# -- DST ------------------------------------------------------------------------------------


def test_london_spring_forward_weekend():
    cal = office()
    # Clocks go forward Sun 29 Mar 2026. Fri 27 Mar 16:00 GMT (16:00 UTC) + 120:
    # 90 on Friday; Mon 30 Mar opens 09:00 BST = 08:00 UTC; + 30 -> 08:30 UTC.
    assert add_business_minutes(cal, utc(2026, 3, 27, 16), 120) == utc(2026, 3, 30, 8, 30)


def test_london_fall_back_weekend():
    cal = office()
    # Clocks go back Sun 25 Oct 2026. Fri 23 Oct 15:30 UTC = 16:30 BST + 120: 60 until 17:30
    # BST; Mon 26 Oct opens 09:00 GMT = 09:00 UTC; + 60 -> 10:00 UTC.
    assert add_business_minutes(cal, utc(2026, 10, 23, 15, 30), 120) == utc(2026, 10, 26, 10)


def test_round_the_clock_day_is_23_or_25_hours_on_switch_days():
    cal = make({d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    # Local midnight to local midnight: 23 real hours in March, 25 in October.
    mar = (datetime(2026, 3, 29, tzinfo=LONDON), datetime(2026, 3, 30, tzinfo=LONDON))
    oct_ = (datetime(2026, 10, 25, tzinfo=LONDON), datetime(2026, 10, 26, tzinfo=LONDON))
    assert business_minutes_between(cal, *mar) == 23 * 60
    assert business_minutes_between(cal, *oct_) == 25 * 60
    # So business minutes equal real minutes: + 600 from Sat 28 Mar 20:00 UTC is 06:00 UTC.
    assert add_business_minutes(cal, utc(2026, 3, 28, 20), 600) == utc(2026, 3, 29, 6)


def test_overnight_period_across_the_fall_back_night():
    # Sat 24 Oct 2026 22:00 BST (21:00 UTC) to Sun 25 Oct 06:00 GMT (06:00 UTC): 9 real hours.
    cal = make({"sat": ["22:00-06:00"]})
    assert business_minutes_between(cal, utc(2026, 10, 24), utc(2026, 10, 26)) == 9 * 60
    assert add_business_minutes(cal, utc(2026, 10, 24, 12), 8 * 60) == utc(2026, 10, 25, 5)


def test_new_york_spring_forward_weekend():
    cal = office("America/New_York", "09:00", "17:00", country="US", subdivision="NY")
    # DST starts Sun 8 Mar 2026. Fri 6 Mar 16:00 EST = 21:00 UTC + 120: 60 on Friday;
    # Mon 9 Mar opens 09:00 EDT = 13:00 UTC; + 60 -> 14:00 UTC.
    assert add_business_minutes(cal, utc(2026, 3, 6, 21), 120) == utc(2026, 3, 9, 14)


def test_new_york_fall_back_and_thanksgiving():
    cal = office("America/New_York", "09:00", "17:00", country="US", subdivision="NY")
    # DST ends Sun 1 Nov 2026. Fri 30 Oct 16:00 EDT = 20:00 UTC + 120: 60 on Friday;
    # Mon 2 Nov 09:00 EST = 14:00 UTC; + 60 -> 15:00 UTC.
    assert add_business_minutes(cal, utc(2026, 10, 30, 20), 120) == utc(2026, 11, 2, 15)
    # Wed 25 Nov 16:30 EST (21:30 UTC) + 60: 30 on Wednesday, Thu 26 is Thanksgiving,
    # Fri 27 09:00 EST = 14:00 UTC; + 30 -> 14:30 UTC.
    assert add_business_minutes(cal, utc(2026, 11, 25, 21, 30), 60) == utc(2026, 11, 27, 14, 30)


def test_new_york_overnight_shift_through_the_missing_hour():
    # Sat 7 Mar 22:00 EST (03:00 UTC Sun) to Sun 8 Mar 06:00 EDT (10:00 UTC): 7 real hours.
    cal = make({"sat": ["22:00-06:00"]}, "America/New_York")
    assert business_minutes_between(cal, utc(2026, 3, 7), utc(2026, 3, 9)) == 7 * 60


def test_period_edge_inside_the_dst_gap_starts_when_the_gap_ends():
    # Sun 8 Mar 2026 New York skips 02:00-03:00 EST. A period "02:30-04:00" starts when the
    # gap ends (03:00 EDT = 07:00 UTC) and ends 04:00 EDT = 08:00 UTC: 60 real minutes.
    cal = make({"sun": ["02:30-04:00"]}, "America/New_York")
    assert business_minutes_between(cal, utc(2026, 3, 8), utc(2026, 3, 9)) == 60
    assert next_business_start(cal, utc(2026, 3, 8)) == utc(2026, 3, 8, 7)


# -- config errors name the key --------------------------------------------------------------


@pytest.mark.parametrize(
    "data, key, words",
    [
        ({"timezone": "Mars/Olympus"}, "sla.calendars.test.timezone", "unknown time zone"),
        ({"hours": {"mon": ["25:00-26:00"]}}, "sla.calendars.test.hours.mon", "not a time of day"),
        ({"hours": {"tue": ["09:00-12:00", "11:00-13:00"]}}, "sla.calendars.test.hours.tue", "overlaps 09:00-12:00"),
        (
            {"hours": {"mon": ["22:00-06:00"], "tue": ["05:00-09:00"]}},
            "sla.calendars.test.hours.tue",
            "overlaps 22:00-06:00 (mon)",
        ),
        ({"hours": {"sun": ["23:00-02:00"], "mon": ["01:00-09:00"]}}, "sla.calendars.test.hours.mon", "overlaps"),
        ({"hours": {"monday": ["09:00-17:00"]}}, "sla.calendars.test.hours.monday", "did you mean 'mon'"),
        ({"hours": {}}, "sla.calendars.test.hours", "no working periods"),
        ({"hours": {"mon": ["09:00-17:00"]}, "country": "XX"}, "sla.calendars.test.country", "XX"),
        ({"hours": {"mon": ["09:00-17:00"]}, "country": "GB", "subdivision": "ZZZ"}, "sla.calendars.test.subdivision", "ZZZ"),
        ({"hours": {"mon": ["09:00-17:00"]}, "holidays": ["24 Dec"]}, "sla.calendars.test.holidays[0]", "2026-12-31"),
    ],
)
def test_config_errors_name_the_key(data, key, words):
    with pytest.raises(ConfigError) as e:
        calendar_from_config("test", Section(data, "sla.calendars.test", "config.toml"))
    msg = str(e.value)
    assert msg.startswith(f"config.toml: {key}: "), msg
    assert words in msg


# -- speed ------------------------------------------------------------------------------------


def test_a_year_of_business_minutes_round_trips():
    # Speed is measured by bench/, not asserted here; this checks long walks stay exact.
    cal = office(country="GB", subdivision="ENG")
    start = utc(2026, 1, 5, 9)
    # About a year of business time (250 days of 510 minutes), then count it back.
    due = add_business_minutes(cal, start, 250 * 510)
    assert business_minutes_between(cal, start, due) == pytest.approx(250 * 510)


# -- the timeline against the day walk it replaces -------------------------------------------
#
# core/policy/calendar.py answers with bisects over a cached timeline. The day walk below is the
# original implementation and the definition of the answers; the timeline must agree with it to
# the last bit, including where the walk gives up with CalendarError.


def _walk_periods_from(cal: Calendar, ts: float):
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


def walk_add_seconds(cal: Calendar, t: float, remaining: float) -> float:
    for a, b in _walk_periods_from(cal, t):
        s = max(a, t)
        if b - s >= remaining:
            return s + remaining
        remaining -= b - s
    raise AssertionError("unreachable")


def walk_seconds_between(cal: Calendar, a0: float, b0: float) -> float:
    if b0 < a0:
        return -walk_seconds_between(cal, b0, a0)
    total = 0.0
    for a, b in _walk_periods_from(cal, a0):
        if a >= b0:
            break
        total += min(b, b0) - max(a, a0)
    return total


def walk_add(cal: Calendar, start: datetime, minutes: float) -> datetime:
    if minutes <= 0:
        return start.astimezone(UTC)
    return datetime.fromtimestamp(walk_add_seconds(cal, start.timestamp(), minutes * 60.0), UTC)


def walk_between(cal: Calendar, start: datetime, end: datetime) -> float:
    a0, b0 = start.timestamp(), end.timestamp()
    if b0 < a0:
        return -walk_between(cal, end, start)
    return walk_seconds_between(cal, a0, b0) / 60.0


def walk_next_start(cal: Calendar, t: datetime) -> datetime:
    ts = t.timestamp()
    for a, _b in _walk_periods_from(cal, ts):
        return datetime.fromtimestamp(max(a, ts), UTC)
    raise AssertionError("unreachable")


def walk_since(cal: Calendar, start: float, end: float, seconds: float):
    """What ``business_seconds_since`` must give: both answers, or the walk's error."""
    return _outcome(walk_seconds_between, cal, start, end), _outcome(walk_add_seconds, cal, start, seconds)


def _since_matches(cal: Calendar, start: float, end: float, seconds: float) -> bool:
    used, due = walk_since(cal, start, end, seconds)
    want = used if isinstance(used, tuple) else due if isinstance(due, tuple) else (used, due)
    return _same(_outcome(business_seconds_since, cal, start, end, seconds), want)


def _outcome(fn, *args):
    """The result, or the CalendarError message: both implementations must fail alike."""
    try:
        return fn(*args)
    except CalendarError as e:
        return ("CalendarError", str(e))


def _same(x, y) -> bool:
    # bit-identical floats (0.0 vs -0.0 included), identical datetimes
    if isinstance(x, float) and isinstance(y, float):
        return x.hex() == y.hex()
    if isinstance(x, tuple) and isinstance(y, tuple) and len(x) == len(y) == 2 and isinstance(x[0], float):
        return _same(x[0], y[0]) and _same(x[1], y[1])
    return x == y


# Zones with ordinary DST, southern-hemisphere DST, half-hour offsets and DST, switches at
# midnight (Havana skips 00:00-01:00; Beirut falls back from 00:00 to 23:00 of the day before),
# large offsets, and Apia, which skipped 30 Dec 2011 altogether.
_ZONES = {
    "Europe/London": [date(2026, 3, 29), date(2026, 10, 25)],
    "America/New_York": [date(2026, 3, 8), date(2026, 11, 1)],
    "America/Los_Angeles": [date(2025, 3, 9), date(2025, 11, 2)],
    "Australia/Sydney": [date(2026, 4, 5), date(2026, 10, 4)],
    "Australia/Lord_Howe": [date(2026, 4, 5), date(2026, 10, 4)],
    "Asia/Kolkata": [date(2026, 6, 1)],
    "America/St_Johns": [date(2026, 3, 8), date(2026, 11, 1)],
    "America/Havana": [date(2026, 3, 8), date(2026, 11, 1)],
    "Asia/Beirut": [date(2026, 3, 29), date(2026, 10, 25)],
    "Pacific/Kiritimati": [date(2026, 1, 1)],
    "Pacific/Pago_Pago": [date(2026, 1, 1)],
    "Pacific/Apia": [date(2011, 12, 30)],
    "UTC": [date(2026, 12, 25)],
}
_EDGES = [0, 30, 60, 90, 120, 150, 180, 210, 240, 480, 540, 600, 720, 780, 1020, 1050, 1080, 1320, 1380, 1410, 1439]


def _random_day(rnd: random.Random) -> tuple[tuple[int, int], ...]:
    k = rnd.choice((0, 0, 1, 1, 1, 2, 2, 3))
    marks = sorted(rnd.sample(sorted(set(_EDGES + [rnd.randrange(1440) for _ in range(4)])), 2 * k))
    periods = [(marks[2 * n], marks[2 * n + 1]) for n in range(k)]
    if periods and rnd.random() < 0.3:
        a, _ = periods[-1]
        periods[-1] = (a, a + rnd.choice((60, 240, 480, 1439 - a)) if a < 1439 else 1440)  # overnight or to 24:00
        periods[-1] = (a, min(periods[-1][1], a + 1439))
    return tuple(p for p in periods if p[1] > p[0])


def _random_calendar(rnd: random.Random, zone: str, switches: list[date]) -> Calendar:
    while True:
        week = tuple(_random_day(rnd) for _ in range(7))
        if not any(week):
            continue
        try:
            check_week(week)
        except CalendarError:
            continue
        break
    near = [s + timedelta(days=rnd.randrange(-10, 11)) for s in switches for _ in range(rnd.randrange(4))]
    country = rnd.choice((None, None, "GB", "US")) if switches[0].year > 2020 else None
    return Calendar(name=f"random {zone}", timezone=zone, week=week, country=country, holidays=frozenset(near))


def _random_instant(rnd: random.Random, cal: Calendar, switches: list[date]) -> datetime:
    day = rnd.choice(switches) + timedelta(days=rnd.randrange(-12, 13))
    if rnd.random() < 0.01:
        day += timedelta(days=rnd.choice((-1, 1)) * rnd.randrange(300, 5000))  # far off: regrow or restart
    if rnd.random() < 0.4:
        periods = cal.day_periods(day) or cal.day_periods(day + timedelta(days=1))
        if periods:  # exactly on a period edge, or a hair from it
            edge = rnd.choice([x for p in periods for x in p])
            return datetime.fromtimestamp(edge, UTC) + timedelta(microseconds=rnd.choice((0, 0, 1, -1, 500000)))
    local = datetime(day.year, day.month, day.day, tzinfo=cal.zone) + timedelta(minutes=rnd.randrange(1440))
    return local.astimezone(UTC) + timedelta(microseconds=rnd.randrange(-10**6, 10**6))


def _random_minutes(rnd: random.Random) -> float:
    return rnd.choice((
        rnd.randrange(1, 600),
        rnd.randrange(1, 20000),
        rnd.uniform(0.0001, 5000),
        rnd.choice((0, -5, 30, 60, 90, 510, 1020, 2550, 5100)),
        rnd.randrange(1, 10**7) / 60000,  # a whole number of milliseconds
    ))


@pytest.mark.parametrize("seed", range(4))
def test_timeline_matches_the_day_walk(seed):
    rnd = random.Random(seed)
    for zone, switches in _ZONES.items():
        for _ in range(2):
            cal = _random_calendar(rnd, zone, switches)
            for _ in range(40):
                t = _random_instant(rnd, cal, switches)
                if rnd.random() < 0.05:
                    u = _random_instant(rnd, cal, switches)  # possibly years apart
                else:
                    u = t + timedelta(minutes=rnd.randrange(-20000, 20000), microseconds=rnd.randrange(10**6))
                m = _random_minutes(rnd)
                checks = [
                    (_outcome(add_business_minutes, cal, t, m), _outcome(walk_add, cal, t, m)),
                    (_outcome(business_minutes_between, cal, t, u), _outcome(walk_between, cal, t, u)),
                    (_outcome(business_minutes_between, cal, u, t), _outcome(walk_between, cal, u, t)),
                    (_outcome(business_minutes_between, cal, t, t), _outcome(walk_between, cal, t, t)),
                    (_outcome(next_business_start, cal, t), _outcome(walk_next_start, cal, t)),
                ]
                # the POSIX-seconds forms the SLA engine uses, including both answers at once
                a, b, secs = t.timestamp(), u.timestamp(), m * 60.0
                checks.append((_outcome(business_seconds_between, cal, a, b), _outcome(walk_seconds_between, cal, a, b)))
                if m > 0:
                    checks.append((_outcome(add_business_seconds, cal, a, secs), _outcome(walk_add_seconds, cal, a, secs)))
                for got, want in checks:
                    assert _same(got, want), (zone, cal.week, cal.holidays, t, u, m, got, want)
                if m > 0 and b > a:
                    assert _since_matches(cal, a, b, secs), (zone, cal.week, cal.holidays, t, u, m)
                due = _outcome(add_business_minutes, cal, t, m)
                if isinstance(due, datetime) and m > 0:  # round trip through the other function
                    assert _same(business_minutes_between(cal, t, due), walk_between(cal, t, due))


def _mondays(hours: str = "09:00-17:00", **extra) -> Calendar:
    week = (tuple([parse_period(hours)]),) + ((),) * 6
    return Calendar(name="mondays", timezone="Europe/London", week=week, **extra)


def test_no_working_time_fails_like_the_day_walk():
    empty = Calendar(name="never", timezone="Europe/London", week=((),) * 7)
    t = utc(2026, 11, 23, 10)
    for fn, walk, args in (
        (add_business_minutes, walk_add, (t, 60)),
        (business_minutes_between, walk_between, (t, t + timedelta(days=1))),
        (business_minutes_between, walk_between, (t, t)),
        (next_business_start, walk_next_start, (t,)),
    ):
        got, want = _outcome(fn, empty, *args), _outcome(walk, empty, *args)
        assert got == want == ("CalendarError", f"calendar 'never' has no working time in {_MAX_SEARCH_DAYS} days")
    # Nothing to add needs no working time.
    assert add_business_minutes(empty, t, 0) == t
    assert not in_business_hours(empty, t)


@pytest.mark.parametrize("off_days", [_MAX_SEARCH_DAYS - 7, _MAX_SEARCH_DAYS + 7, _MAX_SEARCH_DAYS + 400])
def test_long_holidays_fail_exactly_where_the_day_walk_gives_up(off_days):
    # Mondays only, and every Monday for ``off_days`` days from 7 Dec 2026 is a holiday: the walk
    # gives up once it meets more than _MAX_SEARCH_DAYS empty days in a row, counted from the day
    # before the start, so the outcome depends on where inside the break a question starts.
    first_off = date(2026, 12, 7)
    off = frozenset(first_off + timedelta(days=n) for n in range(0, off_days, 7))
    rnd = random.Random(off_days)
    shared = _mondays(holidays=off)  # grows as the questions come, in no particular order
    starts = [utc(2026, 11, 30, 12), utc(2026, 12, 1, 12), utc(2027, 6, 1), utc(2029, 1, 1)]
    starts += [utc(2026, 11, 23) + timedelta(hours=rnd.randrange(24 * (off_days + 60))) for _ in range(25)]
    outcomes = set()
    for n, t in enumerate(starts):
        # a fresh calendar too: its first question starts the timeline from scratch
        cal = shared if n % 2 else _mondays(holidays=off)
        for m in (30, 480, 600, 5000):
            got, want = _outcome(add_business_minutes, cal, t, m), _outcome(walk_add, cal, t, m)
            assert got == want, (t, m, got, want)
            outcomes.add(type(got))
        u = t + timedelta(days=rnd.randrange(1, 1500))
        assert _same(_outcome(business_minutes_between, cal, t, u), _outcome(walk_between, cal, t, u)), (t, u)
        for c in (cal, _mondays(holidays=off)):
            assert _since_matches(c, t.timestamp(), u.timestamp(), 600.0), (t, u)
            assert _since_matches(c, t.timestamp(), t.timestamp() + 60.0, 300000.0), t  # only the due crosses
        assert _outcome(next_business_start, cal, t) == _outcome(walk_next_start, cal, t), t
    if off_days > _MAX_SEARCH_DAYS:
        assert outcomes == {datetime, tuple}  # some questions cross the break, some fail


def test_questions_from_deep_inside_a_very_long_break():
    # Mondays only, off for three times the search limit. The walk counts empty days from the
    # day before each question's start, not from the last working day the calendar has seen.
    first_off = date(2026, 12, 7)
    days = 7 * (3 * _MAX_SEARCH_DAYS // 7)  # whole weeks, so ``back`` is a Monday
    cal = _mondays(holidays=frozenset(first_off + timedelta(days=n) for n in range(0, days, 7)))
    back = datetime(2026, 12, 7, 9, tzinfo=UTC) + timedelta(days=days)  # the first Monday worked again
    questions = [
        (utc(2026, 11, 30, 12), 5000),  # runs into the break: fails
        (back - timedelta(days=200), 600),  # starts late enough to reach the end of the break
        (back - timedelta(days=_MAX_SEARCH_DAYS + 30), 60),  # too early: fails
        (back - timedelta(days=_MAX_SEARCH_DAYS - 5), 60),  # just late enough
    ]
    got = [_outcome(add_business_minutes, cal, t, m) for t, m in questions]
    assert got == [_outcome(walk_add, cal, t, m) for t, m in questions]
    assert [type(g) for g in got] == [tuple, datetime, tuple, datetime]
    t = back - timedelta(days=100)
    assert business_minutes_between(cal, t, back + timedelta(days=8)) == walk_between(cal, t, back + timedelta(days=8)) == 960


def test_bisect_on_rounded_sums_lands_on_the_walks_period():
    # 23 hours a day, asked about a year after the timeline's first day: the running sum of
    # business seconds is near 2**25, where a double's step (2**-28 s) is coarser than the
    # billionth of a second added below, so "sum so far + what is left" rounds down onto the
    # very end of a period. The walk still needs a little of the next period (an hour later).
    cal = make({d: ["00:00-23:00"] for d in DAYS}, "UTC")
    assert next_business_start(cal, utc(2025, 1, 1))  # the timeline starts here...
    start = utc(2026, 3, 2).timestamp()  # ...and grows to here, a period start
    for days in (1, 2, 5):
        seconds = 82800.0 * (days + 1) + 1e-9
        due = add_business_seconds(cal, start, seconds)
        assert _same(due, walk_add_seconds(cal, start, seconds))
        assert due == start + 86400.0 * (days + 1)  # (+ 1e-9 is below a timestamp's step) not its eve
        assert _since_matches(cal, start, start + 3600.0, seconds)


@pytest.mark.parametrize("weeks", [2 * _MAX_SEARCH_DAYS // 7, 3 * _MAX_SEARCH_DAYS // 7])
def test_questions_from_every_month_of_a_long_break(weeks):
    # One calendar asked from a month apart each, after a question that ran into the break:
    # however far the timeline has grown, each answer is the walk's.
    first_off = date(2026, 12, 7)
    cal = _mondays(holidays=frozenset(first_off + timedelta(weeks=n) for n in range(weeks)))
    assert isinstance(_outcome(add_business_minutes, cal, utc(2026, 11, 30, 12), 5000), tuple)
    for days in range(0, 7 * weeks + 60, 30):
        t = datetime(2026, 12, 7, 12, tzinfo=UTC) + timedelta(days=days)
        assert _outcome(add_business_minutes, cal, t, 60) == _outcome(walk_add, cal, t, 60), t
