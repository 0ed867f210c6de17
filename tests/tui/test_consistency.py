"""Actions consistent with each other; a form shows what it will change first (issue 17)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from deskwatch.core import config
from deskwatch.core.daemon import operations
from deskwatch.core.model import Route
from deskwatch.tui.screens.form import FormScreen
from deskwatch.tui.screens.queue import QueueScreen

from ..conftest import NOW
from .test_actions import fill_form, on_ticket


def test_escalate_ack_override_keeps_what_the_person_chose(store):
    routing = config.load(None).routing
    store.record_decision(replace(store.latest_decision("zendesk:1"), tier="tier1", team="Technical",
                                  route=Route("tier1", "Technical", "Ana", False, None, "rules")))
    operations.escalate(store, "zendesk:1", tier="tier3", team="Engineering", agent="Gus", actor="li", reason="export bug",
                        now=NOW, routing_config=routing)
    operations.acknowledge(store, "zendesk:1", "li", NOW + timedelta(minutes=1), assign=True)
    operations.override(store, "zendesk:1", "monitor", "workaround given", "li", NOW + timedelta(minutes=2))
    d = store.latest_decision("zendesk:1")
    assert (d.recommendation, d.tier, d.team, d.route.agent) == ("monitor", "tier3", "Engineering", "Gus")
    ack = store.ack_state("zendesk:1")
    assert ack.acknowledged(NOW + timedelta(minutes=3)) and ack.acknowledged_by == "li"  # standing down does not un-take it
    [rec] = [r for r in store.audit_for("zendesk:1") if r.kind == "override"]
    assert (rec.data["tier"], rec.data["team"], rec.data["agent"]) == ("tier3", "Engineering", "Gus")  # what the hold keeps


def test_escalating_with_only_a_tier_keeps_the_agent_and_says_what_else_changes(store):
    # zendesk:2: immediate, tier3 / platform -> ana on call; priority high
    changes = operations.escalation_changes(store, "zendesk:2", tier="tier0")
    assert "tier tier3 -> tier0" in changes and "helpdesk priority high -> urgent" in changes
    assert not any(c.startswith("agent") for c in changes)
    operations.escalate(store, "zendesk:2", tier="tier0", actor="li", reason="actually a how-to", now=NOW)
    d = store.latest_decision("zendesk:2")
    assert (d.tier, d.team, d.route.agent) == ("tier0", "platform", "ana")


async def test_escalate_form_shows_the_changes_before_applying(app, store):
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await on_ticket(pilot, app, "zendesk:2")
        await pilot.press("e")
        await fill_form(pilot, app, confirm=False, tier="tier0", reason="actually a how-to")
        assert isinstance(app.screen, FormScreen)  # not applied yet
        shown = str(app.screen.query_one("#form-error").render())
        assert "will change:" in shown and "helpdesk priority high -> urgent" in shown and "tier tier3 -> tier0" in shown
        assert store.latest_decision("zendesk:2").tier == "tier3"
        await pilot.press("ctrl+s")  # the same values again: applied
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        assert store.latest_decision("zendesk:2").tier == "tier0"
