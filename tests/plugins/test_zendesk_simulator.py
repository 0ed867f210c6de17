"""The Zendesk connector end to end against the deskwatch simulator's Zendesk API, in process
(an httpx transport calls the simulator's handlers directly: no sockets, no threads)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import httpx
import pytest

from deskwatch.core.connect.http import client_factory, no_sleep
from deskwatch.core.model import TicketUpdate
from deskwatch.core.model.settings import Section
from deskwatch.core.simulator.http import Faults, Recorder, SimRequest
from deskwatch.core.simulator.world import World
from deskwatch.core.simulator.zendesk import ZendeskApp
from deskwatch.plugins.zendesk.connector import ZendeskConnector
from deskwatch.plugins.zendesk.settings import parse_settings

from ..conftest import NOW

TOKEN = "sim-token-1234"


def transport(app, statuses=None):
    def handle(request: httpx.Request) -> httpx.Response:
        req = SimRequest(
            method=request.method,
            path=request.url.path,
            query=parse_qs(request.url.query.decode(), keep_blank_values=True),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=request.content,
        )
        resp = app.handle(req)
        if statuses is not None:
            statuses.append(resp.status)
        return httpx.Response(resp.status, headers=resp.headers, content=resp.body)

    return httpx.MockTransport(handle)


@pytest.fixture
def sim():
    world = World(7, ("zendesk",), NOW)
    world.backlog(40, timedelta(days=3))
    recorder = Recorder()
    app = ZendeskApp(world, lambda: NOW, Faults(), 0, recorder, ["billing", "tier2"], ["Ana Lopez"], "admin@acme.com", TOKEN)
    return world, app, recorder


def connect(app, faults=None, statuses=None, **extra):
    if faults is not None:
        app.faults = faults
    data = {"base_url": "http://sim.test", "email": "admin@acme.com", "token": TOKEN, "page_size": 7, **extra}
    settings = parse_settings(Section(data, "sources.zd", "config.toml"))
    return ZendeskConnector("zd", settings, client_factory(sleep=no_sleep, transport=transport(app, statuses)), clock=lambda: NOW)


async def sync(zd, bookmark=None):
    tickets, deleted, bookmarks = {}, [], []
    async for page in zd.fetch(bookmark, until=NOW):
        for t in page.tickets:
            assert t.id not in tickets, f"{t.id} delivered twice"
            tickets[t.id] = t
        deleted.extend(page.deleted)
        bookmarks.append(page.bookmark)
    return tickets, deleted, bookmarks


async def test_full_sync_then_resume_delivers_every_ticket_once(sim):
    world, app, _ = sim
    async with connect(app) as zd:
        assert (await zd.check()).ok
        tickets, deleted, bookmarks = await sync(zd)
        live = [c for c in world.for_helpdesk("zendesk") if not c.deleted]
        assert len(tickets) == len(live) > 7  # several pages
        assert len(deleted) == len(world.for_helpdesk("zendesk")) - len(live)
        t = next(iter(tickets.values()))
        assert t.requester.email and t.organization.name and t.organization.annual_value is not None
        assert t.messages and t.messages[0].author == "customer"
        again, _, more = await sync(zd, bookmarks[-1])
        assert again == {} and more[-1] == bookmarks[-1]


async def test_update_applies_once_and_comes_back_in_the_next_sync(sim):
    _, app, recorder = sim
    async with connect(app) as zd:
        tickets, _, bookmarks = await sync(zd)
        target = next(t for t in tickets.values() if t.status not in ("closed",))
        update = TicketUpdate(
            ticket_id=target.id, source="zd", idempotency_key="a1b2c3d4e5f6-route", priority="urgent",
            group="billing", assignee="Ana Lopez", tags_add=("outage",), escalated=True,
            private_note="deskwatch: escalated (outage keywords)",
        )
        first = await zd.update(update)
        second = await zd.update(update)
        assert (first.outcome, second.outcome) == ("applied", "already_applied")
        assert len(recorder.for_helpdesk("zendesk")) == 1
        changed, _, _ = await sync(zd, bookmarks[-1])
    t = changed[target.id]
    assert t.priority == "urgent" and t.group == "billing" and t.assignee == "Ana Lopez"
    assert {"outage", "escalated", "dw-a1b2c3d4e5f6"} <= set(t.tags)
    assert set(target.tags) <= set(t.tags)  # nothing clobbered
    note = t.messages[-1]
    assert note.public is False and note.author == "agent" and note.body.startswith("deskwatch: escalated")


async def test_bulk_update_through_update_many_and_job_status(sim):
    _, app, recorder = sim
    async with connect(app) as zd:
        tickets, _, _ = await sync(zd)
        targets = [t for t in tickets.values() if t.status != "closed"][:3]
        updates = [
            TicketUpdate(ticket_id=t.id, source="zd", idempotency_key=f"bulk-{i}-key", tags_add=("vip",), priority="high")
            for i, t in enumerate(targets)
        ]
        results = await zd.update_many(updates)
        assert [r.outcome for r in results] == ["applied"] * 3
        assert [r.kind for r in recorder.for_helpdesk("zendesk")] == ["bulk_update"] * 3
        again = await zd.update_many(updates)
    assert [r.outcome for r in again] == ["already_applied"] * 3


async def test_sync_and_update_survive_429_bursts_and_5xx_without_losing_or_doubling(sim):
    world, app, recorder = sim
    faults = Faults(error_rate=0.15, burst_429_rate=0.1, burst_length=2, seed=3)
    statuses: list[int] = []
    async with connect(app, faults=faults, statuses=statuses, max_attempts=10) as zd:
        tickets, _, _ = await sync(zd)
        assert len(tickets) == len([c for c in world.for_helpdesk("zendesk") if not c.deleted])
        target = next(t for t in tickets.values() if t.status != "closed")
        update = TicketUpdate(ticket_id=target.id, source="zd", idempotency_key="f00dfeedbeef-x", private_note="once")
        results = [await zd.update(update) for _ in range(3)]
    assert results[0].ok and all(r.outcome == "already_applied" for r in results[1:])
    assert statuses.count(429) >= 2 and statuses.count(503) >= 2  # the faults did fire
    notes = [u for u in recorder.for_helpdesk("zendesk") if (u.payload.get("comment") or {}).get("body", "").startswith("once")]
    assert len(notes) == 1
