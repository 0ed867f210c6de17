"""The simulator charges what the real APIs charge (with the documented limits on): Zendesk's
one-minute hold-back on incremental exports and its side-loads, Freshdesk's per-endpoint
sub-limits, Salesforce's token expiry (401, then a new token) and its rolling daily API limit;
and the real connectors cope with each."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from deskwatch.core.connect.contract import RateLimited
from deskwatch.core.connect.http import client_factory, no_sleep
from deskwatch.core.model.settings import Section
from deskwatch.core.simulator.http import SimRequest
from deskwatch.core.simulator.runner import Simulator, parse
from deskwatch.plugins.salesforce import CONNECTOR_TYPE as SF

import pytest

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> datetime:
        return self.t


def make(limits: bool = True, **extra):
    clock = Clock()
    data = {"seed": 4, "backlog": 20, "backlog_hours": 4.0, "rate_per_minute": 0.0, "rate_limits": limits, **extra}
    sim = Simulator(parse(Section(data, "simulator")), clock=clock)
    sim.apps["zendesk"].token = None
    sim.apps["freshdesk"].api_key = None
    return sim, clock


def get(app, path: str, **query) -> tuple[int, dict, dict]:
    resp = app.handle(SimRequest("GET", path, {k: [str(v)] for k, v in query.items()}, {"host": "sim"}, b""))
    try:
        body = json.loads(resp.body) if resp.body else {}
    except ValueError:
        body = {}
    return resp.status, body, resp.headers


def test_zendesk_exports_hold_back_the_newest_minute():
    sim, clock = make()
    zd = sim.apps["zendesk"]
    zd.sync_world()
    tid = next(iter(zd.by_id))
    zd.overlay[tid]["modified"] = clock.t - timedelta(seconds=30)  # an agent saved it 30 s ago
    ids = lambda: [t["id"] for t in get(zd, "/api/v2/incremental/tickets/cursor.json", start_time=0)[1]["tickets"]]  # noqa: E731
    assert tid not in ids()
    clock.t += timedelta(seconds=31)
    assert tid in ids()
    # The ticket events export holds back the same minute, and refuses a start inside it.
    assert get(zd, "/api/v2/incremental/ticket_events.json", start_time=int(clock.t.timestamp()) - 10)[0] == 400
    off, _ = make(limits=False)  # a test that turns the limits off sees changes at once
    assert off.apps["zendesk"].freshness == 0


def test_zendesk_side_loads_the_groups_and_agents_tickets_name():
    sim, clock = make()
    zd = sim.apps["zendesk"]
    zd.sync_world()
    tid = next(iter(zd.by_id))
    gid, aid = next(iter(zd.group_ids.values())), next(iter(zd.agent_ids.values()))
    zd.overlay[tid].update(group_id=gid, assignee_id=aid)
    clock.t += timedelta(minutes=2)
    _, body, _ = get(zd, "/api/v2/incremental/tickets/cursor.json", start_time=0, include="users,organizations,groups")
    assert gid in [g["id"] for g in body["groups"]]
    assert {"agent", "end-user"} <= {u["role"] for u in body["users"]} and aid in [u["id"] for u in body["users"]]


def test_freshdesk_ticket_listing_has_its_own_sub_limit():
    sim, _ = make()
    fd = sim.apps["freshdesk"]  # Pro: 400 credits a minute, ticket listing 100 calls a minute
    codes = [get(fd, "/api/v2/tickets", updated_since="2000-01-01T00:00:00Z")[0] for _ in range(101)]
    assert codes[:100] == [200] * 100
    status, body, headers = get(fd, "/api/v2/tickets", updated_since="2000-01-01T00:00:00Z")
    assert status == 429 and body["code"] == "too_many_requests" and int(headers["Retry-After"]) >= 1
    assert get(fd, "/api/v2/groups")[0] == 200  # the account limit still has room


def sf_connector(sim):
    table = {k: v for k, v in sim.sources_config()["salesforce"].items() if k not in ("type", "write_back", "poll_interval")}
    table["start_time"] = "2000-01-01T00:00:00Z"
    return SF.create("sf", SF.parse_settings(Section(table, "sources.sf", "sim.toml")), client_factory(sleep=no_sleep))


async def test_salesforce_tokens_expire_and_the_connector_gets_a_new_one():
    sim, clock = make()
    with sim:
        sf = sim.apps["salesforce"]
        async with sf_connector(sim) as conn:
            first = [t for p in [p async for p in conn.fetch(None, until=clock.t)] for t in p.tickets]
            assert first and len(sf.tokens) == 1
            clock.t += timedelta(hours=2, seconds=1)  # past the session timeout: the next call is a 401
            assert (await conn.check()).ok
            assert len(sf.tokens) == 2


async def test_salesforce_daily_limit_is_rolling_and_the_connector_backs_off():
    sim, clock = make(salesforce={"rate_per_minute": 600})
    sf = sim.apps["salesforce"]
    assert sf.daily_limit == 100_000  # the documented Enterprise allocation when limits are on
    sf.daily_limit = 3
    with sim:
        async with sf_connector(sim) as conn:
            with pytest.raises(RateLimited, match="TotalRequests"):
                for _ in range(4):
                    await conn._json("GET", conn._path("limits"))
            clock.t += timedelta(hours=24)  # the oldest calls leave the 24-hour window
            assert (await conn._json("GET", conn._path("limits")))["DailyApiRequests"]["Max"] == 3
