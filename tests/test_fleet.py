"""Several daemons in one process on one store: the sources are split fairly, a daemon that
loses the store stops polling before its leases run out and its sources are taken over, and it
gets its share back when the store returns. Connectors record who polled them, when."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime, timezone

import pytest

from deskwatch.core import config
from deskwatch.core.connect.contract import CheckResult, Connector
from deskwatch.core.daemon.leases import LeaseKeeper, preference
from deskwatch.core.daemon.sync import Daemon
from deskwatch.core.model.settings import ConfigError
from deskwatch.core.store import Store
from deskwatch.core.store.migrations import StoreError
from tests.store.pg import STORE_KINDS, pg_url  # noqa: F401  (pg_url: a fixture)

SOURCES = ("zd", "fd", "sf")
LEASE = 1.5  # seconds: renewed every 0.5 s
# The heartbeat is far slower than the lease: a dead daemon still looks alive in `status` when
# its leases expire, yet its sources must be taken over on the lease's clock.


def wall() -> datetime:
    return datetime.now(timezone.utc)


class Polled(Connector):
    """Yields no tickets; records (daemon, time) of every poll."""

    type_name = "polled"

    def __init__(self, source: str, daemon: str, log: list):
        super().__init__(source)
        self.daemon, self.log = daemon, log

    async def check(self) -> CheckResult:
        return CheckResult(True, "ok")

    async def fetch(self, bookmark, *, until=None):
        self.log.append((self.source_name, self.daemon, wall()))
        return
        yield  # pragma: no cover

    async def update(self, update):  # pragma: no cover - write-back is off
        raise AssertionError("nothing to send")

    @property
    def source_name(self) -> str:
        return self.source


class Flaky:
    """A store whose every call fails while ``down`` (the database unreachable)."""

    def __init__(self, store: Store):
        self._store, self.down = store, False

    def __getattr__(self, name):
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        def call(*a, **k):
            if self.down:
                raise StoreError("the store cannot be reached (connection refused)")
            return attr(*a, **k)
        return call


def make_config(tmp_path, daemon_id: str, url: str | None = None):
    data = config.default_data()
    data["store"] = {"url": url} if url else {"path": str(tmp_path / "d.db")}
    data["daemon"].update({"id": daemon_id, "lease_seconds": LEASE, "heartbeat_interval": 10.0, "shutdown_timeout": 2.0})
    data["sources"] = {s: {"type": "zendesk", "base_url": "https://x.zendesk.com", "email": "a@b.example",
                           "token": "abcd1234", "poll_interval": 0.05} for s in SOURCES}
    return config.parse_data(data, "test")


def holders(store: Store) -> dict[str, str]:
    now = wall()
    return {lease.source: lease.holder for lease in store.leases() if lease.held(now)}


async def until(cond, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if cond():
            return True
        await asyncio.sleep(0.05)
    return cond()


@pytest.mark.parametrize("kind", STORE_KINDS)
async def test_three_daemons_split_the_sources_and_take_over_from_one_that_loses_the_store(tmp_path, kind, request):
    url = request.getfixturevalue("pg_url") if kind == "postgresql" else None

    def connect() -> Store:
        return Store(url=url) if url else Store(tmp_path / "d.db")

    polls: list = []
    stores = {d: Flaky(connect()) for d in "abc"}
    daemons = {d: Daemon(make_config(tmp_path, d, url), stores[d], {s: Polled(s, d, polls) for s in SOURCES}, clock=wall)
               for d in "abc"}
    runs = [asyncio.create_task(d.run()) for d in daemons.values()]
    watch = connect()
    try:
        assert await until(lambda: sorted(holders(watch).values()) == ["a", "b", "c"], 10), holders(watch)
        [c_source] = [s for s, h in holders(watch).items() if h == "c"]

        stores["c"].down = True
        down_at = wall()
        assert await until(lambda: holders(watch).get(c_source) in ("a", "b"), 3 * LEASE), holders(watch)
        taken = [h for h in watch.lease_holds(c_source) if h.holder != "c" and h.taken_at >= down_at]
        assert taken, "c's source was not taken over"
        # Within one lease period of c's last renewal (plus one renewal interval to notice).
        assert (taken[0].taken_at - down_at).total_seconds() <= LEASE + LEASE / 3 + 0.5
        c_polls = [t for s, d, t in polls if d == "c"]
        assert c_polls and max(c_polls) < taken[0].taken_at  # c stopped before anyone else began
        assert not daemons["c"].keeper.deadline  # and keeps no lease it cannot renew

        stores["c"].down = False  # the store is back: c gets a fair share again
        assert await until(lambda: sorted(holders(watch).values()) == ["a", "b", "c"], 6 * LEASE), holders(watch)
    finally:
        for d in daemons.values():
            d.request_stop()
        await asyncio.gather(*runs)
    assert watch.leases() == []  # a clean stop frees every lease at once
    # One daemon at a time per source: every recorded hold ends before the next begins, and
    # every poll falls inside a hold of the daemon that made it.
    for s in SOURCES:
        holds = watch.lease_holds(s)
        assert all(x.end <= y.taken_at for x, y in zip(holds, holds[1:])), holds
        for src, d, t in polls:
            if src == s:
                assert any(h.holder == d and h.taken_at <= t <= h.end for h in holds), (s, d, t, holds)
    st = watch.status(wall())
    assert {d.id for d in st.daemons} == {"a", "b", "c"} and not any(d.alive for d in st.daemons)
    watch.close()
    for s in stores.values():
        s.close()


async def test_once_polls_only_the_sources_no_other_daemon_holds(tmp_path):
    polls: list = []
    with Store(tmp_path / "d.db") as store:
        store.take_lease("fd", "elsewhere", wall(), 60)
        d = Daemon(make_config(tmp_path, "a"), store, {s: Polled(s, "a", polls) for s in SOURCES}, clock=wall)
        await d.run(once=True)
        assert sorted(s for s, _, _ in polls) == ["sf", "zd"]
        assert [lease.holder for lease in store.leases()] == ["elsewhere"]  # its own were let go at the end


def test_a_lost_renewal_stops_the_source_at_once(tmp_path):
    with Store(tmp_path / "d.db") as store:
        started: list[str] = []
        store.register_daemon("a", "here", os.getpid(), "1", wall(), 5.0)

        async def scenario():
            keeper = LeaseKeeper(store, "a", ["zd"], 30, wall, lambda s: started.append(s) or asyncio.create_task(asyncio.sleep(60)),
                                 lambda _: asyncio.sleep(0))
            keeper.round()
            assert keeper.holds("zd") and started == ["zd"]
            task = keeper.tasks["zd"]
            store.release_lease("zd", "a", wall())
            store.take_lease("zd", "b", wall(), 30)  # b got it (say a's clock ran slow)
            keeper.round()
            await asyncio.sleep(0)
            assert not keeper.holds("zd") and task.cancelled()
            assert [(h.holder, h.how) for h in store.lease_holds("zd")][-2:] == [("a", "released"), ("b", None)]

        asyncio.run(scenario())


def test_preferences_spread_daemons_over_sources():
    firsts = {min(SOURCES, key=lambda s: preference(d, s)) for d in ("dw-1", "dw-2", "dw-3", "dw-4", "dw-5")}
    assert len(firsts) > 1  # not every daemon reaches for the same source first


def test_daemon_id_defaults_to_the_host_name_and_is_checked(tmp_path):
    import socket

    data = config.default_data()
    assert config.parse_data(data, "t").daemon.id == socket.gethostname().split(".")[0]
    data["daemon"]["id"] = "two words"
    with pytest.raises(ConfigError, match=r"daemon\.id: expected a name of letters, digits"):
        config.parse_data(data, "t")
    data["daemon"] = {"lease_seconds": 0.1}
    with pytest.raises(ConfigError, match=r"daemon\.lease_seconds"):
        config.parse_data(data, "t")


def test_status_lists_the_daemons_their_heartbeats_and_sources(tmp_path, capsys):
    import json

    import tomli_w

    from deskwatch.core.cli import main

    path = tmp_path / "c.toml"
    path.write_text(tomli_w.dumps({"store": {"path": str(tmp_path / "d.db")}}))
    now = wall()
    with Store(tmp_path / "d.db") as store:
        store.register_daemon("eu-1", "host-1", 101, "0.1.0", now, 5.0)
        store.register_daemon("eu-2", "host-2", 202, "0.1.0", now, 5.0)
        store.take_lease("zendesk", "eu-1", now, 30)
        store.take_lease("freshdesk", "eu-2", now, 30)
        store.record_sync_ok("zendesk", now)
        store.daemon_stopped("eu-2", 202, now)
        store.release_lease("freshdesk", "eu-2", now)
    assert main(["status", "--config", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {d["id"]: d for d in data["daemons"]}
    assert rows["eu-1"]["alive"] and rows["eu-1"]["sources"] == ["zendesk"] and rows["eu-1"]["host"] == "host-1"
    assert not rows["eu-2"]["alive"] and rows["eu-2"]["sources"] == [] and rows["eu-2"]["stopped_at"]
    assert data["daemon"]["alive"] and data["daemon"]["pid"] == 101  # the one that stopped does not hide the other
    assert {x["name"]: x["held_by"] for x in data["sources"]} == {"zendesk": "eu-1"}
    assert main(["status", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "daemons: 1 alive of 2" in out
    assert "eu-1           alive, pid 101 on host-1" in out and "holds zendesk" in out
    assert "eu-2           stopped" in out
    assert "zendesk" in out.split("outbox:")[1] and "polled by eu-1" in out


def test_a_chain_step_fires_once_though_every_daemon_checks_the_timers(tmp_path):
    import threading
    from dataclasses import replace
    from datetime import timedelta

    from deskwatch.core.daemon.pipeline import Decider
    from tests.conftest import NOW
    from tests.store.factory import ticket

    base = config.load(None)
    store = Store(tmp_path / "d.db")
    store.save_page("zendesk", [ticket("zendesk:7", body="Under the GDPR I request the deletion of all personal data "
                                       "you hold about me.", created=NOW - timedelta(minutes=5))], (), {"c": 1}, now=NOW)
    Decider(base, store).decide("zendesk:7", NOW, write_back=True)
    before = len(store.decisions_for("zendesk:7"))
    def as_daemon(name: str):
        return replace(base, sections={**base.sections, "daemon": replace(base.daemon, id=name)})

    deciders = [Decider(as_daemon(f"d{i}"), Store(tmp_path / "d.db")) for i in range(4)]
    for d in deciders:
        assert d.advance_chains(NOW + timedelta(minutes=10)) == 0  # each has seen step 0
    start, moved = threading.Barrier(len(deciders)), []

    def check(d: Decider) -> None:
        start.wait()
        moved.append(d.advance_chains(NOW + timedelta(minutes=16)))

    threads = [threading.Thread(target=check, args=(d,)) for d in deciders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(moved) == [0, 0, 0, 1]  # one daemon fired step 1
    assert len(store.decisions_for("zendesk:7")) == before + 1
    assert store.latest_decision("zendesk:7").route.chain_step == 1
    assert all(d.advance_chains(NOW + timedelta(minutes=17)) == 0 for d in deciders)  # and nobody fires it again
