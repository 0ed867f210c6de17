"""The PostgreSQL side of the store: a thin connection adapter over a psycopg 3 pool.

Store modules speak to a connection the way they speak to ``sqlite3``: ``execute(sql, params)``
with ``?`` (or ``:name``) placeholders, rows readable by column name and by index,
``rowcount``, ``executemany``. This module translates the placeholders (once per SQL string),
borrows a pooled connection per statement, and pins one for the length of a transaction.

psycopg is imported here only, and this module only when a store URL is given: a SQLite-only
installation never loads it.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Iterator, Sequence
from urllib.parse import unquote, urlsplit

from deskwatch.core.store.dialect import POSTGRESQL
from deskwatch.core.store.migrations import StoreError

CHANNEL = "deskwatch_changes"  # NOTIFY channel: the change counter moved
CONNECT_TIMEOUT = 10  # seconds, per connection attempt
POOL_MAX = 4
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def redact_url(url: str) -> str:
    """``url`` fit to show: the password replaced by ``***`` and the query (which may hold a
    password too) left out, e.g. ``postgresql://u:***@h:5432/db``."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "the store URL (unreadable)"
    user = unquote(parts.username) if parts.username else ""
    auth = f"{user}:***@" if parts.password is not None else (f"{user}@" if user else "")
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{auth}{host}{port}{parts.path}"


def secret_of(url: str) -> str | None:
    """The password written into ``url`` (to scrub it from driver messages), or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    found = [unquote(parts.password)] if parts.password else []
    found += [unquote(v) for k, _, v in (p.partition("=") for p in parts.query.split("&")) if k == "password" and v]
    return found[0] if found else None


@functools.lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """``sql`` with SQLite placeholders as psycopg's: ``?`` -> ``%s``, ``:name`` -> ``%(name)s``,
    a literal ``%`` doubled. Quoted literals and identifiers are copied as they are (a ``?``
    inside ``'...'`` is text), and ``::type`` casts are left alone."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:  # '' inside a literal is a quote
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i : j + 1].replace("%", "%%"))
            i = j + 1
            continue
        if c == "?":
            out.append("%s")
        elif c == "%":
            out.append("%%")
        elif c == ":" and (i == 0 or sql[i - 1] != ":") and i + 1 < n and sql[i + 1] != ":":
            m = _NAME.match(sql, i + 1)
            if m:
                out.append(f"%({m.group()})s")
                i = m.end()
                continue
            out.append(c)
        else:
            out.append(c)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type:
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(name, i)  # like sqlite3.Row: the first column of a repeated name

    class Row(tuple):
        """A result row: ``r["col"]`` and ``r[0]``, ``keys()``, ``dict(r)``, unpacking."""

        __slots__ = ()

        def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
            if isinstance(key, str):
                return tuple.__getitem__(self, index[key])
            return tuple.__getitem__(self, key)

        def keys(self) -> list[str]:
            return list(names)

    return Row


def row_factory(cursor: Any) -> Any:
    """psycopg row factory giving rows that read like ``sqlite3.Row``."""
    if cursor.description is None:
        return tuple
    return _row_class(tuple(d.name for d in cursor.description))


class Result:
    """What ``execute`` returns: the rows (already fetched) and the row count."""

    lastrowid = None  # use RETURNING: PostgreSQL has no rowid

    def __init__(self, rows: list, rowcount: int):
        self._rows = rows
        self._at = 0
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    def fetchall(self) -> list:
        rest, self._at = self._rows[self._at :], len(self._rows)
        return rest

    def __iter__(self) -> Iterator:
        return iter(self.fetchall())


class PgConnection:
    """A ``sqlite3.Connection``-like face over a psycopg pool (autocommit connections).

    Outside a transaction each statement borrows a connection; ``begin()`` pins one until
    ``commit()`` or ``rollback()``. The store serializes its own use with a lock, as it does
    for SQLite's single connection.
    """

    dialect = POSTGRESQL

    def __init__(self, url: str):
        import psycopg
        from psycopg_pool import ConnectionPool

        self.where = redact_url(url)
        self._url = url
        self._secret = secret_of(url)
        try:  # one plain attempt first: the pool would hide why it cannot connect
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT).close()
        except psycopg.Error as e:
            raise StoreError(self.explain(e)) from None
        self._pool = ConnectionPool(
            url, min_size=1, max_size=POOL_MAX, open=False, name="deskwatch-store",
            kwargs={"autocommit": True, "row_factory": row_factory, "connect_timeout": CONNECT_TIMEOUT},
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT * 2)
        except Exception as e:  # the server went away between the two attempts
            self._pool.close()
            raise StoreError(f"{self.where}: cannot open connections to the PostgreSQL server ({type(e).__name__}); "
                             "check that it is up and accepts connections, then try again") from None
        self._pinned: Any = None
        self.changed = False  # the change counter moved in the open transaction

    # -- statements ---------------------------------------------------------------------------

    def _run(self, conn: Any, sql: str, params: Any, many: bool) -> Result:
        with conn.cursor() as cur:
            if many:
                cur.executemany(translate(sql), params)
                return Result([], cur.rowcount)
            if params is None or (not isinstance(params, dict) and len(params) == 0):
                cur.execute(sql)  # no parameters: sent as written (several statements allowed)
            else:
                cur.execute(translate(sql), params)
            rows = cur.fetchall() if cur.description is not None else []
            return Result(rows, cur.rowcount)

    def execute(self, sql: str, params: Any = ()) -> Result:
        if not isinstance(params, (tuple, list, dict)) and params is not None:
            params = list(params)
        if self._pinned is not None:
            return self._run(self._pinned, sql, params, False)
        with self._pool.connection() as conn:
            return self._run(conn, sql, params, False)

    def executemany(self, sql: str, seq: Sequence[Any]) -> Result:
        seq = list(seq)
        if not seq:
            return Result([], 0)
        if self._pinned is not None:
            return self._run(self._pinned, sql, seq, True)
        with self._pool.connection() as conn:
            return self._run(conn, sql, seq, True)

    def stream(self, sql: str, params: Any = (), size: int = 2000) -> Iterator[Any]:
        """Rows of ``sql`` a batch at a time (a server-side cursor), inside the open transaction:
        for reading a whole table without holding it in memory."""
        if self._pinned is None:
            raise RuntimeError("stream() reads inside a transaction; open one with begin()")
        with self._pinned.cursor(name="deskwatch_stream") as cur:
            cur.itersize = size
            cur.execute(translate(sql), params) if params else cur.execute(sql)
            yield from cur

    def copy_in(self, table: str, columns: Sequence[str], rows: Any) -> int:
        """Load ``rows`` into ``table`` with COPY (inside the open transaction); returns how many."""
        if self._pinned is None:
            raise RuntimeError("copy_in() writes inside a transaction; open one with begin()")
        n = 0
        cols = ", ".join(columns)
        with self._pinned.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
                n += 1
        return n

    # -- transactions -------------------------------------------------------------------------

    def begin(self) -> None:
        conn = self._pool.getconn()
        try:
            conn.execute(b"BEGIN")
        except BaseException:
            self._pool.putconn(conn)
            raise
        self._pinned = conn
        self.changed = False

    def commit(self) -> None:
        conn, self._pinned = self._pinned, None
        try:
            if self.changed:
                # In the transaction: listeners hear of the change exactly when it is visible.
                conn.execute(f"NOTIFY {CHANNEL}".encode())
            conn.execute(b"COMMIT")
        finally:
            self.changed = False
            self._pool.putconn(conn)

    def rollback(self) -> None:
        conn, self._pinned = self._pinned, None
        self.changed = False
        if conn is None:
            return
        try:
            conn.execute(b"ROLLBACK")
        except Exception:  # a broken connection: the pool throws it away on return
            pass
        finally:
            self._pool.putconn(conn)

    @property
    def in_transaction(self) -> bool:
        return self._pinned is not None

    # -- notifications ------------------------------------------------------------------------

    def listener(self) -> Any:
        """A connection of its own (not pooled) listening on the change channel."""
        import psycopg

        conn = psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
        conn.execute(f"LISTEN {CHANNEL}".encode())
        return conn

    def close(self) -> None:
        if self._pinned is not None:
            self.rollback()
        self._pool.close()

    # -- errors -------------------------------------------------------------------------------

    def scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def explain(self, e: BaseException) -> str:
        """One line naming the store (password hidden), what went wrong and the fix."""
        return explain(self.where, e, self._secret)


def explain(where: str, e: BaseException, secret: str | None = None) -> str:
    """One line for a psycopg error at connect or migration time: the URL (password hidden),
    the server's reason and the fix."""
    import psycopg

    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    raw = lines[0] if lines else type(e).__name__  # the rest is a hint (or the SQL) in libpq's words
    if secret:
        raw = raw.replace(secret, "***")
    reason = re.sub(r"^(connection failed: )+", "", raw)
    reason = re.sub(r'^connection to server at "[^"]*"(?: \([^)]*\))?, port \d+ failed: ', "", reason)
    low = reason.lower()
    if isinstance(e, psycopg.errors.InsufficientPrivilege) or "permission denied" in low:
        return (f"{where}: the database user may not create or change deskwatch's tables ({reason}); "
                "grant it CREATE and USAGE on the schema (or use the database owner) in store.url")
    if "password authentication failed" in low or "no password supplied" in low or (
            "role" in low and "does not exist" in low) or "authentication" in low:
        return f"{where}: the server refused the credentials ({reason}); fix the user and password in store.url"
    if "no schema has been selected" in low or ("schema" in low and "does not exist" in low):
        return (f"{where}: no schema to create deskwatch's tables in ({reason}); create the schema named by search_path "
                "in store.url's options, or grant the user USAGE and CREATE on it")
    if "database" in low and "does not exist" in low:
        return f"{where}: the database does not exist ({reason}); create it (createdb NAME) or fix its name in store.url"
    if any(s in low for s in ("refused", "could not connect", "timeout", "could not translate host", "no route",
                              "name or service not known", "network is unreachable", "no such file")):
        return f"{where}: cannot reach the PostgreSQL server ({reason}); start the server or fix the host and port in store.url"
    return f"{where}: cannot use the PostgreSQL store ({reason}); check store.url"
