from __future__ import annotations

import threading
from datetime import timedelta

from deskwatch.core.store import Store

from ..conftest import NOW
from .factory import decision, ticket


def test_a_console_reads_while_the_daemon_is_writing(tmp_path):
    path = tmp_path / "shared.db"
    daemon, console = Store(path), Store(path)
    try:
        daemon.save_page("zendesk", [ticket("zendesk:1")], (), {"cursor": "c1"})
        with daemon.transaction() as conn:  # the daemon is in the middle of a page
            daemon.save_page("zendesk", [ticket("zendesk:2")], (), {"cursor": "c2"})
            # WAL: the reader is not blocked and sees the last committed state only.
            assert [r.ticket_id for r in console.queue()] == ["zendesk:1"]
            assert console.get_bookmark("zendesk") == {"cursor": "c1"}
            assert conn.in_transaction
        assert sorted(r.ticket_id for r in console.queue()) == ["zendesk:1", "zendesk:2"]
        assert console.get_bookmark("zendesk") == {"cursor": "c2"}
    finally:
        daemon.close()
        console.close()


def test_two_writers_wait_for_each_other_instead_of_failing(tmp_path):
    path = tmp_path / "shared.db"
    daemon, console = Store(path), Store(path)
    daemon.save_page("zendesk", [ticket("zendesk:1")], (), None)
    started, release, errors = threading.Event(), threading.Event(), []

    def long_write():
        try:
            with daemon.transaction():
                daemon.record_decision(decision("zendesk:1"))
                started.set()
                release.wait(5)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    th = threading.Thread(target=long_write)
    th.start()
    assert started.wait(5)
    threading.Timer(0.3, release.set).start()
    # The console's write waits on busy_timeout until the daemon commits, then goes through.
    console.set_acknowledged("zendesk:1", "ana", NOW + timedelta(minutes=1))
    th.join(5)
    assert errors == []
    assert console.ack_state("zendesk:1").acknowledged_by == "ana"
    assert daemon.latest_decision("zendesk:1") is not None
    daemon.close()
    console.close()


def test_online_backup_is_a_consistent_store(tmp_path):
    live = Store(tmp_path / "live.db")
    live.save_page("zendesk", [ticket("zendesk:1"), ticket("zendesk:2")], (), {"cursor": "c9"})
    live.record_decision(decision("zendesk:2"))
    copy_path = live.backup(tmp_path / "backups" / "deskwatch-2026-11-23.db")
    live.save_page("zendesk", [ticket("zendesk:3")], (), {"cursor": "c10"})  # after the snapshot
    with Store(copy_path) as copy:
        assert copy.get_bookmark("zendesk") == {"cursor": "c9"}
        assert [r.ticket_id for r in copy.queue()] == ["zendesk:2", "zendesk:1"]
        assert copy.migrations_applied == []
    live.close()
