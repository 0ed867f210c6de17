"""Backfill and steady-state cost: the connectors spend few requests (credits) per ticket, and
the simulator charges what the real APIs charge (Zendesk's export limit, Freshdesk credits per
include, Salesforce child rows in batches and getDeleted's 15-day window)."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import timedelta

import httpx
import pytest

from deskwatch.core import config
from deskwatch.core.cli.commands.daemon import build
from deskwatch.core.connect import plugins
from deskwatch.core.connect.http import RateBudget
from deskwatch.core.daemon.sync import Daemon
from deskwatch.core.model.settings import Section
from deskwatch.core.model.timeutil import format_time, utcnow
from deskwatch.core.simulator.http import SimRequest
from deskwatch.core.simulator.runner import Simulator, parse


def _sim(backlog: int, **extra) -> Simulator:
    data = {"seed": 3, "backlog": backlog, "backlog_hours": 24.0 * 14, "rate_per_minute": 0.0, "rate_limits": False, **extra}
    return Simulator(parse(Section(data, "simulator"))).start()


def _req(path: str, **query) -> SimRequest:
    return SimRequest("GET", path, {k: [v] for k, v in query.items()}, {"host": "x"}, b"")


def _open(sim: Simulator) -> Simulator:
    """The apps without credential checks: these tests call them directly."""
    sim.apps["freshdesk"].api_key = None
    sim.apps["zendesk"].token = None
    return sim


def _config(sim: Simulator, tmp_path) -> config.Config:
    data = config.default_data()
    data["store"] = {"path": str(tmp_path / "deskwatch.db")}
    sources = sim.sources_config(write_back=False, poll_interval=0.1)
    for s in sources.values():
        s["start_time"] = "2000-01-01T00:00:00Z"
    data["sources"] = sources
    return config.parse_data(data, "test")


def test_a_backfill_of_mostly_solved_tickets_costs_little_per_ticket(tmp_path):
    sim = _sim(600)
    try:
        rng = random.Random(1)
        for c in sim.world.conversations:
            if rng.random() < 0.9:
                c.status = "solved"
        cfg = _config(sim, tmp_path)
        store, connectors = build(cfg)
        try:
            asyncio.run(Daemon(cfg, store, connectors).run(once=True))
            counts = dict(store._q("SELECT source, COUNT(*) FROM tickets GROUP BY source"))
        finally:
            store.close()
        assert set(counts) == {"zendesk", "freshdesk", "salesforce"} and min(counts.values()) > 100
        zd = sim.recorder.requests["zendesk"] / counts["zendesk"]
        fd = sim.recorder.credits["freshdesk"] / counts["freshdesk"]
        # One export page and comments for the open tenth; one listing page per 100 and
        # conversations for the open tenth (no stats include, companies listed not read one by one).
        assert zd <= 0.15, f"{zd:.3f} Zendesk requests per ticket"
        assert fd <= 0.2, f"{fd:.3f} Freshdesk credits per ticket"
        assert sim.recorder.requests["salesforce"] <= 6
    finally:
        sim.stop()


def test_freshdesk_charges_credits_per_include():
    sim = _open(Simulator(parse(Section({"seed": 1, "backlog": 5}, "simulator"))))
    fd = sim.apps["freshdesk"]
    assert fd.cost(_req("/api/v2/tickets")) == 1
    assert fd.cost(_req("/api/v2/tickets", include="requester,description")) == 5
    assert fd.cost(_req("/api/v2/tickets", include="requester,stats,description")) == 7
    assert fd.cost(_req("/api/v2/tickets/3", include="conversations")) == 2
    resp = fd.handle(_req("/api/v2/tickets", include="requester,description", updated_since="2000-01-01T00:00:00Z"))
    assert resp.status == 200 and resp.headers["X-Ratelimit-Used-CurrentRequest"] == "5"
    assert sim.recorder.credits["freshdesk"] == 5 and sim.recorder.requests["freshdesk"] == 1


def test_freshdesk_credits_fill_the_minute_window():
    sim = _open(Simulator(parse(Section({"seed": 1, "backlog": 5, "freshdesk": {"rate_per_minute": 12}}, "simulator"))))
    fd = sim.apps["freshdesk"]
    listing = _req("/api/v2/tickets", include="requester,description", updated_since="2000-01-01T00:00:00Z")
    assert [fd.handle(listing).status for _ in range(3)] == [200, 200, 429]  # 5 + 5, then 5 more > 12


def test_zendesk_export_has_its_own_ten_a_minute():
    sim = _open(Simulator(parse(Section({"seed": 1, "backlog": 5, "zendesk": {"rate_per_minute": 700}}, "simulator"))))
    zd = sim.apps["zendesk"]
    export = _req("/api/v2/incremental/tickets/cursor.json", start_time="0")
    codes = [zd.handle(export).status for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429
    assert zd.handle(_req("/api/v2/users/me.json")).status == 200  # the account limit is not used up


def test_salesforce_child_rows_count_toward_the_batch():
    sim = Simulator(parse(Section({"seed": 1, "backlog": 5}, "simulator")))
    sf = sim.apps["salesforce"]
    kids = lambda n: {"totalSize": n, "done": True, "records": [{}] * n}  # noqa: E731
    records = [{"Id": str(i), "CaseComments": kids(150)} for i in range(5)]
    page = json.loads(sf._page(records, 200, _req("/q")).body)
    assert len(page["records"]) == 1 and not page["done"] and page["nextRecordsUrl"].endswith("-200")
    page = json.loads(sf._page([{"Id": "1"}] * 300, 200, _req("/q")).body)
    assert len(page["records"]) == 200


def test_salesforce_get_deleted_refuses_a_start_before_its_window():
    sim = Simulator(parse(Section({"seed": 1, "backlog": 5}, "simulator")))
    sf = sim.apps["salesforce"]
    path = f"/services/data/{sf.version}/sobjects/Case/deleted/"
    now = utcnow()
    old = sf.get_deleted(_req(path, start=format_time(now - timedelta(days=20)), end=format_time(now)))
    assert old.status == 400 and b"INVALID_REPLICATION_DATE" in old.body
    ok = sf.get_deleted(_req(path, start=format_time(now - timedelta(days=14)), end=format_time(now)))
    assert ok.status == 200 and b"earliestDateAvailable" in ok.body


async def test_salesforce_reconciles_ids_after_a_gap_past_the_window(tmp_path):
    sim = _sim(40)
    try:
        cfg = _config(sim, tmp_path)
        plugins.get_plugin_manager(cfg)
        conn = plugins.build_connector(cfg.sources["salesforce"])
        try:
            pages = [p async for p in conn.fetch(None)]
            assert conn.reconcile_since is None  # a first run has no gap
            known = [t.id for p in pages for t in p.tickets]
            bookmark = dict(pages[-1].bookmark)
            bookmark["deleted_since"] = format_time(utcnow() - timedelta(days=20))
            pages = [p async for p in conn.fetch(bookmark)]  # no 400: the lookup stays in the window
            assert conn.reconcile_since is not None
            gone = await conn.reconcile_ids([*known, "salesforce:500000000000000AAA"])
            assert gone == ["salesforce:500000000000000AAA"] and conn.reconcile_since is None
        finally:
            await conn.close()
    finally:
        sim.stop()


async def test_the_budget_keeps_a_share_of_the_quota_for_other_integrations():
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)

    budget = RateBudget(None, reserve_share=0.2, reserve_wait=6.0, sleep=sleep)
    headers = lambda rem: httpx.Response(200, headers={"X-Rate-Limit": "100", "X-Rate-Limit-Remaining": str(rem)})  # noqa: E731
    budget.observe(headers(50))
    await budget.acquire()
    assert slept == [] and budget.held_back() == 20
    budget.observe(headers(20))
    await budget.acquire()
    assert slept == [6.0]
    with pytest.raises(ValueError, match="reserve_share"):
        RateBudget(None, reserve_share=1.0)


def test_quota_reserve_is_a_source_setting():
    from deskwatch.plugins.zendesk.settings import parse_settings

    base = {"subdomain": "acme", "email": "a@acme.example", "token": "abcd1234"}
    assert parse_settings(Section(base, "sources.zd")).quota_reserve == 0.1
    assert parse_settings(Section({**base, "quota_reserve": 0.3}, "sources.zd")).quota_reserve == 0.3
    with pytest.raises(config.ConfigError, match="quota_reserve"):
        parse_settings(Section({**base, "quota_reserve": 0.95}, "sources.zd"))
