"""Versioned schema migrations, applied in order and recorded by name.

Follows ``llm/migrations.py``: each migration is a function registered with ``@migration``;
the names already applied are kept in ``_migrations``. Never edit a migration that has shipped;
add a new one. Opening a store whose ``_migrations`` names a step this code does not know means
a newer deskwatch wrote it, and we refuse rather than guess.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from typing import Any, Callable

from deskwatch.core.store.dialect import Dialect, dialect_of

Migration = Callable[[Any], None]  # called with the store's connection (sqlite3 or core/store/pg.py)
MIGRATIONS: list[tuple[str, Migration]] = []


class StoreError(RuntimeError):
    """The store cannot be opened or used; the message names the file and the fix."""


class StoreVersionError(StoreError):
    """The store was written by a newer deskwatch than this one."""


def migration(fn: Migration) -> Migration:
    """Register ``fn`` as the next migration, under its function name."""
    if any(name == fn.__name__ for name, _ in MIGRATIONS):
        raise ValueError(f"migration {fn.__name__} registered twice")
    MIGRATIONS.append((fn.__name__, fn))
    return fn


def _dialect(conn: Any) -> Dialect:
    return dialect_of(conn)


def applied(conn: Any) -> list[str]:
    if _dialect(conn).postgresql:
        # rowid: an explicit sequence column, so both stores list the steps in the order applied.
        conn.execute('CREATE TABLE IF NOT EXISTS _migrations (name TEXT COLLATE "C" PRIMARY KEY, applied_at TEXT NOT NULL, '
                     "rowid BIGINT GENERATED ALWAYS AS IDENTITY)")
    else:
        conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    return [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]


def run_script(conn: Any, sql: str) -> None:
    """Run several statements inside the caller's transaction (``executescript`` would commit).
    ``sql`` is written for SQLite; on PostgreSQL its types are translated (dialect.pg_ddl)."""
    dialect = _dialect(conn)
    if dialect.postgresql:
        conn.execute(dialect.ddl(sql))  # one round trip; no parameters, so several statements are allowed
        return
    buf = ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            conn.execute(buf)
            buf = ""
    if buf.strip():
        raise ValueError(f"incomplete SQL statement in migration: {buf.strip()[:60]}")


# Taken for the length of each migrating transaction on PostgreSQL, so two daemons starting
# together do not both migrate: the second waits, then finds the step done. Keyed by schema.
_PG_LOCK = "SELECT pg_advisory_xact_lock(hashtext('deskwatch-migrate:' || current_schema()))"


def _begin(conn: Any) -> None:
    if _dialect(conn).postgresql:
        conn.begin()
        conn.execute(_PG_LOCK)
    else:
        conn.execute("BEGIN IMMEDIATE")


def _end(conn: Any, commit: bool) -> None:
    if _dialect(conn).postgresql:
        conn.commit() if commit else conn.rollback()
    else:
        conn.execute("COMMIT" if commit else "ROLLBACK")


def migrate(conn: Any, where: str = "the store", migrations: list[tuple[str, Migration]] | None = None) -> list[str]:
    """Apply the migrations ``conn`` has not seen yet, each in its own transaction.

    Returns the names applied now. Raises StoreVersionError when the store knows migrations
    this code does not (it was written by a newer deskwatch).
    """
    steps = MIGRATIONS if migrations is None else migrations
    known = {name for name, _ in steps}
    if _dialect(conn).postgresql:
        _begin(conn)  # CREATE TABLE IF NOT EXISTS is not safe against a concurrent creator without the lock
        try:
            done = applied(conn)
        except BaseException:
            _end(conn, False)
            raise
        _end(conn, True)
    else:
        done = applied(conn)
    unknown = [n for n in done if n not in known]
    if unknown:
        raise StoreVersionError(
            f"{where} was written by a newer deskwatch (it has schema steps {', '.join(unknown)} that this "
            "version does not know); upgrade deskwatch, or point store.path at another file"
        )
    ran = []
    for name, fn in steps:
        if name in done:
            continue
        _begin(conn)
        try:
            # Another process may have migrated while we waited for the write lock.
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                _end(conn, True)
                continue
            fn(conn)
            conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                         (name, datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")))
            _end(conn, True)
        except BaseException:
            _end(conn, False)
            raise
        ran.append(name)
    return ran


@migration
def m001_initial(conn: Any) -> None:
    run_script(
        conn,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT INTO meta (key, value) VALUES ('version', 0);

        -- One row per ticket: indexed columns of the ticket, of its latest decision and the
        -- full ticket JSON (messages live in their own table). The queue reads this table only.
        CREATE TABLE tickets (
            id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            channel TEXT NOT NULL,
            subject TEXT NOT NULL,
            status TEXT NOT NULL,
            priority TEXT,
            requester_key TEXT,
            organization_key TEXT,
            customer_name TEXT,
            customer_email TEXT,
            organization TEXT,
            annual_value REAL,
            assignee TEXT,
            grp TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            is_open INTEGER NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0,
            content_hash TEXT NOT NULL,
            data TEXT NOT NULL,
            -- latest decision (denormalized for the queue)
            decided INTEGER NOT NULL DEFAULT 0,
            score REAL NOT NULL DEFAULT 0,
            recommendation TEXT,
            rec_rank INTEGER NOT NULL DEFAULT -1,
            tier TEXT,
            team TEXT,
            confidence REAL,
            needs_review INTEGER NOT NULL DEFAULT 0,
            sla_state TEXT,
            sla_due_at TEXT,
            sla_due_sort TEXT NOT NULL DEFAULT '9999',
            version INTEGER NOT NULL
        );
        CREATE INDEX tickets_queue ON tickets (is_open, rec_rank DESC, score DESC, sla_due_sort, id);
        CREATE INDEX tickets_requester ON tickets (requester_key, created_at);
        CREATE INDEX tickets_organization ON tickets (organization_key, created_at);
        CREATE INDEX tickets_version ON tickets (version);
        CREATE INDEX tickets_source ON tickets (source, is_open);
        CREATE INDEX tickets_assignee ON tickets (is_open, assignee);
        CREATE INDEX tickets_group ON tickets (is_open, grp);

        CREATE TABLE messages (
            ticket_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            author TEXT NOT NULL,
            author_id TEXT,
            created_at TEXT NOT NULL,
            public INTEGER NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (ticket_id, seq)
        ) WITHOUT ROWID;

        CREATE TABLE bookmarks (source TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id TEXT NOT NULL,
            decided_at TEXT NOT NULL,
            actor TEXT NOT NULL,
            score REAL NOT NULL,
            recommendation TEXT NOT NULL,
            tier TEXT NOT NULL,
            team TEXT,
            agent TEXT,
            confidence REAL NOT NULL,
            needs_review INTEGER NOT NULL,
            sla_state TEXT,
            sla_due_at TEXT,
            data TEXT NOT NULL
        );
        CREATE INDEX decisions_ticket ON decisions (ticket_id, id);
        CREATE INDEX decisions_team_agent ON decisions (team, id) WHERE agent IS NOT NULL;

        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            at TEXT NOT NULL,
            data TEXT NOT NULL
        );
        CREATE INDEX audit_ticket ON audit (ticket_id, id);

        CREATE TABLE outbox (
            key TEXT PRIMARY KEY,
            ticket_id TEXT NOT NULL,
            source TEXT NOT NULL,
            payload TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'applied', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            retry_at TEXT,
            claimed_at TEXT,
            created_at TEXT NOT NULL,
            applied_at TEXT,
            result TEXT
        );
        CREATE INDEX outbox_claim ON outbox (source, state, retry_at);
        CREATE INDEX outbox_ticket ON outbox (ticket_id, created_at);

        CREATE TABLE escalations (
            ticket_id TEXT PRIMARY KEY,
            started_at TEXT,
            acknowledged_at TEXT,
            acknowledged_by TEXT,
            expires_at TEXT,
            snoozed_until TEXT,
            snoozed_by TEXT
        );

        CREATE TABLE sources (
            name TEXT PRIMARY KEY,
            last_success_at TEXT,
            last_error TEXT,
            last_error_at TEXT,
            tickets_synced INTEGER NOT NULL DEFAULT 0,
            rate_limit TEXT,
            rate_limit_at TEXT
        );

        CREATE TABLE heartbeat (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            pid INTEGER NOT NULL,
            at TEXT NOT NULL,
            interval REAL NOT NULL
        );
        """
    )
    if _dialect(conn).postgresql:
        run_script(
            conn,
            """
            CREATE FUNCTION deskwatch_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
            CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
                FOR EACH ROW EXECUTE FUNCTION deskwatch_audit_append_only();
            CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
                FOR EACH STATEMENT EXECUTE FUNCTION deskwatch_audit_append_only();
            -- SQLite orders the outbox by its implicit rowid; PostgreSQL gets an explicit one.
            ALTER TABLE outbox ADD COLUMN rowid BIGINT GENERATED BY DEFAULT AS IDENTITY;
            """,
        )
    else:
        run_script(
            conn,
            """
            CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
            CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
            """,
        )


def search_text(*parts: str | None) -> str:
    """What the queue's text search looks in: lower-cased (Unicode-aware, unlike SQLite's lower())."""
    return " ".join(p for p in parts if p).casefold()


@migration
def m002_ticket_search(conn: Any) -> None:
    # A narrow table of searchable text: a substring search scans this instead of the wide
    # ticket rows (about 10x faster at 100,000 tickets).
    run_script(conn, "CREATE TABLE ticket_search (id TEXT PRIMARY KEY, txt TEXT NOT NULL) WITHOUT ROWID;")
    rows = conn.execute("SELECT id, subject, customer_name, customer_email, organization FROM tickets").fetchall()
    conn.executemany("INSERT INTO ticket_search (id, txt) VALUES (?, ?)", [(r[0], search_text(*r[1:])) for r in rows])


@migration
def m003_source_waiting(conn: Any) -> None:
    # The request a source is waiting on, so `deskwatch status` can say "waiting on GET
    # /api/v2/... for 40 s" while a helpdesk hangs instead of showing nothing.
    conn.execute("ALTER TABLE sources ADD COLUMN waiting_on TEXT")
    conn.execute("ALTER TABLE sources ADD COLUMN waiting_since TEXT")


@migration
def m004_write_back_basis(conn: Any) -> None:
    # outbox.basis: the ticket's values of the fields an update changes, as they were before it,
    # so the echo of deskwatch's own write-back can be told from a person's change.
    # decisions.basis: a fingerprint of the ticket's facts (deskwatch's own writes left out) the
    # decision was made from, so a re-sync that brings nothing new does not decide afresh.
    conn.execute("ALTER TABLE outbox ADD COLUMN basis TEXT")
    conn.execute("ALTER TABLE decisions ADD COLUMN basis TEXT")


@migration
def m005_similar_search(conn: Any) -> None:
    # Full-text index of solved/closed tickets for "similar solved tickets" (core/store/search.py).
    # The FTS rowid is similar_docs.doc, an INTEGER PRIMARY KEY, which VACUUM never renumbers
    # (the tickets table's implicit rowid it may). Text is stemmed before it is stored
    # (search.words), so the vocabulary table gives each query word's ticket count.
    if _dialect(conn).postgresql:
        # PostgreSQL's own full-text search: the stemmed text (search.words) as a tsvector
        # (subject weight A, body B) under a GIN index; similar_vocab counts the tickets that
        # hold each word, kept in step by search.index_ticket, as fts5vocab does on SQLite.
        run_script(
            conn,
            """
            CREATE TABLE similar_docs (""" + _SIMILAR_DOCS + """,
                fts tsvector NOT NULL
            );
            CREATE INDEX similar_docs_fts ON similar_docs USING GIN (fts);
            CREATE TABLE similar_vocab (term TEXT PRIMARY KEY, doc INTEGER NOT NULL);
            """
        )
    else:
        _m005_sqlite(conn)
    _m005_backfill(conn)


# The columns both databases keep for a solved ticket in the similar-case index.
_SIMILAR_DOCS = """
    doc INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_key TEXT,
    categories TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    solved_at TEXT NOT NULL,
    resolution TEXT NOT NULL DEFAULT ''"""


def _m005_sqlite(conn: Any) -> None:
    run_script(
        conn,
        """
        CREATE TABLE similar_docs (""" + _SIMILAR_DOCS + """
        );
        CREATE VIRTUAL TABLE similar_fts USING fts5(subject, body, tokenize = 'unicode61 remove_diacritics 2');
        CREATE VIRTUAL TABLE similar_vocab USING fts5vocab(similar_fts, 'row');
        INSERT INTO similar_fts (similar_fts, rank) VALUES ('rank', 'bm25(2.0, 1.0)');
        """
    )


def _m005_backfill(conn: Any) -> None:
    import json

    from deskwatch.core.model import ticket_from_dict
    from deskwatch.core.store.search import index_all

    last = ""
    while True:  # in chunks, so a large store is not read into memory at once
        rows = conn.execute(
            "SELECT id, data FROM tickets WHERE deleted = 0 AND is_open = 0 AND id > ? ORDER BY id LIMIT 500", (last,)
        ).fetchall()
        if not rows:
            break
        ids = [r[0] for r in rows]
        marks = ",".join("?" * len(ids))
        msgs: dict[str, list[dict]] = {}
        for m in conn.execute(
            f"SELECT ticket_id, author, author_id, created_at, public, body FROM messages WHERE ticket_id IN ({marks}) "
            "ORDER BY ticket_id, seq", ids,
        ):
            msgs.setdefault(m[0], []).append(
                {"author": m[1], "author_id": m[2], "created_at": m[3], "public": bool(m[4]), "body": m[5]}
            )
        index_all(conn, (ticket_from_dict({**json.loads(data), "messages": msgs.get(tid, [])}) for tid, data in rows))
        last = ids[-1]


@migration
def m006_tickets_by_time(conn: Any) -> None:
    # Cross-ticket incidents read the tickets of every customer created or updated in a short
    # window (StoreHistory.recent): two range scans instead of reading the whole table.
    conn.execute("CREATE INDEX tickets_created ON tickets (created_at)")
    conn.execute("CREATE INDEX tickets_updated ON tickets (updated_at)")


@migration
def m007_models(conn: Any) -> None:
    # Learned model versions: what each was trained on, its test figures, and which one of a
    # kind is active. The fitted arrays are a numpy archive (no pickle), read back by
    # deskwatch.core.learn.textmodel.
    run_script(
        conn,
        """
        CREATE TABLE models (
            version INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            created_at TEXT NOT NULL,
            trained_on TEXT NOT NULL,
            figures TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 0,
            activated_at TEXT,
            data BLOB NOT NULL
        );
        CREATE INDEX models_kind ON models (kind, active);
        CREATE TABLE model_activations (
            kind TEXT NOT NULL,
            version INTEGER NOT NULL,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            how TEXT NOT NULL  -- activate | rollback
        );
        """,
    )
    if _dialect(conn).postgresql:  # rollback reads activations in the order made (SQLite: rowid)
        conn.execute("ALTER TABLE model_activations ADD COLUMN rowid BIGINT GENERATED BY DEFAULT AS IDENTITY")


@migration
def m008_notifications(conn: Any) -> None:
    # Notifications to people (core/daemon/notify*.py): one row per (ticket, event, channel,
    # occurrence) key, so planning the same page twice sends it once. Rows name the channel,
    # never its URL (URLs hold tokens). notify_channels keeps each channel's last outcome for
    # `deskwatch status`.
    run_script(
        conn,
        """
        CREATE TABLE notifications (
            key TEXT PRIMARY KEY,
            ticket_id TEXT NOT NULL,
            event TEXT NOT NULL,
            channel TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            created_at TEXT NOT NULL,
            due_at TEXT NOT NULL,
            claimed_at TEXT,
            sent_at TEXT
        );
        CREATE INDEX notifications_due ON notifications (state, due_at);
        CREATE INDEX notifications_ticket ON notifications (ticket_id);
        CREATE TABLE notify_channels (
            name TEXT PRIMARY KEY,
            last_ok_at TEXT,
            last_error TEXT,
            last_error_at TEXT,
            failures INTEGER NOT NULL DEFAULT 0
        );
        """
    )
    if _dialect(conn).postgresql:  # notifications are listed in the order queued (SQLite: rowid)
        conn.execute("ALTER TABLE notifications ADD COLUMN rowid BIGINT GENERATED BY DEFAULT AS IDENTITY")


@migration
def m009_queue_by_team(conn: Any) -> None:
    # The console's team filter (queue.py: LOWER(COALESCE(team, grp)) = LOWER(?)) read in queue
    # order off one index. PostgreSQL otherwise misjudges the expression's selectivity and scans
    # the whole table (140 ms at 100,000 tickets, 3 ms with the index).
    conn.execute("CREATE INDEX tickets_team_queue ON tickets "
                 "(is_open, LOWER(COALESCE(team, grp)), rec_rank DESC, score DESC, sla_due_sort, id)")


@migration
def m010_fleet(conn: Any) -> None:
    # Several daemons on one store (core/store/fleet.py, docs/several-daemons.md): each daemon's
    # row and heartbeat, one lease row per source (who polls it, until when), the history of
    # lease holds (to show no two daemons polled a source at once), and who claimed an outbox
    # item, a notification or a chain timer, until when. Natural keys only, portable types.
    run_script(
        conn,
        """
        CREATE TABLE daemons (
            id TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            version TEXT NOT NULL,
            started_at TEXT NOT NULL,
            heartbeat_at TEXT NOT NULL,
            beat_seconds DOUBLE PRECISION NOT NULL,
            stopped_at TEXT
        );
        CREATE TABLE source_leases (
            source TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            taken_at TEXT NOT NULL,
            renewed_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE TABLE lease_holds (
            source TEXT NOT NULL,
            holder TEXT NOT NULL,
            taken_at TEXT NOT NULL,
            renewed_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            ended_at TEXT,
            how TEXT,
            PRIMARY KEY (source, taken_at, holder)
        );
        ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
        ALTER TABLE outbox ADD COLUMN claim_expires_at TEXT;
        ALTER TABLE notifications ADD COLUMN claimed_by TEXT;
        ALTER TABLE notifications ADD COLUMN claim_expires_at TEXT;
        ALTER TABLE escalations ADD COLUMN timer_fired TEXT;
        ALTER TABLE escalations ADD COLUMN claimed_by TEXT;
        ALTER TABLE escalations ADD COLUMN claim_expires_at TEXT;
        """
    )
