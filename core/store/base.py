"""The connection, transactions and the change counter every store module builds on."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from deskwatch.core.store.dialect import POSTGRESQL, SQLITE
from deskwatch.core.store.migrations import StoreError, migrate
from deskwatch.core.model.timeutil import format_time, parse_time

BUSY_TIMEOUT_MS = 5000
POLL_INTERVAL = 0.1  # seconds between looks at the change counter, on SQLite


def ts(dt: datetime | None) -> str | None:
    """Times are stored as UTC text with a Z, so text order is time order."""
    return format_time(dt) if dt is not None else None


def from_ts(value: str | None) -> datetime | None:
    return parse_time(value) if value else None


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class _SqliteConnection(sqlite3.Connection):
    """sqlite3's connection, marked with its dialect for the modules that branch on it."""

    dialect = SQLITE


class StoreBase:
    """Owns the connection: one SQLite file (``path``) or one PostgreSQL database (``url``).

    Writes go through ``_tx()``. On SQLite that is ``BEGIN IMMEDIATE``, so a writer takes the
    lock up front instead of failing half-way, and WAL lets readers go on. On PostgreSQL it is
    one pinned pooled connection (core/store/pg.py). ``dialect`` tells the two apart for the few
    statements that differ (core/store/dialect.py).
    """

    def __init__(self, path: str | Path | None = None, *, url: str | None = None, busy_timeout_ms: int = BUSY_TIMEOUT_MS):
        if (path is None) == (url is None):
            raise ValueError("open a store with a path (SQLite) or a url (PostgreSQL), not both or neither")
        self._lock = threading.RLock()
        self._depth = 0
        self._listener: Any = None
        self.url = url
        if url is not None:
            self._open_postgresql(url)
        else:
            self._open_sqlite(Path(path), busy_timeout_ms)  # type: ignore[arg-type]

    def _open_postgresql(self, url: str) -> None:
        import psycopg

        from deskwatch.core.store.pg import PgConnection

        self.path = None
        self.dialect = POSTGRESQL
        self.journal_mode = None
        conn = PgConnection(url)
        self.where = conn.where
        try:
            self.migrations_applied = migrate(conn, self.where)
        except psycopg.Error as e:
            conn.close()
            raise StoreError(conn.explain(e)) from None
        except BaseException:
            conn.close()
            raise
        self._conn: Any = conn

    def _open_sqlite(self, path: Path, busy_timeout_ms: int) -> None:
        self.path = path
        self.dialect = SQLITE
        where = self.where = str(self.path)
        if where != ":memory:":
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(f"{where}: cannot create the folder for the store ({e.strerror}); set store.path to a writable location") from None
        # Autocommit mode: transactions are explicit (see _tx), never opened behind our back.
        try:
            self._conn = sqlite3.connect(where, isolation_level=None, timeout=busy_timeout_ms / 1000, check_same_thread=False,
                                         factory=_SqliteConnection)
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

    def close(self) -> None:
        # Under the lock: a console's watcher thread may be mid-query, and closing a sqlite3
        # connection under a running statement crashes the process.
        with self._lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _begin(self) -> None:
        if self.dialect.postgresql:
            self._conn.begin()
        else:
            self._conn.execute("BEGIN IMMEDIATE")

    def _end(self, commit: bool) -> None:
        if self.dialect.postgresql:
            self._conn.commit() if commit else self._conn.rollback()
        else:
            self._conn.execute("COMMIT" if commit else "ROLLBACK")

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        """One write transaction; nested calls join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._begin()
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._depth = 0
                self._end(False)
                raise
            self._depth = 0
            self._end(True)

    def backup(self, dest: str | Path) -> Path:
        """Copy the whole store to ``dest`` while others keep using it (SQLite online backup):
        a consistent snapshot, safe with the daemon running. A PostgreSQL store is backed up
        with pg_dump (docs/store.md)."""
        if self.dialect.postgresql:
            raise StoreError(f"{self.where}: a PostgreSQL store is backed up with pg_dump, not by deskwatch (see docs/store.md)")
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

    def _q(self, sql: str, params: Any = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def read(self, sql: str, params: Any = ()) -> list[Any]:
        """Rows of one read-only query (``?`` placeholders, portable SQL), each readable as
        ``r["col"]`` and ``r[0]``: for reports and training that read the store in bulk."""
        return self._q(sql, params)

    def _next_version(self, conn: Any) -> int:
        """Bump the change counter (inside the caller's transaction) and return the new value."""
        if self.dialect.postgresql:
            conn.changed = True  # a NOTIFY goes out with the commit (core/store/pg.py)
        return conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'version' RETURNING value").fetchone()[0]

    def current_version(self) -> int:
        """The change counter: every ticket or decision write (and ack/snooze) raises it."""
        return self._q("SELECT value FROM meta WHERE key = 'version'")[0][0]

    def wait_for_change(self, since: int, timeout: float) -> int:
        """Wait up to ``timeout`` seconds for the change counter to move past ``since``; return
        the counter (``since`` when nothing changed). PostgreSQL listens for the store's NOTIFY;
        SQLite polls the counter."""
        deadline = time.monotonic() + max(0.0, timeout)
        now = self.current_version()
        if now != since or timeout <= 0:
            return now
        if self.dialect.postgresql:
            if self._listener is None:
                self._listener = self._conn.listener()
            # Drain what arrived before we looked: the version read above already covers it.
            for _ in self._listener.notifies(timeout=0):
                pass
            now = self.current_version()
            while now == since and time.monotonic() < deadline:
                for _ in self._listener.notifies(timeout=max(0.0, deadline - time.monotonic()), stop_after=1):
                    pass
                now = self.current_version()
            return now
        while now == since and time.monotonic() < deadline:
            time.sleep(min(POLL_INTERVAL, max(0.0, deadline - time.monotonic())))
            now = self.current_version()
        return now
