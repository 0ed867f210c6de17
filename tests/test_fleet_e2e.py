"""The fleet end to end (bench/fleet.py): three daemon processes on one store against the
simulator with its faults on, for the 60 s the issue asks, one daemon SIGKILLed midway.
Afterwards every simulated ticket is in the store once, every planned update reached the
simulator exactly once, no two daemons held a source at once (nor polled outside their hold),
and the killed daemon's sources were taken over within a lease period and a renewal interval.
Runs in CI: on PostgreSQL for the issue's full minute, on SQLite (several daemons on one host)
for a shorter run."""

from __future__ import annotations

import sys

import pytest

from tests.store.pg import pg_url  # noqa: F401  (a fixture)
from tests.bench_scripts import load_bench



def _bench():
    return load_bench("fleet")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("kind, seconds", [("postgresql", 60.0), ("sqlite", 20.0)])
def test_three_daemons_one_killed_nothing_lost_nothing_twice_one_poller_per_source(tmp_path, kind, seconds, request):
    fleet = _bench()
    store = request.getfixturevalue("pg_url") if kind == "postgresql" else None
    result = fleet.run(seconds=seconds, daemons=3, store=store, folder=tmp_path, settle_seconds=90.0)
    text = fleet.report(result)
    print(text)
    assert result.caught_up, text
    assert sum(result.tickets.values()) > 0 and result.items > 0, text  # the run really synced and wrote back
    assert (result.missing, result.extra) == (0, 0), text
    assert (result.unsent, result.not_landed, result.dup_writes, result.dup_notes) == (0, 0, 0, 0), text
    assert result.holds >= 3 and result.overlaps == 0 and result.polls > 0 and result.polls_outside == 0, text
    assert result.killed_sources and set(result.taken_over) == set(result.killed_sources), text
    assert all(seconds <= fleet.LEASE + fleet.LEASE / 3 + 2.0 for _, seconds in result.taken_over.values()), text
    assert result.ok, text
