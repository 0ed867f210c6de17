"""Forms and keys: the focused field shows, bursts of keys all count, help and palette list what
there is, multi-line notes, and the snooze limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual import events
from textual.widgets import Select

from deskwatch.core.config.runtime import parse_tui
from deskwatch.core.model.settings import ConfigError, Section
from deskwatch.tui.screens.form import FormScreen
from deskwatch.tui.screens.help import HelpScreen
from deskwatch.tui.screens.ticket import TicketScreen
from deskwatch.tui.widgets.queue_table import QueueTable

from ..conftest import NOW
from .helpers import screen_text, widget_text


def burst(app, *keys: str) -> None:
    """Keys that arrive in one read (a slow SSH link): queued at once, nothing awaited between."""
    for k in keys:
        app.post_message(events.Key(k, k if len(k) == 1 else None))


async def test_the_focused_field_is_highlighted_without_needing_many_colours(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, FormScreen)
        await pilot.press("tab")  # from the tier list to the team field
        await pilot.pause()
        focused, other = form.query_one("#f-team"), form.query_one("#f-agent")
        assert app.focused is focused
        # ANSI colours: a 16-colour terminal shows them as they are (hex ones get remapped)
        assert focused.styles.background.ansi is not None and focused.styles.background != other.styles.background
        labels = [row.query_one(".form-label") for row in form.query(".form-row")]
        reversed_ = [str(label.render()) for label in labels if "reverse" in str(label.rich_style)]
        assert reversed_ == ["Team"]  # the label of the focused field, in reverse video: no colour needed
        await pilot.press("shift+tab")
        await pilot.pause()
        assert isinstance(app.focused, Select)
        current = app.focused.query_one("SelectCurrent")
        assert current.styles.background.ansi is not None


async def test_keys_that_arrive_together_all_count_on_the_ticket_screen(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        burst(app, "j", "enter", "j", "j")
        await pilot.pause(0.3)
        # Enter opened the row it was pressed on, not the one the next keys moved to
        assert isinstance(app.screen, TicketScreen) and app.screen.ticket_id == "zendesk:2"
        body = app.screen.query_one("#ticket")
        start = body.scroll_y
        burst(app, *"jjjjj")
        await pilot.pause(0.3)
        assert body.scroll_y == start + 5
        burst(app, "k", "k")
        await pilot.pause(0.3)
        assert body.scroll_y == start + 3


async def test_help_lists_the_form_keys(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        lines = widget_text(app.screen.query_one("#help Static"), width=100).splitlines()
        assert any("Forms" in line for line in lines)
        assert any(line.split()[:1] == ["Ctrl+S"] and "Submit the form" in line for line in lines)
        assert any(line.split()[:1] == ["Esc"] and "Close without doing anything" in line for line in lines)


async def test_palette_offers_deskwatch_commands_and_ticket_subjects(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause(0.5)
        text = screen_text(app)
        for offered in ("Escalate ticket", "Acknowledge ticket", "Review low-confidence decisions"):
            assert offered in text, offered  # deskwatch's commands, before anything is typed
        assert "Theme" not in text and "Screenshot" not in text
        await pilot.press(*"open ticket")
        await pilot.pause(0.5)
        assert "Open ticket freshdesk:10  Outage: dashboards not loading" in screen_text(app)
        await pilot.press(*["backspace"] * len("open ticket"))
        await pilot.press(*"production api")
        await pilot.pause(0.5)
        assert "Open ticket zendesk:2  Production API down for all users" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen) and app.screen.ticket_id == "zendesk:2"


async def test_notes_have_several_lines(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.press(*"Called the customer", "enter", *"refund sent Friday")
        assert isinstance(app.screen, FormScreen)  # Enter added a line; it did not submit
        await pilot.press("ctrl+s")
        await pilot.pause()
        [note] = [r for r in store.audit_for("freshdesk:10") if r.kind == "note"]
        assert note.data["text"] == "Called the customer\nrefund sent Friday"


async def test_snooze_refuses_more_than_the_configured_maximum(app, store, console):
    console.max_snooze = timedelta(days=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        table.move_cursor(row=table.get_row_index("zendesk:2"))
        await pilot.press("z")
        app.screen.query_one("#f-until").value = "3d"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)  # refused: the form stays open and says why
        error = str(app.screen.query_one("#form-error").render())
        assert "snooze at most 2d" in error and "max_snooze" in error
        assert store.ack_state("zendesk:2") is None or store.ack_state("zendesk:2").snoozed_until is None
        app.screen.query_one("#f-until").value = "2d"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert store.ack_state("zendesk:2").snoozed_until == NOW + timedelta(days=2)


def test_max_snooze_config():
    assert parse_tui(Section({}, "tui", "config.toml")).max_snooze == timedelta(days=7)
    assert parse_tui(Section({"max_snooze": "36h"}, "tui", "config.toml")).max_snooze == timedelta(hours=36)
    with pytest.raises(ConfigError, match=r'tui.max_snooze: expected a duration such as "12h" or "7d"'):
        parse_tui(Section({"max_snooze": "a week"}, "tui", "config.toml"))
