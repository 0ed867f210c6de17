from __future__ import annotations

import sqlite3

import pytest

from deskwatch.core.store import MIGRATIONS, Store, StoreError, StoreVersionError
from deskwatch.core.store.migrations import applied, migrate

from .factory import ticket


def test_fresh_store_creates_folders_wal_and_records_migrations(tmp_path):
    path = tmp_path / "deep" / "er" / "deskwatch.db"
    with Store(path) as s:
        assert path.exists()
        assert s.journal_mode == "wal"
        assert s.migrations_applied == [name for name, _ in MIGRATIONS]
    with Store(path) as again:
        assert again.migrations_applied == []  # nothing left to apply


def test_old_store_is_upgraded_in_place_keeping_its_data(tmp_path):
    path = tmp_path / "old.db"
    with Store(path) as s:
        s.save_page("zendesk", [ticket()], (), {"cursor": "abc"})

    def m900_add_watchers(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE watchers (ticket_id TEXT, who TEXT)")

    conn = sqlite3.connect(path, isolation_level=None)
    ran = migrate(conn, str(path), [*MIGRATIONS, ("m900_add_watchers", m900_add_watchers)])
    assert ran == ["m900_add_watchers"]
    assert applied(conn)[-1] == "m900_add_watchers"
    assert conn.execute("SELECT COUNT(*) FROM watchers").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1
    conn.close()


def test_failed_migration_leaves_the_store_as_it_was(tmp_path):
    path = tmp_path / "s.db"
    Store(path).close()

    def m901_broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half (x)")
        raise RuntimeError("boom")

    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(RuntimeError):
        migrate(conn, str(path), [*MIGRATIONS, ("m901_broken", m901_broken)])
    assert "m901_broken" not in applied(conn)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half'").fetchone() is None
    conn.close()


def test_store_written_by_newer_deskwatch_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "new.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO _migrations (name, applied_at) VALUES ('m950_from_the_future', 'now')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreVersionError) as e:
        Store(path)
    assert "newer deskwatch" in str(e.value) and "m950_from_the_future" in str(e.value) and str(path) in str(e.value)


def test_a_file_that_is_not_a_store_gives_a_clear_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("this is not a database, just some notes\n" * 100)
    with pytest.raises(StoreError) as e:
        Store(path)
    assert str(path) in str(e.value) and "store.path" in str(e.value)


def test_audit_log_is_append_only(store, now):
    from deskwatch.core.model import AuditRecord

    store.append_audit(AuditRecord("zendesk:1001", "note", "ana", now, {"text": "called the customer"}))
    refused = sqlite3.IntegrityError if store.dialect.name == "sqlite" else __import__("psycopg").errors.RaiseException
    with pytest.raises(refused, match="append-only"):
        store._conn.execute("UPDATE audit SET actor = 'mallory'")
    with pytest.raises(refused, match="append-only"):
        store._conn.execute("DELETE FROM audit")
    assert [r.actor for r in store.audit_for("zendesk:1001")] == ["ana"]


def test_opening_a_store_from_before_m002_adds_and_fills_the_search_table(tmp_path):
    from deskwatch.core.store import QueueFilter

    path = tmp_path / "v1.db"
    with Store(path) as s:
        s.save_page("zendesk", [ticket("zendesk:1", name="Jürgen Müller", org="Straße AG")], (), None)
    # Turn it back into a store as the first release wrote it.
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE ticket_search")
    conn.execute("DELETE FROM _migrations WHERE name = 'm002_ticket_search'")
    conn.commit()
    conn.close()
    with Store(path) as s:
        assert s.migrations_applied == ["m002_ticket_search"]
        assert [r.ticket_id for r in s.queue(QueueFilter(text="MÜLLER"))] == ["zendesk:1"]
        assert [r.ticket_id for r in s.queue(QueueFilter(text="strasse"))] == ["zendesk:1"]  # casefold: ß = ss


def test_a_folder_as_store_path_gives_a_clear_error(tmp_path):
    with pytest.raises(StoreError) as e:
        Store(tmp_path)
    assert str(tmp_path) in str(e.value) and "store.path" in str(e.value)


def test_open_store_uses_the_configured_path(tmp_path):
    from deskwatch.core import config
    from deskwatch.core.store import open_store

    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text(f'[store]\npath = "{tmp_path / "var" / "dw.db"}"\n')
    with open_store(config.load(cfg_file)) as s:
        assert s.path == tmp_path / "var" / "dw.db" and s.path.exists()
