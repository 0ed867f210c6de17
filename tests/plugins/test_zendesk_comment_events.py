"""Zendesk steady state: once caught up, comments come from the incremental ticket events
export (``include=comment_events``), not one request per ticket; the messages are the same as
a full read's. Against the simulator in process (with Zendesk's one-minute hold-back)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import httpx

from deskwatch.core.connect.http import client_factory, no_sleep
from deskwatch.core.model.settings import Section
from deskwatch.core.simulator.http import Faults, Recorder, SimRequest
from deskwatch.core.simulator.world import World
from deskwatch.core.simulator.zendesk import ZendeskApp
from deskwatch.plugins.zendesk import events
from deskwatch.plugins.zendesk.connector import ZendeskConnector
from deskwatch.plugins.zendesk.settings import parse_settings

from ..conftest import NOW

TOKEN = "sim-token-1234"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


def setup():
    clock = Clock()
    world = World(11, ("zendesk",), NOW - timedelta(hours=1))
    world.backlog(30, timedelta(days=2))
    world.step(NOW)
    app = ZendeskApp(world, clock, Faults(), 0, Recorder(), ["billing"], ["Ana Lopez"], "admin@acme.com", TOKEN,
                     freshness_seconds=60)
    paths: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        resp = app.handle(SimRequest(request.method, request.url.path, parse_qs(request.url.query.decode(), keep_blank_values=True),
                                     {k.lower(): v for k, v in request.headers.items()}, request.content))
        return httpx.Response(resp.status, headers=resp.headers, content=resp.body)

    def connect(**extra) -> ZendeskConnector:
        data = {"base_url": "http://sim.test", "email": "admin@acme.com", "token": TOKEN, "start_time": "2026-11-01T00:00:00Z", **extra}
        settings = parse_settings(Section(data, "sources.zd", "config.toml"))
        return ZendeskConnector("zd", settings, client_factory(sleep=no_sleep, transport=httpx.MockTransport(handle)), clock=clock)

    return clock, world, app, paths, connect


async def _sync(zd, bookmark, until):
    tickets, last = {}, bookmark
    async for page in zd.fetch(bookmark, until=until):
        tickets.update({t.id: t for t in page.tickets})
        last = page.bookmark or last
    return tickets, last


def _comment_reads(paths) -> set[str]:
    return {f"zd:{p.split('/')[4]}" for p in paths if p.endswith("/comments.json")}


def _messages(t):
    return [(m.author, m.created_at, m.body, m.public) for m in t.messages]


async def test_caught_up_comments_come_from_ticket_events_and_match_a_full_read():
    clock, world, app, paths, connect = setup()
    async with connect() as zd:
        first, bookmark = await _sync(zd, None, clock())
        per_ticket = sum(1 for p in paths if p.endswith("/comments.json"))
        assert per_ticket >= 5  # backfill: comments of the open tickets read one by one
        clock.now += timedelta(minutes=2)  # the last minute was held back: catch up with it
        caught, bookmark = await _sync(zd, bookmark, clock())
        first.update(caught)
        # Half an hour passes: customers and agents write, a new ticket comes in, deskwatch
        # writes a private note on one ticket.
        clock.now = NOW + timedelta(minutes=30)
        changed = world.step(clock.now)
        new = world._new_conversation(clock.now - timedelta(minutes=5), helpdesk="zendesk")
        target = next(t for t in first.values() if t.status not in ("solved", "closed"))
        app.overlay[int(target.id.split(":")[1])]["notes"].append((clock.now - timedelta(minutes=3), 900000, "deskwatch note", False))
        app.overlay[int(target.id.split(":")[1])]["modified"] = clock.now - timedelta(minutes=3)
        clock.now += timedelta(minutes=2)  # past the hold-back
        read_before = _comment_reads(paths)
        paths.clear()
        second, _ = await _sync(zd, bookmark, clock())
    new_id = f"zd:{app.ids[new.key]}"
    assert len(changed) >= 2 and new_id in second and target.id in second
    served = [t for t in second if t in read_before or t == new_id]
    assert len(served) >= 3
    # Only tickets never read before (solved ones the backfill skipped, now reopened) are
    # read one by one; the others come from the one events request.
    assert not _comment_reads(paths) & set(served), paths
    assert paths.count(events.EVENTS_PATH) == 1
    assert "deskwatch note" in [m.body for m in second[target.id].messages]
    # The same tickets read in full by a connector that does not use the events.
    async with connect(comment_events=False, backfill_closed_comments=True) as full:
        fresh, _ = await _sync(full, None, clock())
    for tid, t in second.items():
        assert _messages(t) == _messages(fresh[tid]), tid


async def test_a_restart_reads_comments_in_full_once_then_uses_events():
    clock, world, app, paths, connect = setup()
    async with connect() as zd:
        _, bookmark = await _sync(zd, None, clock())
        clock.now += timedelta(minutes=2)
        _, bookmark = await _sync(zd, bookmark, clock())
    clock.now = NOW + timedelta(minutes=40)
    world.step(clock.now)
    clock.now += timedelta(minutes=2)
    paths.clear()
    async with connect() as zd:  # a new process: the comment log is empty
        changed, bookmark = await _sync(zd, bookmark, clock())
        # Tickets created in the last two minutes may come from the events (their creating
        # audit is there); every older one is read in full once.
        held = [t for t in changed.values() if t.status not in ("solved", "closed") and t.created_at < clock.now - timedelta(minutes=2)]
        assert {t.id for t in held} <= _comment_reads(paths) and held
        clock.now += timedelta(minutes=30)
        world.step(clock.now)
        clock.now += timedelta(minutes=2)
        paths.clear()
        again, _ = await _sync(zd, bookmark, clock())
    reused = [t for t in again if t in changed and changed[t].status not in ("solved", "closed")]
    assert reused, "the world changed none of the tickets read in full; pick another seed"
    assert not _comment_reads(paths) & set(reused) and events.EVENTS_PATH in paths


def test_comment_log_keeps_each_comment_once_and_forgets_the_least_recent():
    log = events.CommentLog(max_tickets=2)
    log.start(1000)
    log.remember(1, [{"id": 10, "created_at": "2026-01-01T00:00:00Z", "body": "a"}])
    audit = {"ticket_id": 1, "created_at": "2026-01-01T00:05:00Z",
             "child_events": [{"id": 10, "event_type": "Comment", "body": "a"}, {"id": 11, "event_type": "Comment", "body": "b"}]}
    log.apply(events.EventsPage((audit, audit), 1200, True), read_at=2000)
    assert [c["id"] for c in log.comments(1, 1200)] == [10, 11]
    assert log.comments(1, 1201) is None  # a change the events have not covered: read in full
    log.apply(events.EventsPage(({"ticket_id": 2, "child_events": [{"event_type": "Create"}]},
                                 {"ticket_id": 3, "child_events": [{"id": 30, "event_type": "Comment"}]}), 1300, True), 2000)
    assert log.holds(2) and not log.holds(3)  # 3 was never read nor created in the window
    log.remember(4, [])
    assert not log.holds(1) and log.holds(2) and log.holds(4)


def test_events_are_read_only_when_they_serve_two_tickets_or_more():
    log = events.CommentLog()
    log.start(10_000)
    log.remember(1, [])
    one = [{"id": 1, "generated_timestamp": 10_500, "created_at": "2026-01-01T00:00:00Z"}]
    # A ticket created before the cursor and not held: read in full either way.
    old = [{"id": 9, "generated_timestamp": 10_500, "created_at": "1970-01-01T00:00:00Z"}]
    assert not log.worth_reading(one + old)  # one comments request beats an export slot
    new = [{"id": 2, "generated_timestamp": 10_500, "created_at": "1970-01-01T02:47:00Z"}]  # 10,020: after the cursor
    assert log.worth_reading(one + new)


async def test_a_refused_events_read_falls_back_to_reading_comments_per_ticket():
    from deskwatch.core.simulator.http import SimResponse

    clock, world, app, paths, connect = setup()
    async with connect() as zd:
        first, bookmark = await _sync(zd, None, clock())
        clock.now += timedelta(minutes=2)
        first2, bookmark = await _sync(zd, bookmark, clock())
        clock.now += timedelta(minutes=30)
        world.step(clock.now)
        clock.now += timedelta(minutes=2)
        real = app.handle

        def refuse_events(req):
            if req.path.endswith("ticket_events.json"):
                return SimResponse.json(400, {"error": "InvalidValue", "description": "Too recent start_time."})
            return real(req)

        app.handle = refuse_events
        paths.clear()
        second, _ = await _sync(zd, bookmark, clock())
    assert events.EVENTS_PATH in paths and _comment_reads(paths) >= {t for t in second if t in {**first, **first2}}
    assert second and zd.events_available  # not given up: tried again next time
