"""How values look: countdowns, durations, account values, snooze times, evidence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deskwatch.tui import display

from ..conftest import NOW


def test_countdown_and_duration():
    assert display.countdown(NOW + timedelta(minutes=45, seconds=30), NOW) == "45m"
    assert display.countdown(NOW - timedelta(minutes=12), NOW) == "-12m"
    assert display.countdown(NOW + timedelta(hours=5), NOW) == "5h"
    assert display.countdown(NOW + timedelta(days=3), NOW) == "3d"
    assert display.countdown(NOW + timedelta(seconds=20), NOW) == "20s"
    assert display.countdown(None, NOW) == ""


def test_money():
    assert [display.money(v) for v in (None, 0.0, 950.0, 48000.0, 1_200_000.0, 2_000_000.0)] == ["", "", "950", "48k", "1.2M", "2M"]


def test_parse_until():
    assert display.parse_until("30m", NOW) == NOW + timedelta(minutes=30)
    assert display.parse_until(" 2h ", NOW) == NOW + timedelta(hours=2)
    assert display.parse_until("1d", NOW) == NOW + timedelta(days=1)
    assert display.parse_until("2026-11-24T09:00:00Z", NOW) == NOW.replace(day=24, hour=9)
    with pytest.raises(ValueError, match="type 30m, 2h, 1d"):
        display.parse_until("after lunch", NOW)


def test_highlight_marks_every_evidence_word_case_insensitively():
    text = display.highlight("Still DOWN. The API is down for all users", ["down", "all users", ""])
    marked = [text.plain[s.start:s.end] for s in text.spans]
    assert sorted(marked) == ["DOWN", "all users", "down"]


def test_bar():
    assert display.bar(10, 10, 4) == "████"
    assert display.bar(5, 10, 4) == "██"
    assert display.bar(0, 10, 4) == "" and display.bar(3, 0, 4) == ""
    assert len(display.bar(1, 10, 4)) == 1  # a sliver, not nothing
