"""The Salesforce connector end to end against the deskwatch simulator (loopback HTTP, real SOQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deskwatch.core.connect.http import client_factory, no_sleep
from deskwatch.core.model import TicketUpdate
from deskwatch.core.model.settings import Section
from deskwatch.core.simulator.runner import Simulator, parse
from deskwatch.core.model.timeutil import utcnow
from deskwatch.plugins.salesforce import CONNECTOR_TYPE


@pytest.fixture
def sim():
    cfg = parse(Section({"backlog": 45, "rate_limits": False, "rate_per_minute": 0.0, "zendesk": {"enabled": False}, "freshdesk": {"enabled": False}}))
    with Simulator(cfg) as s:
        yield s


def connector(sim):
    table = {k: v for k, v in sim.sources_config()["salesforce"].items() if k not in ("type", "write_back", "poll_interval")}
    table.update(account_tier_field="Tier__c", account_renewal_field="Renewal_Date__c", account_health_field="Health_Score__c", page_size=200)
    settings = CONNECTOR_TYPE.parse_settings(Section(table, "sources.sf", "sim.toml"))
    return CONNECTOR_TYPE.create("sf", settings, client_factory(sleep=no_sleep))


async def test_sync_resume_and_update_against_the_simulator(sim):
    until = utcnow() + timedelta(seconds=1)
    async with connector(sim) as conn:
        check = await conn.check()
        assert check.ok, check.message
        pages = [p async for p in conn.fetch(None, until=until)]
        tickets = [t for p in pages for t in p.tickets]
        assert tickets and pages[-1].done
        assert len({t.id for t in tickets}) == len(tickets)
        assert all(t.id.startswith("sf:500") and t.organization and t.organization.name for t in tickets)
        assert {t.channel for t in tickets} <= {"email", "chat", "phone", "web", "social", "api", "other"}

        # Resuming from the final bookmark with the same signpost delivers nothing again.
        again = [t for p in [p async for p in conn.fetch(pages[-1].bookmark, until=until)] for t in p.tickets]
        assert again == []

        target = tickets[0]
        u = TicketUpdate(ticket_id=target.id, source="sf", idempotency_key="sim-key-000111222", priority="high", escalated=True, private_note="Escalated by deskwatch")
        assert (await conn.update(u)).outcome == "applied"
        assert (await conn.update(u)).outcome == "already_applied"

    writes = [r for r in sim.recorder.for_helpdesk("salesforce")]
    assert [w.kind for w in writes] == ["update", "note"]  # the retry wrote nothing


async def test_bulk_update_against_the_simulator(sim):
    until = utcnow() + timedelta(seconds=1)
    async with connector(sim) as conn:
        tickets = [t for p in [p async for p in conn.fetch(None, until=until)] for t in p.tickets][:3]
        ups = [TicketUpdate(ticket_id=t.id, source="sf", idempotency_key=f"bulk-{i}-0000000000", priority="low", group="Billing") for i, t in enumerate(tickets)]
        first = await conn.update_many(ups)
        second = await conn.update_many(ups)
    assert [r.outcome for r in first] == ["applied"] * 3, first
    assert [r.outcome for r in second] == ["already_applied"] * 3, second
    kinds = [w.kind for w in sim.recorder.for_helpdesk("salesforce")]
    assert kinds.count("bulk_update") == 3 and kinds.count("note") == 3


def test_composite_all_or_none_rolls_back_every_write(sim):
    import json as _json

    from deskwatch.core.simulator.http import SimRequest

    app = sim.apps["salesforce"]
    app.sync_world()
    cid = next(iter(app.by_id))
    before = _json.dumps(app.overlay[cid], sort_keys=True, default=str)
    v = "/services/data/v60.0"

    def composite(fields: dict) -> dict:
        body = {"allOrNone": True, "compositeRequest": [
            {"method": "PATCH", "url": f"{v}/sobjects/Case/{cid}", "referenceId": "c", "body": fields},
            {"method": "POST", "url": f"{v}/sobjects/CaseComment", "referenceId": "n",
             "body": {"ParentId": cid, "CommentBody": "[deskwatch dw-000000000001]", "IsPublished": False}}]}
        req = SimRequest("POST", f"{v}/composite", {}, {}, _json.dumps(body).encode())
        return _json.loads(app.composite(req).body)

    refused = composite({"Priority": "High", "NoSuchField__c": 1})["compositeResponse"]
    assert refused[0]["httpStatusCode"] == 400 and refused[0]["body"][0]["errorCode"] == "INVALID_FIELD"
    assert refused[1]["httpStatusCode"] == 400 and refused[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert _json.dumps(app.overlay[cid], sort_keys=True, default=str) == before  # nothing stayed
    assert sim.recorder.for_helpdesk("salesforce") == []

    done = composite({"Priority": "High"})["compositeResponse"]
    assert [r["httpStatusCode"] for r in done] == [204, 201]
    assert app.overlay[cid]["Priority"] == "High" and app.overlay[cid]["comments"][-1]["CommentBody"].startswith("[deskwatch")
    assert [w.kind for w in sim.recorder.for_helpdesk("salesforce")] == ["update", "note"]
