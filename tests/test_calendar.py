"""Business-time arithmetic, checked against due times worked out by hand in the comments."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from deskwatch.core.calendar import (
    Calendar,
    CalendarError,
    add_business_minutes,
    business_minutes_between,
    calendar_from_config,
    in_business_hours,
    next_business_start,
    parse_period,
)
from deskwatch.core.settings import ConfigError, Section

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
