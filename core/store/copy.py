"""Moving an installation from its SQLite file to PostgreSQL (``deskwatch store copy``).

Every table of the source is copied (tickets, messages, decisions, audit, bookmarks, sync status,
outbox, timers, models, notifications, and any table a later migration adds), in one transaction
on the target: it ends with every row there or none. Before committing, each table's rows are
counted and checksummed on both sides; a difference rolls the copy back.

The source is read inside one read transaction, so a daemon still writing to it cannot tear the
copy (it is still best to stop it first: what it writes afterwards stays behind).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from deskwatch.core.store.migrations import StoreError

SKIPPED = {"_migrations", "sqlite_sequence"}  # the target's own migrations; SQLite bookkeeping
Progress = Callable[[str, int, int], None]  # (table, rows done, rows in the table)
_MOD = 1 << 128


class CopyError(StoreError):
    """The copy cannot start (a non-empty target, a schema mismatch) or did not verify."""


@dataclass(frozen=True)
class TableCopy:
    """One table's rows and checksum on each side."""

    table: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_checksum == self.target_checksum

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "source_rows": self.source_rows, "target_rows": self.target_rows,
                "source_checksum": self.source_checksum, "target_checksum": self.target_checksum, "ok": self.ok}


def _canonical(row: Iterable[Any]) -> bytes:
    return json.dumps([bytes(v).hex() if isinstance(v, (bytes, memoryview)) else v for v in row],
                      separators=(",", ":"), ensure_ascii=False).encode()


def checksum(rows: Iterable[Iterable[Any]]) -> tuple[int, str]:
    """(row count, checksum) of ``rows``: the sum of each row's SHA-256 (first 128 bits), so the
    order rows come back in does not matter, but any changed, lost or doubled row does."""
    n, total = 0, 0
    for r in rows:
        n += 1
        total = (total + int.from_bytes(hashlib.sha256(_canonical(r)).digest()[:16], "big")) % _MOD
    return n, f"{total:032x}"


def source_tables(conn: Any) -> list[str]:
    """The SQLite store's tables to copy, in creation order: not its migrations list, not
    SQLite's bookkeeping, not full-text tables (the target has its own index; see similar_docs)."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid").fetchall()
    virtual = [r[0] for r in rows if (r[1] or "").upper().startswith("CREATE VIRTUAL")]
    return [r[0] for r in rows if r[0] not in SKIPPED and r[0] not in virtual and not any(r[0].startswith(v + "_") for v in virtual)]


def _sqlite_columns(conn: Any, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")').fetchall()]


def _pg_columns(conn: Any, table: str) -> dict[str, bool]:
    """column -> is an identity, for ``table`` in the target's schema."""
    rows = conn.execute("SELECT column_name, is_identity FROM information_schema.columns "
                        "WHERE table_schema = current_schema() AND table_name = ?", (table,)).fetchall()
    return {r[0]: r[1] == "YES" for r in rows}


def holding_rows(target: Any) -> list[str]:
    """The target's tables that already hold deskwatch data (meta counts once its counter moved)."""
    busy = []
    for (table,) in target.read("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                                "AND table_type = 'BASE TABLE' ORDER BY table_name"):
        if table == "_migrations":
            continue
        if table == "meta":
            if target.read("SELECT 1 FROM meta WHERE NOT (key = 'version' AND value = 0) LIMIT 1"):
                busy.append(table)
        elif target.read(f'SELECT 1 FROM "{table}" LIMIT 1'):
            busy.append(table)
    return busy


def _counted(rows: Iterable[Any], table: str, total: int, progress: Progress | None) -> Iterator[Any]:
    done = 0
    for r in rows:
        yield r
        done += 1
        if progress is not None and done % 2000 == 0:
            progress(table, done, total)
    if progress is not None:
        progress(table, done, total)


def copy_store(source: Any, target: Any, progress: Progress | None = None) -> list[TableCopy]:
    """Copy every table of the SQLite store ``source`` into the empty PostgreSQL store ``target``
    (both opened, so both migrated), verify counts and checksums, and commit; on any
    difference nothing is committed and CopyError says which tables differ."""
    from deskwatch.core.store.search import _PG_TSVECTOR  # the one spelling of the index's tsvector

    if source.dialect.postgresql or not target.dialect.postgresql:
        raise CopyError("store copy reads a SQLite store and writes a PostgreSQL one")
    busy = holding_rows(target)
    if busy:
        raise CopyError(f"{target.where} already holds deskwatch data (in {', '.join(busy)}); copy into an empty "
                        "database or schema, so nothing is mixed or doubled")
    src, dst = source._conn, target._conn
    results: list[TableCopy] = []
    with source._lock, target._lock:
        src.execute("BEGIN")  # one consistent snapshot of the source
        try:
            dst.begin()
            try:
                for table in source_tables(src):
                    results.append(_copy_table(src, dst, table, target.where, progress, _PG_TSVECTOR))
                if any(t.table == "similar_docs" for t in results):
                    dst.execute("INSERT INTO similar_vocab (term, doc) SELECT w, COUNT(*) FROM similar_docs, "
                                "unnest(tsvector_to_array(fts)) AS w GROUP BY w")
                bad = [t.table for t in results if not t.ok]
                if bad:
                    raise CopyError(f"the copy to {target.where} did not verify (counts or checksums differ in "
                                    f"{', '.join(bad)}); nothing was committed; run the copy again and report it if it repeats")
                dst.commit()
            except BaseException:
                dst.rollback()
                raise
        finally:
            src.execute("COMMIT")
    return results


def _copy_table(src: Any, dst: Any, table: str, where: str, progress: Progress | None, tsvector: str) -> TableCopy:
    cols = _sqlite_columns(src, table)
    target_cols = _pg_columns(dst, table)
    missing = [c for c in cols if c not in target_cols]
    if not target_cols or missing:
        what = f"table {table}" if not target_cols else f"columns {', '.join(missing)} of {table}"
        raise CopyError(f"{where} has no {what}; open it with the same deskwatch version as the source, then copy again")
    col_list = ", ".join(f'"{c}"' for c in cols)
    total = src.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
    # Tables SQLite orders by its implicit rowid have an explicit one on PostgreSQL: keep the order.
    keep_rowid = "rowid" in target_cols and "rowid" not in cols
    select = f'SELECT {col_list}{", rowid" if keep_rowid else ""} FROM "{table}"' + (" ORDER BY rowid" if keep_rowid else "")
    if table == "meta":
        dst.execute("DELETE FROM meta")  # the fresh target's counter, replaced by the source's
    rows = _counted(src.execute(select), table, total, progress)
    if table == "similar_docs":
        # The full-text words live in SQLite's FTS table; the target keeps them as a tsvector.
        text = {r[0]: (r[1], r[2]) for r in src.execute("SELECT rowid, subject, body FROM similar_fts")}
        marks = ", ".join("?" * len(cols))
        dst.executemany(f"INSERT INTO similar_docs ({col_list}, fts) VALUES ({marks}, {tsvector})",
                        [(*r, *text.get(r[cols.index("doc")], ("", ""))) for r in rows])
    else:
        dst.copy_in(f'"{table}"', [f'"{c}"' for c in cols] + (["rowid"] if keep_rowid else []), rows)
    for col, identity in target_cols.items():
        if identity:  # the next number handed out follows the copied ones
            dst.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{col}'), COALESCE(MAX(\"{col}\"), 0) + 1, false) "
                        f'FROM "{table}"')
    n_src, sum_src = checksum(src.execute(f'SELECT {col_list} FROM "{table}"'))
    n_dst, sum_dst = checksum(dst.stream(f'SELECT {col_list} FROM "{table}"'))
    return TableCopy(table, n_src, n_dst, sum_src, sum_dst)
