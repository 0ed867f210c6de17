"""The connection, transactions and the change counter every store module builds on."""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from deskwatch.core.store.migrations import StoreError, migrate
from deskwatch.core.model.timeutil import format_time, parse_time

BUSY_TIMEOUT_MS = 5000


def ts(dt: datetime | None) -> str | None:
    """Times are stored as UTC text with a Z, so text order is time order."""
    return format_time(dt) if dt is not None else None


def from_ts(value: str | None) -> datetime | None:
    return parse_time(value) if value else None


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class StoreBase:
    """Owns the SQLite connection. Writes go through ``_tx()`` (``BEGIN IMMEDIATE``), so a
    writer takes the lock up front instead of failing half-way; WAL lets readers go on."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS):
        self.path = Path(path)
        where = str(self.path)
        if where != ":memory:":
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(f"{where}: cannot create the folder for the store ({e.strerror}); set store.path to a writable location") from None
        # Autocommit mode: transactions are explicit (see _tx), never opened behind our back.
        try:
            self._conn = sqlite3.connect(where, isolation_level=None, timeout=busy_timeout_ms / 1000, check_same_thread=False)
        except sqlite3.Error as e:
            raise StoreError(f"{where}: cannot open the store ({e}); set store.path to a writable file") from None
        try:
            self._conn.row_factory = sqlite3.Row
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self.journal_mode = mode
            self.migrations_applied = migrate(self._conn, where)
        except sqlite3.DatabaseError as e:
            self._conn.close()
            raise StoreError(f"{where}: cannot open the store ({e}); check store.path points at a deskwatch SQLite file") from None
        except BaseException:
            self._conn.close()
            raise
        self._lock = threading.RLock()
        self._depth = 0

    def close(self) -> None:
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; nested calls join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._depth = 0
                self._conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self._conn.execute("COMMIT")

    def backup(self, dest: str | Path) -> Path:
        """Copy the whole store to ``dest`` while others keep using it (SQLite online backup):
        a consistent snapshot, safe with the daemon running."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(dest)
        try:
            with self._lock:
                self._conn.backup(target)
        finally:
            target.close()
        return dest

    def transaction(self):
        """Group several store writes into one transaction (``with store.transaction(): ...``)."""
        return self._tx()

    def _q(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _next_version(self, conn: sqlite3.Connection) -> int:
        """Bump the change counter (inside the caller's transaction) and return the new value."""
        return conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'version' RETURNING value").fetchone()[0]

    def current_version(self) -> int:
        """The change counter: every ticket or decision write (and ack/snooze) raises it."""
        return self._q("SELECT value FROM meta WHERE key = 'version'")[0][0]
