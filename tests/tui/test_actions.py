"""Actions from the console reach the store through core operations: audit, outbox, decisions."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import TextArea

from deskwatch.tui.screens.form import FormScreen
from deskwatch.tui.screens.queue import QueueScreen
from deskwatch.tui.widgets.queue_table import QueueTable

from ..conftest import NOW
from .helpers import screen_text


async def on_ticket(pilot, app, tid: str) -> None:
    table = app.screen.query_one(QueueTable)
    table.move_cursor(row=table.get_row_index(tid))
    await pilot.pause()


async def fill_form(pilot, app, confirm: bool = True, **values) -> None:
    """Fill and submit the form; with ``confirm``, a list of changes shown first is accepted (a second Ctrl+S)."""
    assert isinstance(app.screen, FormScreen)
    for name, value in values.items():
        field = app.screen.query_one(f"#f-{name}")
        if isinstance(field, TextArea):
            field.text = value
        else:
            field.value = value
    await pilot.pause()
    await pilot.press("ctrl+s")
    await pilot.pause()
    if confirm and isinstance(app.screen, FormScreen) and "will change:" in str(app.screen.query_one("#form-error").render()):
        await pilot.press("ctrl+s")
        await pilot.pause()


def kinds(store, tid):
    return [(r.kind, r.actor) for r in store.audit_for(tid) if r.kind != "decision"]


async def test_acknowledge_records_actor_and_queues_note(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await on_ticket(pilot, app, "zendesk:2")
        await pilot.press("a")
        await pilot.pause()
        assert ("acknowledge", "ana") in kinds(store, "zendesk:2")
        assert store.ack_state("zendesk:2").acknowledged_by == "ana"
        assign, item = store.outbox_for("zendesk:2")  # zendesk has write-back on
        assert assign.update.assignee == "ana"  # acknowledging takes the ticket ([tui] acknowledge_assigns)
        assert "Acknowledged in deskwatch by ana" in item.update.private_note and item.state == "pending"
        # the row shows it is taken (lower-case, dimmed) without a reload
        line = next(l for l in screen_text(app).splitlines() if "zd:2 " in l)
        assert line.split()[0] == "imm"


async def test_write_back_off_records_but_sends_nothing(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await on_ticket(pilot, app, "freshdesk:11")  # freshdesk: write-back off
        await pilot.press("n")
        await fill_form(pilot, app, text="Customer called, refund was sent on Friday")
        assert isinstance(app.screen, QueueScreen)
        [note] = [r for r in store.audit_for("freshdesk:11") if r.kind == "note"]
        assert note.actor == "ana" and note.data["text"] == "Customer called, refund was sent on Friday"
        assert store.outbox_for("freshdesk:11") == []


async def test_escalate_to_team_and_agent(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await on_ticket(pilot, app, "zendesk:1")
        await pilot.press("e")
        await fill_form(pilot, app, tier="tier2", team="finance", agent="li@example.com", reason="VAT error blocks their audit")
        assert isinstance(app.screen, QueueScreen)
        latest = store.latest_decision("zendesk:1")
        assert (latest.tier, latest.team, latest.route.agent) == ("tier2", "finance", "li@example.com")
        [esc] = [r for r in store.audit_for("zendesk:1") if r.kind == "escalate"]
        assert esc.actor == "ana" and esc.data["reason"] == "VAT error blocks their audit"
        updates = [i.update for i in store.outbox_for("zendesk:1")]
        assert any(u.group == "finance" and u.assignee == "li@example.com" and u.escalated for u in updates)
        assert any(u.private_note and "VAT error blocks their audit" in u.private_note for u in updates)
        # the queue moved it up (now "priority"), live
        table = app.screen.query_one(QueueTable)
        assert table.rows_by_id["zendesk:1"].recommendation == "priority"


async def test_with_routing_config_the_form_offers_its_teams_and_agents(console, store):
    from dataclasses import replace

    from textual.widgets import Select

    from deskwatch.core import config
    from deskwatch.tui.app import DeskwatchApp

    app = DeskwatchApp(replace(console, routing=config.load(None).routing))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await on_ticket(pilot, app, "zendesk:1")
        await pilot.press("e")
        await pilot.pause()
        team = app.screen.query_one("#f-team", Select)
        assert [value for _, value in team._options if value is not Select.NULL] == [
            "Support", "Technical", "Engineering", "Security", "Billing", "Compliance", "Management",
        ]
        await fill_form(pilot, app, team="Engineering", agent="Ana", reason="export bug")
        # Ana is not in Engineering: the form stays open and says who is
        assert "Ana is not a member of Engineering; pick one of Farah, Gus" in str(app.screen.query_one("#form-error").render())
        await fill_form(pilot, app, team="Engineering", agent="Gus", reason="export bug")
        assert isinstance(app.screen, QueueScreen)
        latest = store.latest_decision("zendesk:1")
        assert (latest.team, latest.route.agent) == ("Engineering", "Gus")


async def test_validation_errors_are_shown_and_nothing_is_recorded(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await on_ticket(pilot, app, "zendesk:1")
        before = len(store.audit_for("zendesk:1"))
        await pilot.press("e")
        await fill_form(pilot, app, reason="needs a specialist")  # no tier, team or agent
        assert isinstance(app.screen, FormScreen)
        assert "escalate needs a tier, a team or an agent" in str(app.screen.query_one("#form-error").render())
        await pilot.press("escape")
        await pilot.press("z")
        await fill_form(pilot, app, until="tomorrow-ish")
        assert "type 30m, 2h, 1d" in str(app.screen.query_one("#form-error").render())
        await fill_form(pilot, app, until="2026-11-23T09:00Z")  # in the past
        assert "in the past" in str(app.screen.query_one("#form-error").render())
        await pilot.press("escape")
        await pilot.press("o")
        await fill_form(pilot, app, recommendation="none", reason="")
        assert "missing: Reason" in str(app.screen.query_one("#form-error").render())
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)
        assert len(store.audit_for("zendesk:1")) == before and store.outbox_for("zendesk:1") == []


async def test_snooze_priority_and_override(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await on_ticket(pilot, app, "zendesk:2")
        await pilot.press("z")
        await fill_form(pilot, app, until="2h", reason="waiting for the vendor")
        assert store.ack_state("zendesk:2").snoozed_until == NOW + timedelta(hours=2)
        urg = app.screen.query_one(QueueTable).get_row("zendesk:2")[0]
        assert urg.plain == "IMMz" and "italic" in str(urg.style)  # shown as snoozed (z), live
        await pilot.press("p")
        await fill_form(pilot, app, priority="urgent", reason="outage")
        [prio] = [i.update for i in store.outbox_for("zendesk:2") if i.update.priority]
        assert prio.priority == "urgent"
        await pilot.press("o")
        await fill_form(pilot, app, recommendation="monitor", reason="vendor outage, nothing we can do")
        latest = store.latest_decision("zendesk:2")
        assert latest.recommendation == "monitor" and latest.needs_review is False
        assert [k for k, _ in kinds(store, "zendesk:2")] == ["snooze", "priority", "override"]
        assert all(actor == "ana" for _, actor in kinds(store, "zendesk:2"))
        # override moved it down the queue, live
        table = app.screen.query_one(QueueTable)
        ids = list(table.rows_by_id)
        assert table.get_row_index("zendesk:2") > table.get_row_index("zendesk:3")
        assert len(ids) == 6
        assert table.rows_by_id["zendesk:2"].hold == "override"
        assert table.get_row("zendesk:2")[0].plain == "MONzo"  # overridden (o) and still snoozed (z), live
