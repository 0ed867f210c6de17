"""Notifications to people: a durable queue with one row per idempotency key.

States: ``pending`` (sent once ``due_at`` has come: at once, after a backoff, or after the
quiet hours) -> ``sending`` (claimed) -> ``sent`` | ``failed`` (given up) | ``cancelled`` (the
ticket was acknowledged first). A row a crash left in ``sending`` becomes ``unknown`` at the
next start and is not sent again: a webhook cannot be asked whether it got a message, so a crash
between sending and recording is at-most-once (the chain's next step notifies again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from deskwatch.core.store.base import StoreBase, from_ts, ts
from deskwatch.core.store.fleet import skip_locked

CLAIM_SECONDS = 300.0  # a claim older than this is a sender that died mid-send
INTERRUPTED = "the daemon stopped while sending; not sent again to avoid a duplicate"


@dataclass(frozen=True)
class Notification:
    key: str
    ticket_id: str
    event: str
    channel: str  # "<name>[<i>]" in [notify.channels]
    title: str
    body: str
    state: str
    attempts: int
    error: str | None
    created_at: datetime
    due_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class ChannelHealth:
    name: str
    last_ok_at: datetime | None
    last_error: str | None  # redacted before it is stored
    last_error_at: datetime | None
    failures: int  # consecutive failures since the last success

    @property
    def failing(self) -> bool:
        return self.failures > 0


def _row(r) -> Notification:
    return Notification(r["key"], r["ticket_id"], r["event"], r["channel"], r["title"], r["body"], r["state"],
                        r["attempts"], r["error"], from_ts(r["created_at"]), from_ts(r["due_at"]), from_ts(r["sent_at"]))


class NotificationsMixin(StoreBase):
    def enqueue_notification(self, key: str, ticket_id: str, event: str, channel: str, title: str, body: str,
                             now: datetime, due_at: datetime) -> bool:
        """Queue a notification; False when one with ``key`` exists (in any state)."""
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO notifications (key, ticket_id, event, channel, title, body, state, created_at, due_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT(key) DO NOTHING",
                (key, ticket_id, event, channel, title, body, ts(now), ts(due_at)),
            )
            return cur.rowcount == 1

    def claim_notification(self, now: datetime, *, holder: str | None = None,
                           lease: float = CLAIM_SECONDS) -> Notification | None:
        """The oldest due pending notification, marked ``sending`` by ``holder`` (a daemon id)
        until ``now + lease`` (attempts counted). Chosen and marked in one transaction, skipping
        rows another daemon is claiming on PostgreSQL: two daemons never send the same one. A
        row whose claim ran out (its sender died mid-send) becomes ``unknown`` here, as at a
        restart: it may have reached people, so it is not sent again."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE notifications SET state = 'unknown', error = ? WHERE state = 'sending' AND claim_expires_at <= ?",
                (INTERRUPTED, ts(now)),
            )
            r = conn.execute(
                "SELECT * FROM notifications WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, rowid LIMIT 1"
                + skip_locked(self),
                (ts(now),),
            ).fetchone()
            if r is None:
                return None
            conn.execute("UPDATE notifications SET state = 'sending', attempts = attempts + 1, claimed_at = ?, "
                         "claimed_by = ?, claim_expires_at = ? WHERE key = ?",
                         (ts(now), holder, ts(now + timedelta(seconds=lease)), r["key"]))
        return _row({**dict(r), "state": "sending", "attempts": r["attempts"] + 1})

    def settle_interrupted_notifications(self, holder: str | None = None) -> int:
        """At daemon start: rows left in ``sending`` may have reached people; mark them
        ``unknown`` rather than send them twice. With ``holder`` (the starting daemon's id)
        only its own rows and unowned ones: other daemons' are being sent right now."""
        mine = " AND (claimed_by = ? OR claimed_by IS NULL)" if holder is not None else ""
        with self._tx() as conn:
            return conn.execute("UPDATE notifications SET state = 'unknown', error = ? WHERE state = 'sending'" + mine,
                                (INTERRUPTED, holder) if holder is not None else (INTERRUPTED,)).rowcount

    def _channel_outcome(self, conn, channel: str, now: datetime, error: str | None) -> None:
        if error is None:
            conn.execute("INSERT INTO notify_channels (name, last_ok_at, failures) VALUES (?, ?, 0) "
                         "ON CONFLICT(name) DO UPDATE SET last_ok_at = excluded.last_ok_at, failures = 0", (channel, ts(now)))
        else:
            conn.execute("INSERT INTO notify_channels (name, last_error, last_error_at, failures) VALUES (?, ?, ?, 1) "
                         "ON CONFLICT(name) DO UPDATE SET last_error = excluded.last_error, "
                         "last_error_at = excluded.last_error_at, failures = notify_channels.failures + 1", (channel, error, ts(now)))

    def notification_sent(self, key: str, channel: str, now: datetime) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE notifications SET state = 'sent', sent_at = ?, error = NULL WHERE key = ?", (ts(now), key))
            self._channel_outcome(conn, channel, now, None)

    def notification_failed(self, key: str, channel: str, error: str, now: datetime, retry_at: datetime | None) -> None:
        """Sending failed (``error`` already redacted): pending again at ``retry_at``, or given up."""
        with self._tx() as conn:
            conn.execute("UPDATE notifications SET state = ?, error = ?, due_at = COALESCE(?, due_at) WHERE key = ?",
                         ("pending" if retry_at else "failed", error, ts(retry_at), key))
            self._channel_outcome(conn, channel, now, error)

    def cancel_notifications(self, ticket_id: str, events: tuple[str, ...], why: str) -> int:
        """Drop the ticket's unsent notifications of ``events`` (someone acknowledged it); a
        row being sent right now is dropped too unless its sender records it as sent."""
        marks = ",".join("?" * len(events))
        with self._tx() as conn:
            return conn.execute(
                f"UPDATE notifications SET state = 'cancelled', error = ? WHERE ticket_id = ? AND state IN ('pending', 'sending') "
                f"AND event IN ({marks})", (why, ticket_id, *events),
            ).rowcount

    def notification(self, key: str) -> Notification | None:
        rows = self._q("SELECT * FROM notifications WHERE key = ?", (key,))
        return _row(rows[0]) if rows else None

    def notifications_for(self, ticket_id: str) -> list[Notification]:
        return [_row(r) for r in self._q("SELECT * FROM notifications WHERE ticket_id = ? ORDER BY created_at, rowid", (ticket_id,))]

    def notification_counts(self) -> dict[str, int]:
        """Rows per state, e.g. {"pending": 2, "sent": 10}."""
        return {r[0]: r[1] for r in self._q("SELECT state, COUNT(*) FROM notifications GROUP BY state")}

    def channel_health(self) -> list[ChannelHealth]:
        rows = self._q("SELECT * FROM notify_channels ORDER BY name")
        return [ChannelHealth(r["name"], from_ts(r["last_ok_at"]), r["last_error"], from_ts(r["last_error_at"]), r["failures"])
                for r in rows]
