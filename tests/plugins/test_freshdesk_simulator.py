"""The Freshdesk connector end to end against the deskwatch simulator (loopback HTTP)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deskwatch.core.connect.http import client_factory, no_sleep
from deskwatch.core.model import CHANNELS, TicketUpdate
from deskwatch.core.model.settings import Section
from deskwatch.core.simulator.runner import Simulator, parse
from deskwatch.core.model.timeutil import utcnow
from deskwatch.plugins.freshdesk import FRESHDESK


@pytest.fixture
def sim():
    cfg = parse(Section({"backlog": 20, "rate_limits": False, "rate_per_minute": 0.0, "zendesk": {"enabled": False}, "salesforce": {"enabled": False}}))
    with Simulator(cfg) as s:
        yield s


def connector(sim, **extra):
    table = {k: v for k, v in sim.sources_config()["freshdesk"].items() if k not in ("type", "write_back", "poll_interval")}
    table.update(page_size=5, tier_field="tier", **extra)
    settings = FRESHDESK.parse_settings(Section(table, "sources.fd", "sim.toml"))
    return FRESHDESK.create("fd", settings, client_factory(sleep=no_sleep))


async def test_sync_resume_and_update_against_the_simulator(sim):
    until = utcnow() + timedelta(seconds=1)
    async with connector(sim, start_time="2000-01-01T00:00:00Z") as conn:
        check = await conn.check()
        assert check.ok, check.message
        pages = [p async for p in conn.fetch(None, until=until)]
        tickets = [t for p in pages for t in p.tickets]
        assert len(tickets) > 5 and pages[-1].done  # several pages
        assert len({t.id for t in tickets}) == len(tickets)
        assert all(t.id.startswith("fd:") and t.organization and t.organization.name for t in tickets)
        assert all(t.channel in CHANNELS and t.requester and t.requester.email for t in tickets)
        assert any(t.organization.annual_value for t in tickets)  # custom_fields.annual_value
        assert any(t.customer_messages for t in tickets)

        again = [t for p in [p async for p in conn.fetch(pages[-1].bookmark, until=until)] for t in p.tickets]
        assert again == []

        target = tickets[0]
        u = TicketUpdate(ticket_id=target.id, source="fd", idempotency_key="sim-key-000111222", priority="urgent", group="Billing", escalated=True, private_note="Escalated by deskwatch")
        first = await conn.update(u)
        assert first.outcome == "applied", first.message
        assert (await conn.update(u)).outcome == "already_applied"

        later = [t for p in [p async for p in conn.fetch(pages[-1].bookmark, until=utcnow() + timedelta(seconds=1))] for t in p.tickets]
    changed = [t for t in later if t.id == target.id]
    assert changed and changed[-1].priority == "urgent" and changed[-1].group == "Billing"
    assert {"escalated", "dw-simkey000111"} <= set(changed[-1].tags)
    assert any("Escalated by deskwatch" in m.body and not m.public for m in changed[-1].messages)
    writes = [w.kind for w in sim.recorder.for_helpdesk("freshdesk")]
    assert writes == ["note", "update"]  # the repeated update wrote nothing
