"""A few pictures at 80x24 with a frozen clock. Regenerate (after checking the change is wanted)
with `pytest tests/tui/test_snapshots.py --snapshot-update` on textual 8.2.8 only."""

from __future__ import annotations

import pytest
import textual

pytestmark = pytest.mark.skipif(textual.__version__ != "8.2.8", reason="snapshots are pinned to textual 8.2.8")


@pytest.fixture(autouse=True)
def pinned_terminal(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    for name in ("COLORTERM", "NO_COLOR", "TEXTUAL_THEME", "TEXTUAL_COLOR_SYSTEM"):
        monkeypatch.delenv(name, raising=False)


def test_queue_80x24(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24))


def test_ticket_80x24(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), press=["down", "enter"])


def test_escalate_form_80x24(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), press=["e"])
