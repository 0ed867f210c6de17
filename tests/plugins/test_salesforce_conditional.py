"""Salesforce conditional updates: the Case PATCH carries ``If-Unmodified-Since`` (the Case's
LastModifiedDate as read); a 412 means the Case changed after the read, nothing landed (all or
none), and the connector re-reads and re-plans instead of applying blindly or dropping it."""

from __future__ import annotations

from datetime import timedelta


from deskwatch.core.model import TicketUpdate
from deskwatch.core.model.timeutil import utcnow
from deskwatch.plugins.salesforce import writeback

from .test_salesforce_connector import (  # noqa: F401  (fixtures)
    CASE, COMMENTS_Q, COMPOSITE, STATE_Q, composite_ok, composite_requests, connector, query_body, sleeps, token, upd,
)
from .test_salesforce_simulator import connector as sim_connector
from .test_salesforce_simulator import sim  # noqa: F401  (fixture)


def stale() -> dict:
    halted = [{"errorCode": "PROCESSING_HALTED", "message": "rolled back"}]
    return {"compositeResponse": [
        {"body": [{"errorCode": "PRECONDITION_FAILED", "message": "modified since"}], "httpHeaders": {}, "httpStatusCode": 412, "referenceId": "deskwatchCase"},
        {"body": halted, "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "deskwatchNote"}]}


def state(tags: str, modified: str) -> dict:
    return query_body([{"attributes": {"type": "Case"}, "Id": CASE, "LastModifiedDate": modified, "Tags__c": tags}])


async def test_a_412_re_reads_the_case_and_sends_the_re_planned_update(httpx_mock, token, connector):
    httpx_mock.add_response(url=COMMENTS_Q, json=query_body([]), is_reusable=True)
    httpx_mock.add_response(url=STATE_Q, json=state("billing", "2026-11-23T09:59:58.000+0000"))
    httpx_mock.add_response(method="POST", url=COMPOSITE, json=stale())
    # Meanwhile an agent added a tag: the second plan keeps it.
    httpx_mock.add_response(url=STATE_Q, json=state("billing;urgent", "2026-11-23T10:00:03.120+0000"))
    httpx_mock.add_response(method="POST", url=COMPOSITE, json=composite_ok())
    async with connector() as conn:
        result = await conn.update(upd(tags_add=("vip",), escalated=True))
    assert result.outcome == "applied"
    first, second = composite_requests(httpx_mock)
    assert first["compositeRequest"][0]["httpHeaders"] == {"If-Unmodified-Since": "Mon, 23 Nov 2026 09:59:58 GMT"}
    assert first["compositeRequest"][0]["body"]["Tags__c"] == "billing;vip"
    # Rounded up to the second: the Case's own change at .120 must not fail the condition.
    assert second["compositeRequest"][0]["httpHeaders"] == {"If-Unmodified-Since": "Mon, 23 Nov 2026 10:00:04 GMT"}
    assert second["compositeRequest"][0]["body"]["Tags__c"] == "billing;urgent;vip"


async def test_a_case_that_keeps_changing_is_a_conflict_not_a_failure(httpx_mock, token, connector):
    httpx_mock.add_response(url=COMMENTS_Q, json=query_body([]), is_reusable=True)
    httpx_mock.add_response(url=STATE_Q, json=state("", "2026-11-23T09:59:58.000+0000"), is_reusable=True)
    httpx_mock.add_response(method="POST", url=COMPOSITE, json=stale(), is_reusable=True)
    async with connector() as conn:
        result = await conn.update(upd(escalated=True))
    # "conflict": the daemon keeps the outbox item and retries it soon against the fresh case.
    assert result.outcome == "conflict" and "decide again" in result.message
    assert len(composite_requests(httpx_mock)) == 3


async def test_a_412_after_the_marker_landed_reports_applied_once(httpx_mock, token, connector):
    # The first send's answer is a 412 but a retry finds the marker: someone else's retry of
    # the same update landed meanwhile. Nothing is sent again.
    httpx_mock.add_response(url=COMMENTS_Q, json=query_body([]))
    httpx_mock.add_response(url=STATE_Q, json=state("", "2026-11-23T09:59:58.000+0000"))
    httpx_mock.add_response(method="POST", url=COMPOSITE, json=stale())
    httpx_mock.add_response(url=COMMENTS_Q, json=query_body([{"Id": "00a9", "CommentBody": writeback.marker("9b1c2d3e4f5a6b7c")}]))
    async with connector() as conn:
        result = await conn.update(upd(escalated=True))
    assert result.outcome == "already_applied" and len(composite_requests(httpx_mock)) == 1


async def test_against_the_simulator_a_change_between_read_and_write_is_re_planned(sim):  # noqa: F811
    async with sim_connector(sim) as conn:
        tickets = [t for p in [p async for p in conn.fetch(None, until=utcnow() + timedelta(seconds=1))] for t in p.tickets]
        cid = tickets[0].id.split(":", 1)[1]
        app = sim.apps["salesforce"]
        read = conn._case_state
        reads = []

        async def read_then_agent_edits(case_id):
            got = await read(case_id)
            reads.append(got[1])
            if len(reads) == 1:  # an agent saves the Case right after deskwatch read it
                app.overlay[case_id]["modified"] = app.modified(case_id) + timedelta(seconds=5)
            return got

        conn._case_state = read_then_agent_edits
        u = TicketUpdate(ticket_id=tickets[0].id, source="sf", idempotency_key="cond-key-000111222", priority="high",
                         private_note="Escalated by deskwatch")
        result = await conn.update(u)
    assert result.outcome == "applied" and len(reads) == 2 and reads[1] > reads[0]
    writes = [(w.kind, w.ticket_id) for w in sim.recorder.for_helpdesk("salesforce")]
    assert writes == [("update", cid), ("note", cid)]  # the refused first send wrote nothing


def test_the_simulator_refuses_a_patch_on_a_case_modified_since(sim):  # noqa: F811
    app = sim.apps["salesforce"]
    app.sync_world()
    cid = next(iter(app.by_id))
    since = app.modified(cid) - timedelta(seconds=10)
    sub = {"method": "PATCH", "url": f"/services/data/{app.version}/sobjects/Case/{cid}", "referenceId": "c",
           "body": {"Priority": "High"}, "httpHeaders": {"If-Unmodified-Since": writeback.http_date(since)}}
    status, body = app._subrequest(sub, [])
    assert status == 412 and body[0]["errorCode"] == "PRECONDITION_FAILED"
    sub["httpHeaders"] = {"If-Unmodified-Since": writeback.http_date(app.modified(cid))}
    assert app._subrequest(sub, [])[0] == 204
