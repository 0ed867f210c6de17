"""Acknowledge takes the ticket; assign hands it to a person or a team (issue 17)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.widgets import Select

from deskwatch.core import config
from deskwatch.core.daemon import operations
from deskwatch.core.store import QueueFilter
from deskwatch.tui.app import DeskwatchApp
from deskwatch.tui.screens.queue import QueueScreen
from deskwatch.tui.widgets.queue_table import QueueTable

from ..conftest import NOW
from .test_actions import fill_form, on_ticket


def test_acknowledge_assigns_only_when_asked(store):
    operations.acknowledge(store, "zendesk:1", "li", NOW, write_back=True)
    assert store.get_ticket("zendesk:1").assignee is None and store.outbox_for("zendesk:1")[0].update.assignee is None
    queued = operations.acknowledge(store, "zendesk:2", "li", NOW, write_back=True, assign=True)
    assert [u.assignee for u in queued if u.assignee] == ["li"]
    assert store.get_ticket("zendesk:2").assignee == "li"
    assert [r.ticket_id for r in store.queue(QueueFilter(assignee="li"), now=NOW)] == ["zendesk:2"]
    [ack] = [r for r in store.audit_for("zendesk:2") if r.kind == "acknowledge"]
    assert ack.data["assignee"] == "li"


def test_assign_checks_the_routing_config_and_records_who(store):
    routing = config.load(None).routing
    with pytest.raises(operations.OperationError, match="not a member of Engineering"):
        operations.assign(store, "zendesk:1", agent="Ana", team="Engineering", actor="li", now=NOW, routing_config=routing)
    with pytest.raises(operations.OperationError, match="a person or a team"):
        operations.assign(store, "zendesk:1", actor="li", now=NOW)
    [u] = operations.assign(store, "zendesk:1", agent="Gus", team="Engineering", actor="li", now=NOW, write_back=True,
                            routing_config=routing)
    assert (u.assignee, u.group) == ("Gus", "Engineering")
    t = store.get_ticket("zendesk:1")
    assert (t.assignee, t.group) == ("Gus", "Engineering")
    [rec] = [r for r in store.audit_for("zendesk:1") if r.kind == "action"]
    assert rec.actor == "li" and rec.data["action"] == "assign"


async def test_ack_then_mine_shows_the_ticket(app, store):
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await on_ticket(pilot, app, "freshdesk:11")
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        assert sorted(table.rows_by_id) == ["freshdesk:11", "zendesk:3"]  # zendesk:3 was ana's already


async def test_ack_without_assigning_when_configured_off(console, store):
    app = DeskwatchApp(replace(console, acknowledge_assigns=False))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await on_ticket(pilot, app, "freshdesk:11")
        await pilot.press("a")
        await pilot.pause()
        assert store.ack_state("freshdesk:11").acknowledged_by == "ana"
        assert store.get_ticket("freshdesk:11").assignee is None


async def test_assign_form_offers_the_teams_members_first(console, store):
    app = DeskwatchApp(replace(console, routing=config.load(None).routing))
    store.record_decision(replace(store.latest_decision("zendesk:1"), team="Engineering", route=None))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await on_ticket(pilot, app, "zendesk:1")
        await pilot.press("A")
        await pilot.pause()
        people = [v for _, v in app.screen.query_one("#f-agent", Select)._options if v is not Select.NULL]
        assert people[:2] == ["Farah", "Gus"] and len(people) > 2
        await fill_form(pilot, app, agent="Gus")
        assert isinstance(app.screen, QueueScreen)
        assert store.get_ticket("zendesk:1").assignee == "Gus"
