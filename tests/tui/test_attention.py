"""Management attention, pages, the handoff brief and where evidence is highlighted (issue 17)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from deskwatch.core.model import Management, Message, Route
from deskwatch.core.store import QueueFilter
from deskwatch.tui import display
from deskwatch.tui.screens.ticket import TicketScreen
from deskwatch.tui.widgets.queue_table import QueueTable

from ..conftest import NOW
from ..store.factory import decision
from .helpers import widget_text


def _escalated(store):
    d = decision("freshdesk:11", score=96, recommendation="immediate", tier="tier3", team="billing")
    store.record_decision(replace(
        d, management=Management(("refund of 40k promised by sales", "legal threat"), ("my lawyer",)),
        page=True, page_reason="enterprise customer, money at stake",
        route=Route("tier3", "billing", "bob", True, 0, "billing on call", management="vp-support"),
    ))


def test_queue_rows_carry_the_attention_mark(store):
    _escalated(store)
    rows = {r.ticket_id: r for r in store.queue(QueueFilter(), now=NOW)}
    assert rows["freshdesk:11"].attention == "page"
    assert rows["zendesk:2"].attention is None
    store.record_decision(replace(decision("zendesk:1"), management=Management(("exec complaint",))))
    assert {r.ticket_id: r for r in store.queue(QueueFilter(), now=NOW)}["zendesk:1"].attention == "management"
    assert display.subject_cell(rows["freshdesk:11"]).plain.startswith("PAGED ")


async def test_ticket_screen_shows_attention_page_and_brief(app, store):
    _escalated(store)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        table.move_cursor(row=table.get_row_index("freshdesk:11"))
        await pilot.press("enter")
        await pilot.pause()
        s = app.screen
        assert isinstance(s, TicketScreen)
        text = " ".join(widget_text(s.query_one("#t-attention"), 100).split())
        assert "PAGED bob: enterprise customer, money at stake" in text
        assert "MANAGEMENT to vp-support" in text and "refund of 40k promised by sales" in text and "my lawyer" in text
        brief = widget_text(s.query_one("#t-brief"), 100)
        assert "deskwatch brief - freshdesk:11" in brief and "SIMILAR SOLVED TICKETS" in brief and "WHY AND WHERE" in brief
        # computed when the screen opens, not per refresh
        calls = []
        store.similar = lambda *a, **k: calls.append(1) or []  # type: ignore[method-assign]
        s.tick()
        await pilot.pause()
        assert calls == []


async def test_evidence_is_highlighted_in_the_customers_words_only(app, store):
    t = store.get_ticket("zendesk:2")
    store.save_page("zendesk", [replace(t, messages=(*t.messages, Message(
        "agent", NOW - timedelta(minutes=5), "deskwatch: escalated, evidence 'unacceptable'", False, "dw-1")))], (), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(TicketScreen("zendesk:2"))
        await pilot.pause()
        conv = app.screen.query_one("#t-conversation").content
        marked = [sp.start for sp in conv.spans if "yellow" in str(sp.style)]
        note_at = conv.plain.index("deskwatch: escalated")
        assert marked and all(start < note_at for start in marked)
