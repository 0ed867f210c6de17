"""The write-back promises under stops, kills and lost answers.

The drain's stop and give-up rules with a scripted connector, then a short version of
bench/soak.py: the daemon SIGKILLed three times against a faulty simulator with write-back on,
verified against the simulator's record of every write it applied.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from datetime import datetime, timedelta, timezone

import pytest

from deskwatch.core import config
from deskwatch.core.connect.contract import CheckResult, Connector, RateLimited, UpdateResult
from deskwatch.core.connect.errors import OutcomeUnknown
from deskwatch.core.daemon.sync import MAX_REFUSED_ATTEMPTS, Daemon
from deskwatch.core.model import TicketUpdate
from deskwatch.core.model.settings import Section
from deskwatch.core.simulator.runner import Simulator, parse
from deskwatch.core.store import open_store
from tests.bench_scripts import load_bench

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def _bench():
    return load_bench("soak")


class Scripted(Connector):
    """A connector whose update() runs ``script(update)``; it records every call."""

    type_name = "scripted"

    def __init__(self, source: str, script):
        super().__init__(source)
        self.script = script
        self.calls: list[str] = []

    async def check(self) -> CheckResult:
        return CheckResult(True, "ok")

    async def fetch(self, bookmark, *, until=None):
        return
        yield  # pragma: no cover

    async def update(self, update: TicketUpdate) -> UpdateResult:
        self.calls.append(update.idempotency_key)
        return await self.script(update)


@pytest.fixture
def setup(tmp_path):
    """(daemon factory, store, clock) with five queued updates for source "zd"."""
    data = config.default_data()
    data["store"] = {"path": str(tmp_path / "d.db")}
    data["sources"] = {"zd": {"type": "zendesk", "base_url": "https://x.zendesk.com", "email": "a@b.example",
                              "token": "abcd1234", "write_back": True}}
    cfg = config.parse_data(data, "test")
    store = open_store(cfg)
    now = [T0]
    for i in range(5):
        store.enqueue(TicketUpdate(ticket_id=f"zd:{i}", source="zd", idempotency_key=f"key{i:04d}", escalated=True), T0)

    def daemon(script) -> tuple[Daemon, Scripted]:
        conn = Scripted("zd", script)
        return Daemon(cfg, store, {"zd": conn}, clock=lambda: now[0]), conn

    yield daemon, store, now
    store.close()


def states(store) -> list[tuple[str, int]]:
    return [(store.outbox_item(f"key{i:04d}").state, store.outbox_item(f"key{i:04d}").attempts) for i in range(5)]


async def test_a_stop_lets_the_item_in_flight_finish_and_puts_the_rest_back(setup):
    make, store, _ = setup
    holder = {}

    async def script(u):
        holder["d"].request_stop()  # SIGTERM arrives while this one is being sent
        await asyncio.sleep(0.01)
        return UpdateResult("applied", ticket_id=u.ticket_id)

    d, conn = make(script)
    holder["d"] = d
    assert await d.drain_outbox(d.sources["zd"]) == 1
    assert conn.calls == ["key0000"]  # nothing new started after the stop
    assert states(store) == [("applied", 1)] + [("pending", 0)] * 4  # back explicitly, attempt not counted


async def test_cancelled_at_the_shutdown_timeout_nothing_is_left_sending(setup):
    make, store, _ = setup
    started = asyncio.Event()

    async def script(u):
        started.set()
        await asyncio.Event().wait()  # a helpdesk that never answers

    d, _ = make(script)
    task = asyncio.create_task(d.drain_outbox(d.sources["zd"]))
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert states(store) == [("pending", 0)] * 5  # the interrupted one too: its marker settles it later


async def test_rate_limit_mid_batch_releases_the_rest_at_once(setup):
    make, store, _ = setup

    async def script(u):
        raise RateLimited("slow down", retry_after=30)

    d, _ = make(script)
    with pytest.raises(RateLimited):
        await d.drain_outbox(d.sources["zd"])
    first, *rest = states(store)
    assert first == ("failed", 1) and store.outbox_item("key0000").retry_at is not None
    assert rest == [("pending", 0)] * 4  # not stuck 'sending' until the lease runs out


async def test_a_lost_answer_is_never_given_up_on(setup):
    make, store, now = setup

    async def script(u):
        raise OutcomeUnknown("sent, but the answer was lost and the ticket could not be read")

    d, _ = make(script)
    for _ in range(MAX_REFUSED_ATTEMPTS + 3):
        await d.drain_outbox(d.sources["zd"])
        now[0] += timedelta(hours=1)
    item = store.outbox_item("key0000")
    assert item.attempts == MAX_REFUSED_ATTEMPTS + 3
    assert item.state == "failed" and item.retry_at is not None  # still to be settled, not failed for good
    assert store.outbox_failed() == 0


async def test_refusals_give_up_after_the_limit_with_the_reason(setup):
    make, store, now = setup

    async def script(u):
        return UpdateResult("failed", "no such priority; add it under priority_map", u.ticket_id)

    d, _ = make(script)
    for _ in range(MAX_REFUSED_ATTEMPTS + 1):
        await d.drain_outbox(d.sources["zd"])
        now[0] += timedelta(hours=1)
    item = store.outbox_item("key0000")
    assert item.state == "failed" and item.retry_at is None and "priority_map" in item.error
    assert item.attempts == MAX_REFUSED_ATTEMPTS


def test_lost_answer_fault_applies_the_write_then_drops_the_connection():
    sim = Simulator(parse(Section({"backlog": 3, "rate_limits": False, "rate_per_minute": 0.0,
                                   "zendesk": {"enabled": False}, "freshdesk": {"enabled": False},
                                   "salesforce": {"lost_rate": 1.0}}, "simulator"))).start()
    try:
        app = sim.apps["salesforce"]
        app.sync_world()
        cid = next(iter(app.by_id))
        app.tokens["tok"] = app.clock()  # a session for the raw request below
        body = json.dumps({"Priority": "Low"}).encode()
        host, port = sim.servers["salesforce"].server_address[:2]
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(f"PATCH /services/data/v60.0/sobjects/Case/{cid} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n"
                      f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            assert s.recv(1024) == b""  # no answer at all
        assert app.overlay[cid]["Priority"] == "Low"  # yet the write landed
        assert sim.recorder.lost == {"salesforce": 1}
        assert [r.kind for r in sim.recorder.for_helpdesk("salesforce")] == ["update"]
    finally:
        sim.stop()


def test_bookmark_positions_and_backward_moves_are_counted():
    soak = _bench()
    import base64

    cursor = lambda t: {"cursor": base64.b64encode(f"{t}||1001|".encode()).decode()}  # noqa: E731
    assert soak.bookmark_times(cursor("1796424731.0")) == {"cursor": 1796424731.0}
    history = [{"zendesk": cursor("100.0"), "salesforce": {"since": "2026-12-04T22:35:46Z"}},
               {"zendesk": cursor("90.0"), "salesforce": {"since": "2026-12-04T22:35:47Z"}},
               {"zendesk": cursor("120.0"), "salesforce": {"since": "2026-12-04T22:35:47Z"}}]
    assert soak.count_backwards(history, "zendesk") == (2, 1)
    assert soak.count_backwards(history, "salesforce") == (1, 0)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_short_soak_loses_nothing_and_applies_nothing_twice(tmp_path):
    soak = _bench()
    result = soak.run(kills=3, backlog=40, rate=20.0, folder=tmp_path, settle_seconds=45.0, max_life=2.0)
    text = soak.report(result)
    print(text)
    assert result.caught_up, text
    assert result.sigterm_exit == 0 and result.left_sending_after_sigterm == 0, text
    for f in result.figures.values():
        assert f.tickets > 0 and f.items > 0, text  # the run really wrote back
        assert (f.lost, f.dup_writes, f.dup_notes, f.backwards, f.failed_landed, f.undrained) == (0, 0, 0, 0, 0, 0), text
    assert result.ok
