"""Failed helpdesk updates in the console (reason, fix, retry) and tone labels (issues 16, 13)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deskwatch.core.daemon import operations
from deskwatch.core.engine.text import new_text
from deskwatch.core.learn.history import tone_examples
from deskwatch.core.model import TicketUpdate
from deskwatch.tui.screens.failed import FailedScreen
from deskwatch.tui.screens.form import FormScreen
from deskwatch.tui.screens.overview import OverviewScreen
from deskwatch.tui.screens.ticket import TicketScreen

from ..conftest import NOW
from .helpers import widget_text

UNMAPPED = "zendesk PUT /api/v2/tickets/2.json -> 422 Unprocessable Entity: group 'platform' is not a valid group id"


def fail(store, tid: str, key: str, error: str, *, retry_at=None, at=NOW) -> None:
    """An update that went to the helpdesk and was refused."""
    store.enqueue(TicketUpdate(tid, tid.split(":")[0], key, group="platform"), at)
    assert [i.key for i in store.claim(tid.split(":")[0], 10, at)] == [key]
    store.mark_failed(key, error, retry_at)


def audit_of(store, tid: str, kind: str) -> list:
    return [r for r in store.audit_for(tid) if r.kind == kind]


async def test_overview_counts_and_lists_failed_updates_with_the_fix(app, store):
    fail(store, "zendesk:2", "k-group", UNMAPPED)
    fail(store, "zendesk:1", "k-later", "zendesk PUT -> 503 Service Unavailable; will retry", retry_at=NOW + timedelta(minutes=5))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        text = widget_text(app.screen.query_one("#ov-failed"), width=100)
        assert "1 given up, 1 to be retried" in text
        assert "zendesk:2" in text and "422 Unprocessable Entity" in text
        assert "fix: map the deskwatch team/agent name to the helpdesk's id in [sources.<name>.groups]" in text
        assert "u: list, retry" in text
        await pilot.press("u")
        assert isinstance(app.screen, FailedScreen)


async def test_the_overview_names_the_key_tui_keys_gave_the_list(store, clock):
    from deskwatch.tui.app import DeskwatchApp
    from deskwatch.tui.context import Console

    fail(store, "zendesk:2", "k-group", UNMAPPED)
    app = DeskwatchApp(Console(store=store, actor="ana", clock=clock, refresh_interval=60.0, keymap={"overview.failed": "F"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "F: list, retry" in widget_text(app.screen.query_one("#ov-failed"), width=100)
        await pilot.press("F")
        assert isinstance(app.screen, FailedScreen)


async def test_retry_a_failed_update_from_the_list(app, store):
    fail(store, "zendesk:2", "k-group", UNMAPPED)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await pilot.press("u")
        screen = app.screen
        assert isinstance(screen, FailedScreen)
        status = widget_text(screen.query_one("#failed-status"))
        assert "1 failed update(s): 1 given up" in status
        detail = widget_text(screen.query_one("#failed-detail"), width=200)
        assert "422 Unprocessable Entity" in detail and "fix: map the deskwatch team/agent name" in detail
        await pilot.press("t")
        await pilot.pause()
        item = store.outbox_item("k-group")
        assert (item.state, item.attempts, item.retry_at) == ("pending", 0, None)  # the daemon claims it at once
        [rec] = audit_of(store, "zendesk:2", "retry_update")
        assert rec.actor == "ana" and rec.data["key"] == "k-group" and rec.data["attempts"] == 1
        assert "422" in rec.data["error"] and rec.data["gave_up"] is True
        assert "no failed updates" in widget_text(screen.query_one("#failed-status"))
        assert store.claim("zendesk", 10, NOW)[0].key == "k-group"  # sent again, once
        await pilot.press("t")  # nothing left to retry: said, nothing recorded
        await pilot.pause()
        assert len(audit_of(store, "zendesk:2", "retry_update")) == 1
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)


async def test_ticket_screen_shows_the_fix_and_retries(app, store):
    fail(store, "zendesk:2", "k-group", UNMAPPED)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(TicketScreen("zendesk:2"))
        await pilot.pause()
        out = widget_text(app.screen.query_one("#t-outbox"), width=200)
        assert "failed: " + UNMAPPED in out
        assert "fix: map the deskwatch team/agent name" in out and "t: send it again" in out
        await pilot.press("t")
        await pilot.pause()
        assert store.outbox_item("k-group").state == "pending"
        assert len(audit_of(store, "zendesk:2", "retry_update")) == 1
        app.screen.tick()
        await pilot.pause()
        out = widget_text(app.screen.query_one("#t-outbox"), width=200)
        assert "waiting to be sent" in out and "fix:" not in out


async def test_ticket_with_several_failures_asks_which_to_retry(app, store):
    fail(store, "zendesk:2", "k-old", UNMAPPED, at=NOW - timedelta(hours=1))
    fail(store, "zendesk:2", "k-new", "zendesk -> 403 Forbidden", at=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(TicketScreen("zendesk:2"))
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        await pilot.press("ctrl+s")  # the newest is preselected
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)
        assert store.outbox_item("k-new").state == "pending" and store.outbox_item("k-old").state == "failed"


def test_retry_update_refuses_what_it_cannot_retry(store):
    with pytest.raises(operations.OperationError, match="unknown update 'nope'.*deskwatch status --json"):
        operations.retry_update(store, "nope", "ana", NOW)
    fail(store, "zendesk:2", "k-group", UNMAPPED)
    store.enqueue(TicketUpdate("freshdesk:10", "freshdesk", "k-wait", priority="high"), NOW)
    with pytest.raises(operations.OperationError, match=r"has not failed \(it is waiting to be sent\); nothing to retry"):
        operations.retry_update(store, "k-wait", "ana", NOW)
    with pytest.raises(operations.OperationError, match="no actor"):
        operations.retry_update(store, "k-group", " ", NOW)
    assert store.outbox_item("k-group").state == "failed"
    assert audit_of(store, "zendesk:2", "retry_update") == []


async def test_label_the_latest_customer_message_tone(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(TicketScreen("zendesk:2"))
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.values()["message"].startswith("#3 ")  # the latest customer message, preselected
        form.query_one("#f-tone").value = "negative"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)
        [rec] = audit_of(store, "zendesk:2", "tone_label")
        latest = store.get_ticket("zendesk:2").messages[2]
        assert rec.actor == "ana" and rec.data["label"] == "negative" and rec.data["message"] == 2
        assert rec.data["text"] == new_text(latest.body).strip()
        assert store.outbox_for("zendesk:2") == []  # local: nothing goes to the helpdesk
        # what `deskwatch learn` trains the tone model on
        [example] = [e for e in tone_examples(store._conn) if e.where == "zendesk:2"]
        assert (example.label, example.text) == ("negative", rec.data["text"])
        app.screen.tick()  # the next poll of the store
        await pilot.pause()
        audit = widget_text(app.screen.query_one("#t-audit"), width=200)
        assert "ana labelled the customer's message #3 of 2026-11-23 09:00Z negative" in audit


async def test_label_an_earlier_message_from_the_palette(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(TicketScreen("zendesk:2"))
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.press(*"tone")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormScreen)
        first = next(c for c in form.fields[0].choices if c.startswith("#1 "))
        form.query_one("#f-message").value = first
        form.query_one("#f-tone").value = "neutral"
        await pilot.press("ctrl+s")
        await pilot.pause()
        [rec] = audit_of(store, "zendesk:2", "tone_label")
        assert rec.data["label"] == "neutral" and rec.data["message"] == 0
        assert rec.data["text"].startswith("Our production API has been down for an hour")


def test_label_tone_refuses_bad_input(store):
    with pytest.raises(operations.OperationError, match="unknown tone 'angry-ish'; expected one of negative, neutral, positive"):
        operations.label_tone(store, "zendesk:2", "angry-ish", "ana", NOW)
    with pytest.raises(operations.OperationError, match="message 1 of zendesk:2 is not a customer message; choose one of 0, 2"):
        operations.label_tone(store, "zendesk:2", "negative", "ana", NOW, message=1)
    with pytest.raises(operations.OperationError, match="unknown ticket"):
        operations.label_tone(store, "zendesk:999", "negative", "ana", NOW)
    assert audit_of(store, "zendesk:2", "tone_label") == []
    operations.label_tone(store, "zendesk:2", " Positive ", "ana", NOW, message=0)
    assert audit_of(store, "zendesk:2", "tone_label")[0].data["label"] == "positive"
    with pytest.raises(operations.OperationError, match="message 0 of zendesk:2 is already labelled positive .by ana.; nothing recorded"):
        operations.label_tone(store, "zendesk:2", "positive", "bo", NOW, message=0)
    operations.label_tone(store, "zendesk:2", "neutral", "bo", NOW, message=0)  # a second opinion is kept
    assert [r.data["label"] for r in audit_of(store, "zendesk:2", "tone_label")] == ["positive", "neutral"]


async def test_help_and_palette_list_the_new_keys(app):
    from deskwatch.tui.screens.help import HelpScreen

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        plain = widget_text(app.screen.query_one("#help Static"), width=120)
        assert "Label a customer message's tone (negative, neutral, positive)" in plain
        assert "Send a failed helpdesk update of this ticket again" in plain
        assert "Failed helpdesk updates: reason, fix, retry" in plain
        assert "Send the failed update under the cursor again" in plain
