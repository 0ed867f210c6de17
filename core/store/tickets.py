"""Tickets, messages and bookmarks: saving a page of a sync, reading tickets back, history, load."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Iterable, Sequence

from deskwatch.core import model
from deskwatch.core.engine.history import organization_key, requester_key
from deskwatch.core.model import CLOSED_STATUSES, StatusChange, Ticket
from deskwatch.core.store.base import StoreBase, dumps, ts
from deskwatch.core.store.migrations import search_text
from deskwatch.core.store.search import index_ticket


@dataclass(frozen=True)
class PageResult:
    """What ``save_page`` changed: the daemon decides ``new`` and ``changed`` tickets only."""

    new: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()  # same content, or older than what the store has

    @property
    def to_decide(self) -> tuple[str, ...]:
        return self.new + self.changed


@dataclass(frozen=True)
class LoadCounts:
    """Open (not solved/closed) tickets per assignee and per helpdesk group, and the agent
    deskwatch last routed to in each team (for round-robin)."""

    by_agent: dict[str, int] = field(default_factory=dict)
    by_team: dict[str, int] = field(default_factory=dict)
    last_assigned: dict[str, str] = field(default_factory=dict)


def content_hash(d: dict[str, Any]) -> str:
    """Hash of a ticket's JSON form: an identical ticket seen again is not a change."""
    return hashlib.sha256(dumps(d).encode()).hexdigest()


def merge_status_history(stored: Sequence[StatusChange], previous_status: str | None, t: Ticket) -> tuple[StatusChange, ...]:
    """The known transitions: what the store had, what the helpdesk reports, and the change we
    observed now (``previous_status`` -> ``t.status``, dated at ``t.updated_at``)."""
    seen = {(c.status, c.at): c for c in (*stored, *t.status_history)}
    merged = sorted(seen.values(), key=lambda c: c.at)
    if previous_status is not None and previous_status != t.status:
        last = merged[-1].status if merged else None
        if last != t.status:
            merged.append(StatusChange(t.status, t.updated_at))
            merged.sort(key=lambda c: c.at)
    return tuple(merged)


def _row(t: Ticket, d: dict[str, Any], chash: str) -> dict[str, Any]:
    """Columns of ``t``; ``d`` is its JSON form (ticket_to_dict), computed once by the caller."""
    data = {k: v for k, v in d.items() if k != "messages"}  # messages are normalized into their own table
    r, o = t.requester, t.organization
    return {
        "id": t.id,
        "source": t.source,
        "channel": t.channel,
        "subject": t.subject,
        "status": t.status,
        "priority": t.priority,
        "requester_key": requester_key(t),
        "organization_key": organization_key(t),
        "customer_name": r.name if r else None,
        "customer_email": r.email if r else None,
        "organization": o.name if o else None,
        "annual_value": o.annual_value if o else None,
        "assignee": t.assignee,
        "grp": t.group,
        "created_at": ts(t.created_at),
        "updated_at": ts(t.updated_at),
        "is_open": int(t.status not in CLOSED_STATUSES),
        "content_hash": chash,
        "data": dumps(data),
    }


_TICKET_COLS = (
    "id", "source", "channel", "subject", "status", "priority", "requester_key", "organization_key",
    "customer_name", "customer_email", "organization", "annual_value", "assignee", "grp",
    "created_at", "updated_at", "is_open", "content_hash", "data",
)
_UPSERT = (
    f"INSERT INTO tickets ({', '.join(_TICKET_COLS)}, deleted, version) "
    f"VALUES ({', '.join(':' + c for c in _TICKET_COLS)}, 0, :version) "
    f"ON CONFLICT(id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _TICKET_COLS if c != 'id')}, "
    "deleted = 0, version = excluded.version"
)


def ticket_from_row(data: str, messages: Iterable[sqlite3.Row]) -> Ticket:
    d = json.loads(data)
    d["messages"] = [
        {"author": m["author"], "author_id": m["author_id"], "created_at": m["created_at"], "public": bool(m["public"]), "body": m["body"]}
        for m in messages
    ]
    return model.ticket_from_dict(d)


_SEARCH_UPSERT = "INSERT INTO ticket_search (id, txt) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET txt = excluded.txt"
_MESSAGE_INSERT = "INSERT INTO messages (ticket_id, seq, author, author_id, created_at, public, body) VALUES (?, ?, ?, ?, ?, ?, ?)"


def _chunks(ids: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _stored(conn: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    """What the store holds of ``ids`` (what ``save_page`` compares a page against), by id."""
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(list(dict.fromkeys(ids))):
        for r in conn.execute("SELECT id, updated_at, content_hash, status, data, deleted FROM tickets "
                              f"WHERE id IN ({', '.join('?' * len(chunk))})", chunk).fetchall():
            found[r["id"]] = {k: r[k] for k in ("updated_at", "content_hash", "status", "data", "deleted")}
    return found


def _index(conn: Any, tickets: list[Ticket]) -> None:
    """``index_ticket`` for the tickets it has work for: solved or closed ones, and those with
    a document to drop (for any other it reads and does nothing, a round trip per ticket)."""
    indexed: set[str] = set()
    for chunk in _chunks(list(dict.fromkeys(t.id for t in tickets))):
        indexed.update(r[0] for r in conn.execute(f"SELECT id FROM similar_docs WHERE id IN ({', '.join('?' * len(chunk))})", chunk).fetchall())
    for t in tickets:
        if t.status in CLOSED_STATUSES or t.id in indexed:
            index_ticket(conn, t)
            indexed.discard(t.id)
            if t.status in CLOSED_STATUSES:
                indexed.add(t.id)


class TicketsMixin(StoreBase):
    def save_page(self, source: str, tickets: Iterable[Ticket], deleted_ids: Iterable[str] = (), bookmark: Any = None, *, now: datetime | None = None) -> PageResult:
        """Store one page of a sync: tickets, deletions and the bookmark in one transaction.

        Idempotent: a ticket identical to the stored one, or older (``updated_at``) than it, is
        left alone. A status different from the stored one is appended to the ticket's
        ``status_history``. A ``bookmark`` of None leaves the stored bookmark as it is. With
        ``now``, the source's last successful sync time is set too.
        """
        tickets = list(tickets)
        for t in tickets:
            if t.source != source:
                raise ValueError(f"ticket {t.id} comes from source {t.source!r}, not {source!r}; save it with its own source's page")
        new: list[str] = []
        changed: list[str] = []
        unchanged: list[str] = []
        gone: list[str] = []
        version: int | None = None
        # The page is read in one query and written in a few batched statements (executemany:
        # one round trip each on PostgreSQL), not statement by statement per ticket. A ticket
        # twice in a page: its second copy is compared with the first, as if saved one after the other.
        rows: dict[str, dict[str, Any]] = {}
        texts: dict[str, tuple[str, str]] = {}
        messages: dict[str, list[tuple[Any, ...]]] = {}
        to_index: list[Ticket] = []
        with self._tx() as conn:
            stored = _stored(conn, [t.id for t in tickets])
            for t in tickets:
                d = model.ticket_to_dict(t)
                chash = content_hash(d)
                old = stored.get(t.id)
                stored_history: Sequence[StatusChange] = ()
                previous_status = None
                if old is not None:
                    if ts(t.updated_at) < old["updated_at"] or (old["content_hash"] == chash and not old["deleted"]):
                        unchanged.append(t.id)
                        continue
                    stored_history = model.ticket_from_dict({**json.loads(old["data"]), "messages": []}).status_history
                    previous_status = old["status"]
                history = merge_status_history(stored_history, previous_status, t)
                if history != t.status_history:
                    d["status_history"] = [{"status": c.status, "at": ts(c.at)} for c in history]
                if version is None:
                    version = self._next_version(conn)
                row = _row(t, d, chash)
                rows.pop(t.id, None)  # a later copy is written after the others, as it came
                rows[t.id] = {**row, "version": version}
                stored[t.id] = {"updated_at": row["updated_at"], "content_hash": chash, "status": t.status, "data": row["data"], "deleted": 0}
                texts[t.id] = (t.id, search_text(row["subject"], row["customer_name"], row["customer_email"], row["organization"]))
                messages[t.id] = [(t.id, i, m.author, m.author_id, ts(m.created_at), int(m.public), m.body) for i, m in enumerate(t.messages)]
                # The similar-tickets index needs the observed history to date the solve.
                to_index.append(t if history == t.status_history else replace(t, status_history=history))
                (new if old is None else changed).append(t.id)
            if rows:
                conn.executemany(_UPSERT, list(rows.values()))
                conn.executemany(_SEARCH_UPSERT, list(texts.values()))
                for chunk in _chunks(list(rows)):
                    conn.execute(f"DELETE FROM messages WHERE ticket_id IN ({', '.join('?' * len(chunk))})", chunk)
                conn.executemany(_MESSAGE_INSERT, [m for ms in messages.values() for m in ms])
                _index(conn, to_index)
            for tid in deleted_ids:
                if conn.execute("SELECT 1 FROM tickets WHERE id = ? AND deleted = 0", (tid,)).fetchone():
                    if version is None:
                        version = self._next_version(conn)
                    conn.execute("UPDATE tickets SET deleted = 1, is_open = 0, version = ? WHERE id = ?", (version, tid))
                    gone.append(tid)
            if bookmark is not None:
                conn.execute(
                    "INSERT INTO bookmarks (source, value) VALUES (?, ?) ON CONFLICT(source) DO UPDATE SET value = excluded.value",
                    (source, dumps(bookmark)),
                )
            conn.execute(
                "INSERT INTO sources (name, tickets_synced, last_success_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET tickets_synced = sources.tickets_synced + excluded.tickets_synced, "
                "last_success_at = COALESCE(excluded.last_success_at, sources.last_success_at)",
                (source, len(new) + len(changed), ts(now)),
            )
        return PageResult(tuple(new), tuple(changed), tuple(gone), tuple(unchanged))

    def get_bookmark(self, source: str) -> Any:
        """The bookmark committed with the last page of ``source``, or None if never synced."""
        rows = self._q("SELECT value FROM bookmarks WHERE source = ?", (source,))
        return json.loads(rows[0][0]) if rows else None

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        """The stored ticket (with its observed status history), or None (unknown or deleted)."""
        found = self.get_tickets([ticket_id])
        return found[0] if found else None

    def get_tickets(self, ids: Sequence[str]) -> list[Ticket]:
        """The stored tickets among ``ids``, in the order given; unknown and deleted ids are skipped."""
        if not ids:
            return []
        out: dict[str, Ticket] = {}
        with self._lock:
            for i in range(0, len(ids), 500):
                chunk = list(ids[i : i + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(f"SELECT id, data FROM tickets WHERE deleted = 0 AND id IN ({marks})", chunk).fetchall()
                msgs: dict[str, list[sqlite3.Row]] = {}
                for m in self._conn.execute(f"SELECT * FROM messages WHERE ticket_id IN ({marks}) ORDER BY ticket_id, seq", chunk):
                    msgs.setdefault(m["ticket_id"], []).append(m)
                for r in rows:
                    out[r["id"]] = ticket_from_row(r["data"], msgs.get(r["id"], ()))
        return [out[i] for i in ids if i in out]

    def live_ticket_ids(self, source: str) -> list[str]:
        """Ids of the source's tickets not marked deleted (for reconciling hard deletes)."""
        return [r[0] for r in self._q("SELECT id FROM tickets WHERE source = ? AND deleted = 0 ORDER BY id", (source,))]

    def ticket_exists(self, ticket_id: str) -> bool:
        return bool(self._q("SELECT 1 FROM tickets WHERE id = ? AND deleted = 0", (ticket_id,)))

    def ticket_count(self, *, open_only: bool = False) -> int:
        sql = "SELECT COUNT(*) FROM tickets WHERE deleted = 0" + (" AND is_open = 1" if open_only else "")
        return self._q(sql)[0][0]

    def history(self, limit: int = 50) -> "StoreHistory":
        """A ``HistoryView`` over every ticket in the store (see ``StoreHistory``)."""
        return StoreHistory(self, limit)

    def load_counts(self) -> LoadCounts:
        """Current load for routing: open tickets per assignee and per group, last routed agent per team."""
        agents = self._q("SELECT assignee, COUNT(*) FROM tickets WHERE is_open = 1 AND assignee IS NOT NULL GROUP BY assignee")
        teams = self._q("SELECT grp, COUNT(*) FROM tickets WHERE is_open = 1 AND grp IS NOT NULL GROUP BY grp")
        last = self._q(
            "SELECT team, agent FROM decisions WHERE id IN "
            "(SELECT MAX(id) FROM decisions WHERE agent IS NOT NULL AND team IS NOT NULL GROUP BY team)"
        )
        return LoadCounts(
            by_agent={r[0]: r[1] for r in agents},
            by_team={r[0]: r[1] for r in teams},
            last_assigned={r[0]: r[1] for r in last},
        )


class StoreHistory:
    """``core.history.HistoryView`` over the store: earlier tickets of the same requester
    (e-mail) or organization, from any source, oldest first. Uses the requester and
    organization indexes; at most ``limit`` of the most recent related tickets are returned,
    so a huge account does not make every decision slow."""

    def __init__(self, store: TicketsMixin, limit: int = 50):
        self._store = store
        self._limit = limit
        self._parsed: dict[str, Ticket] = {}  # per view (one page of decisions): read each ticket once

    def related(self, ticket: Ticket, since: datetime | None = None) -> Sequence[Ticket]:
        keys = [(col, k) for col, k in (("requester_key", requester_key(ticket)), ("organization_key", organization_key(ticket))) if k]
        if not keys:
            return []
        where, args = "deleted = 0 AND id != ?", [ticket.id]
        if since is not None:
            where += " AND created_at >= ? AND created_at <= ?"
            args += [ts(since), ts(ticket.created_at)]
        # One index-ordered query per key, each stopping at the limit, merged here: a UNION
        # would make SQLite sort all of a large organization's tickets for every decision.
        found: dict[str, str] = {}
        for col, k in keys:
            for tid, created in self._store._q(
                f"SELECT id, created_at FROM tickets WHERE {col} = ? AND {where} ORDER BY created_at DESC LIMIT ?",
                [k, *args, self._limit],
            ):
                found[tid] = created
        newest = sorted(found.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[: self._limit]
        return self._tickets([tid for tid, _ in reversed(newest)])

    def recent(self, since: datetime, until: datetime, limit: int) -> Sequence[Ticket]:
        """Tickets of every customer created or updated from ``since`` to ``until``, latest
        activity first, at most ``limit``: one bounded range scan per time index."""
        found: dict[str, str] = {}
        for col in ("created_at", "updated_at"):
            for tid, at in self._store._q(
                f"SELECT id, {col} FROM tickets WHERE {col} >= ? AND {col} <= ? AND deleted = 0 ORDER BY {col} DESC LIMIT ?",
                [ts(since), ts(until), limit],
            ):
                if found.get(tid, "") < at:
                    found[tid] = at
        latest = sorted(found.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[:limit]
        return self._tickets([tid for tid, _ in latest])

    def _tickets(self, ids: list[str]) -> list[Ticket]:
        """``ids`` as tickets, in that order, each read from the store once per view."""
        missing = [i for i in ids if i not in self._parsed]
        for t in self._store.get_tickets(missing):
            self._parsed[t.id] = t
        return [self._parsed[i] for i in ids if i in self._parsed]
