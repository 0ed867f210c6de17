"""The audit log: append-only (SQLite triggers refuse UPDATE and DELETE on it)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from deskwatch.core.model import AuditRecord
from deskwatch.core.store.base import StoreBase, from_ts, ts
from deskwatch.core.model.timeutil import format_time

AUDIT_KINDS = (
    "decision", "action", "escalate", "priority", "override", "hold_ended", "acknowledge", "snooze", "note", "feedback",
    "outbox", "shadow", "brief",
)


def _json_default(v: Any) -> Any:
    if isinstance(v, datetime):
        return format_time(v)
    if isinstance(v, (set, frozenset, tuple)):
        return list(v)
    raise TypeError(f"audit data: {type(v).__name__} is not JSON-serializable")


class AuditMixin(StoreBase):
    def append_audit(self, record: AuditRecord) -> int:
        """Append one record; returns its sequence number. ``data`` must be JSON-serializable."""
        if not record.actor or not record.actor.strip():
            raise ValueError("audit record without an actor; every record names who did it")
        data = json.dumps(dict(record.data), default=_json_default, sort_keys=True, ensure_ascii=False)
        with self._tx() as conn:
            return conn.execute(
                "INSERT INTO audit (ticket_id, kind, actor, at, data) VALUES (?, ?, ?, ?, ?) RETURNING id",
                (record.ticket_id, record.kind, record.actor, ts(record.at), data),
            ).fetchone()[0]

    def audit_for(self, ticket_id: str) -> list[AuditRecord]:
        """Everything recorded about a ticket, oldest first."""
        rows = self._q("SELECT * FROM audit WHERE ticket_id = ? ORDER BY id", (ticket_id,))
        return [_record(r) for r in rows]

    def latest_of(self, ticket_id: str, kinds: tuple[str, ...]) -> AuditRecord | None:
        """The ticket's newest record of one of ``kinds`` (say, the override or escalation by
        hand that holds, or the record that ended it: core/policy/holds.py)."""
        marks = ", ".join("?" * len(kinds))
        rows = self._q(
            f"SELECT * FROM audit WHERE ticket_id = ? AND kind IN ({marks}) ORDER BY id DESC LIMIT 1", (ticket_id, *kinds)
        )
        return _record(rows[0]) if rows else None


def _record(r: Any) -> AuditRecord:
    return AuditRecord(r["ticket_id"], r["kind"], r["actor"], from_ts(r["at"]), json.loads(r["data"]))
