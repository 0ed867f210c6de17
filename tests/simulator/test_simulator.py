"""The simulator must behave like the APIs the connectors are written against."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from deskwatch.core.model.settings import ConfigError, Section
from deskwatch.core.simulator.http import Faults, Recorder, serve
from deskwatch.core.simulator.runner import Simulator, parse
from deskwatch.core.simulator.soql import evaluate_where, parse_soql
from deskwatch.core.simulator.world import World
from deskwatch.core.simulator.zendesk import ZendeskApp, decode_cursor, encode_cursor

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, t: datetime):
        self.t = t

    def __call__(self) -> datetime:
        return self.t


def make_sim(**overrides):
    data = {"seed": 3, "backlog": 40, "rate_limits": False, **overrides}
    clock = Clock(T0)
    return Simulator(parse(Section(data, "simulator")), clock=clock), clock


def test_world_is_deterministic_for_a_seed():
    def kinds(seed):
        w = World(seed, ("zendesk", "freshdesk"), T0)
        w.backlog(30, timedelta(hours=2))
        w.step(T0 + timedelta(minutes=30))
        return [(c.kind, c.helpdesk, c.customer.email, len(c.posts)) for c in w.conversations]

    assert kinds(5) == kinds(5)
    assert kinds(5) != kinds(6)


def test_world_never_shows_the_future_and_twins_cross_helpdesks():
    w = World(11, ("zendesk", "freshdesk", "salesforce"), T0, rate_per_minute=4)
    w.backlog(200, timedelta(hours=6))
    for minutes in range(1, 60, 7):
        w.step(T0 + timedelta(minutes=minutes))
        for h in w.helpdesks:
            assert all(c.updated_at <= w.now and c.posts[-1].at <= w.now for c in w.for_helpdesk(h))
    by_email: dict[str, set[str]] = {}
    for c in w.conversations:
        if c.created_at <= w.now:
            by_email.setdefault(c.customer.email, set()).add(c.helpdesk)
    assert any(len(h) > 1 for h in by_email.values()), "some customer should contact two helpdesks"


def test_zendesk_cursor_export_pages_without_loss_or_duplicates():
    sim, clock = make_sim(backlog=57)
    with sim:
        base = sim.url("zendesk")
        auth = ("sim@example.com/token", "sim-zendesk-token")
        seen: list[int] = []
        params = {"start_time": 0, "per_page": 10}
        while True:
            d = httpx.get(f"{base}/api/v2/incremental/tickets/cursor.json", params=params, auth=auth).json()
            seen += [t["id"] for t in d["tickets"]]
            params = {"cursor": d["after_cursor"], "per_page": 10}
            if d["end_of_stream"]:
                break
        assert len(seen) == len(set(seen)) == len(sim.world.for_helpdesk("zendesk"))
        # Resuming from the last cursor later returns only what changed since.
        clock.t += timedelta(minutes=10)
        d = httpx.get(f"{base}/api/v2/incremental/tickets/cursor.json", params=params, auth=auth).json()
        assert d["tickets"] and not set(t["id"] for t in d["tickets"] if t["created_at"] < "2026-11-23T09:00:00Z") - set(seen)


def test_cursor_encoding_matches_the_recorded_form():
    assert encode_cursor(1695052663, 28) == "MTY5NTA1MjY2My4wfHwyOHw="
    assert decode_cursor("MTY5NTA1MjY2My4wfHwyOHw=") == (1695052663, 28)


def test_rate_limit_answers_in_each_helpdesks_own_words():
    sim, _ = make_sim(rate_limits=True, zendesk={"rate_per_minute": 2}, freshdesk={"rate_per_minute": 1},
                      salesforce={"rate_per_minute": 2})
    with sim:
        z = [httpx.get(f"{sim.url('zendesk')}/api/v2/groups.json", auth=("sim@example.com/token", "sim-zendesk-token"))
             for _ in range(3)]
        assert [r.status_code for r in z] == [200, 200, 429]
        assert int(z[2].headers["retry-after"]) >= 1 and z[2].headers["content-type"].startswith("text/plain")
        f = [httpx.get(f"{sim.url('freshdesk')}/api/v2/groups", auth=("sim-freshdesk-key", "X")) for _ in range(2)]
        assert f[1].status_code == 429 and f[1].json()["code"] == "too_many_requests"
        tok = httpx.post(f"{sim.url('salesforce')}/services/oauth2/token",
                         data={"grant_type": "client_credentials", "client_id": "sim-client-id",
                               "client_secret": "sim-client-secret"}).json()["access_token"]
        s = [httpx.get(f"{sim.url('salesforce')}/services/data/v61.0/limits", headers={"Authorization": f"Bearer {tok}"})
             for _ in range(3)]
        assert [x.status_code for x in s] == [200, 200, 403]
        r = s[2]
        assert r.status_code == 403 and r.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_wrong_credentials_are_refused():
    sim, _ = make_sim()
    with sim:
        assert httpx.get(f"{sim.url('zendesk')}/api/v2/groups.json", auth=("x/token", "bad")).status_code == 401
        assert httpx.get(f"{sim.url('freshdesk')}/api/v2/groups", auth=("bad", "X")).status_code == 401
        r = httpx.post(f"{sim.url('salesforce')}/services/oauth2/token",
                       data={"grant_type": "client_credentials", "client_id": "sim-client-id", "client_secret": "no"})
        assert r.status_code == 400 and r.json()["error"] == "invalid_client"


def test_updates_are_recorded_and_safe_update_conflicts():
    sim, clock = make_sim()
    with sim:
        base, auth = sim.url("zendesk"), ("sim@example.com/token", "sim-zendesk-token")
        t = httpx.get(f"{base}/api/v2/incremental/tickets/cursor.json", params={"start_time": 0}, auth=auth).json()["tickets"][0]
        stale = t["updated_at"]
        clock.t += timedelta(seconds=5)
        ok = httpx.put(f"{base}/api/v2/tickets/{t['id']}.json", auth=auth,
                       json={"ticket": {"additional_tags": ["dw-1"], "safe_update": True, "updated_stamp": stale}})
        assert ok.status_code == 200 and "dw-1" in ok.json()["ticket"]["tags"]
        clock.t += timedelta(seconds=5)
        conflict = httpx.put(f"{base}/api/v2/tickets/{t['id']}.json", auth=auth,
                             json={"ticket": {"priority": "urgent", "safe_update": True, "updated_stamp": stale}})
        assert conflict.status_code == 409
        assert [u.payload.get("additional_tags") for u in sim.recorder.for_helpdesk("zendesk")] == [["dw-1"]]


def test_faults_drop_connections_and_cut_bodies():
    w = World(1, ("zendesk",), T0)
    w.backlog(5, timedelta(hours=1))
    drop = ZendeskApp(w, lambda: T0, Faults(drop_rate=1.0), 0, Recorder(), [], [], None, None)
    cut = ZendeskApp(w, lambda: T0, Faults(malformed_rate=1.0), 0, Recorder(), [], [], None, None)
    s1, s2 = serve(drop), serve(cut)
    try:
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{s1.server_address[1]}/api/v2/groups.json")
        r = httpx.get(f"http://127.0.0.1:{s2.server_address[1]}/api/v2/incremental/tickets/cursor.json?start_time=0")
        with pytest.raises(ValueError):
            r.json()
    finally:
        for s in (s1, s2):
            s.shutdown()
            s.server_close()


def test_soql_where_evaluation():
    q = parse_soql("SELECT Id, (SELECT Id FROM CaseComments) FROM Case WHERE (Priority = 'High' OR Priority IN ('Low')) "
                   "AND SystemModstamp >= 2026-11-23T09:00:00.000+0000 AND NOT IsClosed = true ORDER BY SystemModstamp ASC LIMIT 5")
    assert q["object"] == "Case" and q["limit"] == 5 and q["sub"][0]["object"] == "CaseComments"
    row = {"Priority": "Low", "SystemModstamp": T0 + timedelta(minutes=1), "IsClosed": False}
    assert evaluate_where(q["where"], row.get)
    assert not evaluate_where(q["where"], {**row, "IsClosed": True}.get)
    assert not evaluate_where(q["where"], {**row, "SystemModstamp": T0 - timedelta(seconds=1)}.get)


def test_simulator_config_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"simulator.zendesk.error_rate: must be at most 1"):
        parse(Section({"zendesk": {"error_rate": 2}}, "simulator"))
    with pytest.raises(ConfigError, match="loopback"):
        parse(Section({"host": "0.0.0.0"}, "simulator"))
