"""Helpdesk HTML shown as text in the console, never as tags or entities."""

from __future__ import annotations

from datetime import timedelta

from deskwatch.core.model import Message
from deskwatch.tui.htmltext import looks_like_html, one_line, to_text

from ..conftest import NOW
from ..store.factory import ticket
from .helpers import screen_text, widget_text

FRESHDESK_NOTE = ('<div>Hi team,<br>the export says &quot;error 500&quot; again.</div>'
                  '<div><ul><li>since 09:00</li><li>all users</li></ul></div><p>Status: <a href="https://status.example">page</a></p>')


def test_html_becomes_lines_of_text():
    text = to_text(FRESHDESK_NOTE)
    assert text.splitlines() == ["Hi team,", 'the export says "error 500" again.', "- since 09:00", "- all users",
                                 "Status: page (https://status.example)"]
    assert "<" not in text and "&quot;" not in text


def test_plain_text_stays_and_one_line_joins():
    assert to_text("a < b and c > d & e") == "a < b and c > d & e"  # not HTML: untouched
    assert not looks_like_html("x <= 3")
    assert to_text("<p>a</p><blockquote>quoted</blockquote>") == "a\nquoted"  # the console shows the whole message
    assert one_line("<p>Invoice</p><p>overdue &amp; unpaid</p>") == "Invoice overdue & unpaid"
    assert to_text("") == "" and to_text(None) == ""


async def test_console_shows_helpdesk_html_as_text(app, store):
    store.save_page("freshdesk", [ticket(
        "freshdesk:12", subject="Export &quot;broken&quot;", email="h@eta.example", org="Eta &amp; Co", body=FRESHDESK_NOTE,
        extra_messages=(Message("agent", NOW - timedelta(minutes=5), "<p>Looking <b>now</b>.</p>", False, "ag-1"),))], (), None)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        queue = screen_text(app)
        assert 'Export "broken"' in queue and "Eta & Co" in queue and "&quot;" not in queue and "&amp;" not in queue
        table = app.screen.table
        table.move_cursor(row=table.get_row_index("freshdesk:12"))
        await pilot.press("enter")
        await pilot.pause()
        head = widget_text(app.screen.query_one("#t-header"), width=118)
        conv = widget_text(app.screen.query_one("#t-conversation"), width=118)
        assert 'Export "broken"' in head and "Eta & Co" in head and "&quot;" not in head
        assert 'the export says "error 500" again.' in conv and "- all users" in conv and "Looking now." in conv
        for raw in ("<div>", "<br>", "&quot;", "<p>", "<b>"):
            assert raw not in conv and raw not in head
