"""On-call rotations: daily and weekly hand-offs in local time, DST switches, overrides."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest

from deskwatch.core.policy.oncall import Override, Rotation, on_call_for, parse_rotation, scheduled_for
from deskwatch.core.model.settings import ConfigError, Section


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=timezone.utc)


def weekly(**kw) -> Rotation:
    base = dict(
        name="Engineering on call",
        team="Engineering",
        members=("Farah", "Gus", "Dev", "Elif"),
        period="weekly",
        handoff=time(9, 0),
        timezone="Europe/Berlin",
        start=date(2026, 1, 5),  # a Monday
    )
    base.update(kw)
    return Rotation(**base)


def test_weekly_rotation_hand_worked():
    # 2026-01-05 .. 2026-11-23 is 322 days = 46 weeks; 46 % 4 = 2 -> Dev from Monday 09:00 Berlin.
    r = weekly()
    assert on_call_for(r, utc(2026, 11, 23, 8, 0)) == "Dev"  # 09:00 CET, the hand-off itself
    assert on_call_for(r, utc(2026, 11, 23, 7, 59)) == "Gus"  # 08:59 CET, still last week's shift
    assert on_call_for(r, utc(2026, 11, 29, 22, 0)) == "Dev"  # Sunday night
    assert on_call_for(r, utc(2026, 11, 30, 8, 0)) == "Elif"
    assert on_call_for(r, utc(2026, 12, 7, 8, 0)) == "Farah"  # wraps around


def test_first_shift_starts_on_the_start_date():
    r = weekly()
    assert on_call_for(r, utc(2026, 1, 5, 8, 0)) == "Farah"
    assert on_call_for(r, utc(2026, 1, 12, 7, 59)) == "Farah"
    assert on_call_for(r, utc(2026, 1, 12, 8, 0)) == "Gus"


def test_daily_hand_off_follows_local_time_across_spring_dst_switch():
    # Berlin switches to summer time on 2026-03-29: 09:00 local moves from 08:00Z to 07:00Z.
    r = weekly(period="daily", members=("A", "B"), start=date(2026, 3, 1))
    # Shift n (n = days since the start) goes to members[n % 2].
    assert on_call_for(r, utc(2026, 3, 28, 7, 30)) == "A"  # 08:30 CET: still the 27th's shift (day 26 -> A)
    assert on_call_for(r, utc(2026, 3, 28, 8, 0)) == "B"  # 09:00 CET: shift of the 28th (day 27 -> B)
    assert on_call_for(r, utc(2026, 3, 30, 7, 0)) == "B"  # 09:00 CEST on the 30th (day 29 -> B)
    assert on_call_for(r, utc(2026, 3, 30, 6, 59)) == "A"  # 08:59 CEST: the 29th's shift (day 28 -> A)


def test_daily_hand_off_follows_local_time_across_autumn_dst_switch():
    # New York falls back on 2026-11-01: 09:00 local moves from 13:00Z to 14:00Z.
    r = weekly(period="daily", members=("A", "B"), start=date(2026, 10, 1), timezone="America/New_York")
    assert on_call_for(r, utc(2026, 10, 31, 12, 59)) == "B"  # 08:59 EDT: the 30th's shift (day 29 -> B)
    assert on_call_for(r, utc(2026, 10, 31, 13, 0)) == "A"  # 09:00 EDT: day 30 -> A
    assert on_call_for(r, utc(2026, 11, 1, 14, 0)) == "B"  # 09:00 EST on the 1st: day 31 -> B
    assert on_call_for(r, utc(2026, 11, 2, 13, 30)) == "B"  # 08:30 EST: still the 1st's shift
    assert on_call_for(r, utc(2026, 11, 2, 14, 0)) == "A"  # 09:00 EST: day 32 -> A


def test_hand_off_inside_the_skipped_hour_happens_when_the_clock_jumps():
    # 02:30 does not exist in Berlin on 2026-03-29: clocks go from 02:00 CET to 03:00 CEST at 01:00Z.
    r = weekly(period="daily", members=("A", "B"), start=date(2026, 3, 1), handoff=time(2, 30))
    before = on_call_for(r, utc(2026, 3, 29, 0, 59))  # 01:59 CET
    after = on_call_for(r, utc(2026, 3, 29, 1, 0))  # 03:00 CEST
    assert (before, after) == ("B", "A")  # day 27 -> B until the jump, then day 28 -> A


def test_override_for_a_date_range_wins_in_local_dates():
    r = weekly(overrides=(Override(agent="Elif", start=date(2026, 12, 24), end=date(2026, 12, 26)),))
    # Week of 2026-12-21 is shift 50 -> 50 % 4 = 2 -> Dev.
    assert scheduled_for(r, utc(2026, 12, 24, 12, 0)) == "Dev"
    assert on_call_for(r, utc(2026, 12, 23, 22, 59)) == "Dev"  # 23:59 Berlin on the 23rd
    assert on_call_for(r, utc(2026, 12, 23, 23, 0)) == "Elif"  # 00:00 Berlin on the 24th
    assert on_call_for(r, utc(2026, 12, 26, 22, 59)) == "Elif"  # last minute of the 26th
    assert on_call_for(r, utc(2026, 12, 26, 23, 0)) == "Dev"


def test_override_with_replaces_only_swaps_that_person():
    swap = Override(agent="Farah", start=date(2026, 11, 1), end=date(2026, 12, 31), replaces="Gus")
    r = weekly(overrides=(swap,))
    assert on_call_for(r, utc(2026, 11, 20, 12, 0)) == "Farah"  # Gus's week, Farah covers
    assert on_call_for(r, utc(2026, 11, 24, 12, 0)) == "Dev"  # Dev's week is untouched


def test_first_matching_override_wins():
    a = Override(agent="Elif", start=date(2026, 11, 23), end=date(2026, 11, 23))
    b = Override(agent="Farah", start=date(2026, 11, 20), end=date(2026, 11, 30))
    assert on_call_for(weekly(overrides=(a, b)), utc(2026, 11, 23, 12, 0)) == "Elif"
    assert on_call_for(weekly(overrides=(a, b)), utc(2026, 11, 24, 12, 0)) == "Farah"


def _rotation(**over) -> dict:
    d = {
        "name": "r",
        "team": "Engineering",
        "members": ["Farah", "Gus"],
        "period": "daily",
        "handoff": "09:00",
        "timezone": "Europe/Berlin",
        "start": "2026-01-05",
    }
    d.update(over)
    return d


def _error(data: dict) -> str:
    with pytest.raises(ConfigError) as e:
        parse_rotation(Section(data, "routing.rotations[0]", "config.toml"))
    return str(e.value)


def test_parse_rotation_reads_every_field():
    r = parse_rotation(
        Section(_rotation(overrides=[{"agent": "Gus", "from": "2026-12-24", "to": "2026-12-26", "replaces": "Farah"}]))
    )
    assert r == Rotation(
        "r", "Engineering", ("Farah", "Gus"), "daily", time(9, 0), "Europe/Berlin", date(2026, 1, 5),
        (Override("Gus", date(2026, 12, 24), date(2026, 12, 26), "Farah"),),
    )


def test_rotation_config_errors_name_the_key_and_the_fix():
    assert _error(_rotation(timezone="Europe/Berln")) == (
        'config.toml: routing.rotations[0].timezone: unknown time zone "Europe/Berln"; '
        'use an IANA name such as "Europe/Berlin" or "UTC"'
    )
    assert 'handoff: expected a time of day such as "09:00", got "9am"' in _error(_rotation(handoff="9am"))
    assert "period: expected one of daily, weekly" in _error(_rotation(period="monthly"))
    assert "members: is empty" in _error(_rotation(members=[]))
    assert "start: expected a date such as 2026-12-31" in _error(_rotation(start="soon"))
    assert "overrides[0].to: ends (2026-12-01) before it starts (2026-12-05)" in _error(
        _rotation(overrides=[{"agent": "Gus", "from": "2026-12-05", "to": "2026-12-01"}])
    )
