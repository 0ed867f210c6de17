"""Acknowledgment and progressive-escalation timers: rows, so they survive a restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from deskwatch.core.store.base import StoreBase, from_ts, ts

TIMER_CLAIM_SECONDS = 60.0  # deciding one ticket takes milliseconds; a claim this old is a dead claimer's


@dataclass(frozen=True)
class AckState:
    ticket_id: str
    started_at: datetime | None  # when the escalation chain started
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    expires_at: datetime | None  # the acknowledgment lapses then (None: it does not)
    snoozed_until: datetime | None = None

    def acknowledged(self, now: datetime) -> bool:
        return self.acknowledged_at is not None and (self.expires_at is None or self.expires_at > now)

    def snoozed(self, now: datetime) -> bool:
        return self.snoozed_until is not None and self.snoozed_until > now


def _state(r) -> AckState:
    return AckState(
        r["ticket_id"], from_ts(r["started_at"]), from_ts(r["acknowledged_at"]), r["acknowledged_by"],
        from_ts(r["expires_at"]), from_ts(r["snoozed_until"]),
    )


class EscalationsMixin(StoreBase):
    def _touch(self, conn, ticket_id: str) -> None:
        # The queue shows acknowledgment and snooze, so a console must see these as changes.
        conn.execute("UPDATE tickets SET version = ? WHERE id = ?", (self._next_version(conn), ticket_id))

    def start_escalation(self, ticket_id: str, now: datetime) -> AckState:
        """Start the ticket's escalation chain at ``now`` unless one is already running."""
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO escalations (ticket_id, started_at) VALUES (?, ?) "
                "ON CONFLICT(ticket_id) DO UPDATE SET started_at = COALESCE(escalations.started_at, excluded.started_at)",
                (ticket_id, ts(now)),
            )
            self._touch(conn, ticket_id)
        return self.ack_state(ticket_id)  # type: ignore[return-value]

    def reset_escalation(self, ticket_id: str) -> None:
        """End the chain (ticket solved, or de-escalated): the next escalation starts afresh."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE escalations SET started_at = NULL, acknowledged_at = NULL, acknowledged_by = NULL, expires_at = NULL "
                "WHERE ticket_id = ?",
                (ticket_id,),
            )
            self._touch(conn, ticket_id)

    def set_acknowledged(self, ticket_id: str, actor: str, now: datetime, expires_at: datetime | None = None) -> None:
        """``actor`` took the ticket: the progressive chain stops (until ``expires_at``)."""
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO escalations (ticket_id, acknowledged_at, acknowledged_by, expires_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(ticket_id) DO UPDATE SET acknowledged_at = excluded.acknowledged_at, "
                "acknowledged_by = excluded.acknowledged_by, expires_at = excluded.expires_at",
                (ticket_id, ts(now), actor, ts(expires_at)),
            )
            self._touch(conn, ticket_id)

    def set_snoozed(self, ticket_id: str, until: datetime | None, actor: str) -> None:
        """Hold the ticket's chain until ``until`` (None lifts the snooze)."""
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO escalations (ticket_id, snoozed_until, snoozed_by) VALUES (?, ?, ?) "
                "ON CONFLICT(ticket_id) DO UPDATE SET snoozed_until = excluded.snoozed_until, snoozed_by = excluded.snoozed_by",
                (ticket_id, ts(until), actor),
            )
            self._touch(conn, ticket_id)

    def ack_state(self, ticket_id: str) -> AckState | None:
        rows = self._q("SELECT * FROM escalations WHERE ticket_id = ?", (ticket_id,))
        return _state(rows[0]) if rows else None

    def active_escalations(self, now: datetime) -> list[AckState]:
        """Running chains not (or no longer) acknowledged and not snoozed at ``now``: what the
        daemon re-checks after a restart, oldest first."""
        rows = self._q(
            "SELECT e.* FROM escalations e JOIN tickets t ON t.id = e.ticket_id "
            "WHERE e.started_at IS NOT NULL AND t.is_open = 1 "
            "AND (e.acknowledged_at IS NULL OR (e.expires_at IS NOT NULL AND e.expires_at <= ?)) "
            "AND (e.snoozed_until IS NULL OR e.snoozed_until <= ?) ORDER BY e.started_at",
            (ts(now), ts(now)),
        )
        return [_state(r) for r in rows]

    def claim_timer(self, ticket_id: str, step: str, holder: str | None, now: datetime,
                    lease: float = TIMER_CLAIM_SECONDS) -> bool:
        """Claim firing chain step ``step`` (chain, step and chain start, e.g.
        ``default:2@2026-03-02T09:00:00Z``) of ``ticket_id`` for ``holder``: True for exactly one
        daemon of the fleet, and only while the step has not fired. One conditional UPDATE, so
        two daemons cannot both win; a claim whose holder died runs out after ``lease`` seconds."""
        with self._tx() as conn:
            row = conn.execute(
                "UPDATE escalations SET claimed_by = ?, claim_expires_at = ? WHERE ticket_id = ? "
                "AND (timer_fired IS NULL OR timer_fired <> ?) "
                "AND (claimed_by IS NULL OR claimed_by = ? OR claim_expires_at <= ?) RETURNING ticket_id",
                (holder or "", ts(now + timedelta(seconds=lease)), ticket_id, step, holder or "", ts(now)),
            ).fetchone()
            return row is not None

    def timer_done(self, ticket_id: str, step: str | None, holder: str | None) -> None:
        """The claimed step has fired (``step``), or firing failed (None: claimable again)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE escalations SET timer_fired = COALESCE(?, timer_fired), claimed_by = NULL, claim_expires_at = NULL "
                "WHERE ticket_id = ? AND claimed_by = ?",
                (step, ticket_id, holder or ""),
            )
