"""The outbox: updates to write back to a helpdesk, each applied at most once.

States: ``pending`` -> ``sending`` (claimed) -> ``applied`` | ``failed``. A failure with a
``retry_at`` is claimed again once that time has passed; without one it is final. An item left in
``sending`` by a crash is claimed again after ``lease`` seconds (or at once after
``requeue_sending()`` at daemon start); this is safe because the connector looks for the
idempotency key on the ticket before applying. An item put back (``release``, or
``requeue_sending`` after a crash) gets its attempt back: only answers from the helpdesk count
toward giving up, never stops and restarts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from deskwatch.core import model
from deskwatch.core.model import TicketUpdate
from deskwatch.core.store.base import StoreBase, dumps, from_ts, ts
from deskwatch.core.store.fleet import skip_locked

OUTBOX_STATES = ("pending", "sending", "applied", "failed")
DEFAULT_LEASE = 300.0
# How deskwatch.core.connect.http words a body cut off on the way (decode_json).
AMBIGUOUS_ERROR = "is cut short or corrupted"


@dataclass(frozen=True)
class OutboxItem:
    key: str
    ticket_id: str
    source: str
    update: TicketUpdate
    state: str
    attempts: int
    error: str | None
    retry_at: datetime | None
    created_at: datetime
    applied_at: datetime | None
    result: Any
    # The ticket's values of the fields this update changes, before it (None: not recorded).
    basis: dict[str, Any] | None = None

    @property
    def summary(self) -> str:
        """For the console: "reached the helpdesk", "sending", "waiting", or "failed: why"."""
        if self.state == "applied":
            return "reached the helpdesk"
        if self.state == "failed":
            retry = f" (retry at {ts(self.retry_at)})" if self.retry_at else ""
            return f"failed: {self.error or 'unknown error'}{retry}"
        return "sending" if self.state == "sending" else "waiting to be sent"


def _item(r: Any) -> OutboxItem:
    return OutboxItem(
        key=r["key"], ticket_id=r["ticket_id"], source=r["source"],
        update=model.update_from_dict(json.loads(r["payload"])), state=r["state"], attempts=r["attempts"],
        error=r["error"], retry_at=from_ts(r["retry_at"]), created_at=from_ts(r["created_at"]),
        applied_at=from_ts(r["applied_at"]), result=json.loads(r["result"]) if r["result"] else None,
        basis=json.loads(r["basis"]) if r["basis"] else None,
    )


def _result_json(result: Any) -> str | None:
    if result is None:
        return None
    if hasattr(result, "outcome"):  # connector.UpdateResult, without importing the connector
        result = {"outcome": result.outcome, "message": getattr(result, "message", "")}
    return dumps(result)


class OutboxMixin(StoreBase):
    def enqueue(self, update: TicketUpdate, now: datetime, *, basis: dict[str, Any] | None = None) -> bool:
        """Queue ``update`` for its source. Returns False when an update with the same
        idempotency key is already queued (or applied): planning the same thing twice sends once.
        ``basis``: the ticket's values of the fields the update changes, as they were before it
        (priority, group, assignee, tags), so the helpdesk's echo of it can be recognized."""
        if not update.idempotency_key:
            raise ValueError(f"update for {update.ticket_id} has no idempotency_key; plan it with core.actions")
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO outbox (key, ticket_id, source, payload, state, created_at, basis) "
                "VALUES (?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT(key) DO NOTHING",
                (update.idempotency_key, update.ticket_id, update.source, dumps(model.update_to_dict(update)), ts(now),
                 dumps(basis) if basis is not None else None),
            )
            return cur.rowcount == 1

    def claim(self, source: str, limit: int, now: datetime, *, lease: float = DEFAULT_LEASE,
              holder: str | None = None) -> list[OutboxItem]:
        """Take up to ``limit`` items of ``source`` to send, oldest first, and mark them ``sending``
        by ``holder`` (a daemon id) until ``now + lease``.

        Claimable: pending items; failed items whose ``retry_at`` has come; items left in
        ``sending`` whose claim has run out (their sender crashed). The rows are chosen and
        marked in one transaction, and on PostgreSQL rows another daemon is claiming are skipped
        (``FOR UPDATE SKIP LOCKED``): two daemons never get the same item."""
        stale = ts(now - timedelta(seconds=lease))
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE source = ? AND ("
                " state = 'pending' AND (retry_at IS NULL OR retry_at <= ?)"
                " OR state = 'failed' AND retry_at IS NOT NULL AND retry_at <= ?"
                " OR state = 'sending' AND (claim_expires_at <= ? OR claim_expires_at IS NULL AND claimed_at <= ?)"
                ") ORDER BY created_at, rowid LIMIT ?" + skip_locked(self),
                (source, ts(now), ts(now), ts(now), stale, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1, claimed_at = ?, claimed_by = ?, "
                "claim_expires_at = ? WHERE key = ?",
                [(ts(now), holder, ts(now + timedelta(seconds=lease)), r["key"]) for r in rows],
            )
        return [_item({**dict(r), "state": "sending", "attempts": r["attempts"] + 1}) for r in rows]

    def requeue_sending(self, source: str | None = None, *, holder: str | None = None) -> int:
        """At daemon start: items a previous run left in ``sending`` go back to ``pending``,
        their interrupted attempt not counted. The connector reads the marker before sending
        again, which settles whether the interrupted send landed. With ``holder`` (the starting
        daemon's id) only its own items and unowned ones: other daemons' are in flight."""
        mine = " AND (claimed_by = ? OR claimed_by IS NULL)" if holder is not None else ""
        with self._tx() as conn:
            sql = ("UPDATE outbox SET state = 'pending', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END "
                   "WHERE state = 'sending'" + mine)
            args = (holder,) if holder is not None else ()
            cur = conn.execute(sql + (" AND source = ?" if source else ""), (*args, source) if source else args)
            # Given up on after an answer cut short (counted as a refusal before deskwatch told
            # the two apart): the update may well have landed, so its marker is read once more.
            conn.execute(
                "UPDATE outbox SET state = 'pending', attempts = 0, retry_at = NULL WHERE state = 'failed' "
                "AND retry_at IS NULL AND error LIKE ?" + (" AND source = ?" if source else ""),
                (f"%{AMBIGUOUS_ERROR}%", source) if source else (f"%{AMBIGUOUS_ERROR}%",),
            )
            return cur.rowcount

    def release(self, keys: list[str]) -> int:
        """Put claimed items that were not settled back to ``pending`` (the daemon is stopping,
        or the source was told to back off): claimable at once by the next drain, their
        attempt not counted. Items no longer ``sending`` are left alone."""
        if not keys:
            return 0
        with self._tx() as conn:
            cur = conn.executemany(
                "UPDATE outbox SET state = 'pending', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, retry_at = NULL "
                "WHERE key = ? AND state = 'sending'",
                [(k,) for k in keys],
            )
            return cur.rowcount

    def mark_applied(self, key: str, result: Any, now: datetime) -> None:
        """The helpdesk has the update (``result``: the connector's UpdateResult or a JSON value)."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE outbox SET state = 'applied', applied_at = ?, result = ?, error = NULL, retry_at = NULL WHERE key = ?",
                (ts(now), _result_json(result), key),
            )
            if cur.rowcount != 1:
                raise KeyError(f"no outbox item with key {key!r}")

    def mark_failed(self, key: str, error: str, retry_at: datetime | None = None) -> None:
        """Sending failed: ``retry_at`` makes it claimable again from then; None gives up."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE outbox SET state = 'failed', error = ?, retry_at = ? WHERE key = ?", (error, ts(retry_at), key)
            )
            if cur.rowcount != 1:
                raise KeyError(f"no outbox item with key {key!r}")

    def outbox_item(self, key: str) -> OutboxItem | None:
        rows = self._q("SELECT * FROM outbox WHERE key = ?", (key,))
        return _item(rows[0]) if rows else None

    def outbox_for(self, ticket_id: str) -> list[OutboxItem]:
        """The ticket's updates, oldest first, for the console's "reached the helpdesk / failed: why"."""
        return [_item(r) for r in self._q("SELECT * FROM outbox WHERE ticket_id = ? ORDER BY created_at, rowid", (ticket_id,))]

    def outbox_notes(self, starting: str = "") -> list[OutboxItem]:
        """Every queued or sent update with a private note starting with ``starting``, by
        ticket, oldest first (for counting handoff notes; see core/daemon/writeback.py)."""
        rows = self._q(
            f"SELECT * FROM outbox WHERE {self.dialect.json_text('payload', 'private_note')} LIKE ? ESCAPE '\\' "
            "ORDER BY ticket_id, created_at, rowid",
            (starting.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",),
        )
        return [i for i in map(_item, rows) if (i.update.private_note or "").startswith(starting)]

    def outbox_depth(self, source: str | None = None) -> int:
        """Items not yet applied and not given up on (pending, sending, failed with a retry time)."""
        sql = "SELECT COUNT(*) FROM outbox WHERE (state IN ('pending', 'sending') OR state = 'failed' AND retry_at IS NOT NULL)"
        return self._q(sql + (" AND source = ?" if source else ""), (source,) if source else ())[0][0]

    def outbox_failed(self, source: str | None = None) -> int:
        """Items given up on (failed without a retry time)."""
        sql = "SELECT COUNT(*) FROM outbox WHERE state = 'failed' AND retry_at IS NULL"
        return self._q(sql + (" AND source = ?" if source else ""), (source,) if source else ())[0][0]

    def outbox_retrying(self, source: str | None = None) -> int:
        """Items that failed and will be tried again (failed with a retry time)."""
        sql = "SELECT COUNT(*) FROM outbox WHERE state = 'failed' AND retry_at IS NOT NULL"
        return self._q(sql + (" AND source = ?" if source else ""), (source,) if source else ())[0][0]

    def outbox_failures(self, source: str | None = None, limit: int = 20) -> list[OutboxItem]:
        """Failed items, given up on or waiting to retry, newest first (at most ``limit``), so
        ``deskwatch status`` can show each one's reason."""
        sql = "SELECT * FROM outbox WHERE state = 'failed'" + (" AND source = ?" if source else "")
        args: tuple = (source,) if source else ()
        rows = self._q(sql + " ORDER BY created_at DESC, rowid DESC LIMIT ?", (*args, limit))
        return [_item(r) for r in rows]

    def requeue_failed(self, key: str) -> OutboxItem | None:
        """Put a failed item back to ``pending`` with its attempts reset, claimable at once (a
        person asked for it to be sent again, usually after fixing its cause). Returns the item
        as it was, or None when ``key`` is not a failed item. Safe against a double send: the
        connector looks for the idempotency key on the ticket before applying."""
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM outbox WHERE key = ? AND state = 'failed'", (key,)).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE outbox SET state = 'pending', attempts = 0, retry_at = NULL WHERE key = ? AND state = 'failed'", (key,))
            return _item(row)
