"""The aggregated queue the console and ``deskwatch queue`` show, most urgent first."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from deskwatch.core.model import AuditRecord, Decision, Ticket
from deskwatch.core.store.base import StoreBase, dumps, from_ts
from deskwatch.core.store.dialect import POSTGRESQL
from deskwatch.core.store.escalations import AckState
from deskwatch.core.store.outbox import OutboxItem


@dataclass(frozen=True)
class QueueRow:
    ticket_id: str
    source: str
    channel: str
    subject: str
    customer_name: str | None
    customer_email: str | None
    organization: str | None
    annual_value: float | None
    score: float
    recommendation: str | None  # None until the engine has decided
    tier: str | None
    team: str | None  # the decision's team, else the helpdesk group
    sla_state: str | None
    sla_due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    needs_review: bool
    assignee: str | None
    acknowledged: bool
    snoozed_until: datetime | None
    confidence: float | None
    version: int
    status: str = "open"
    priority: str | None = None
    open: bool = True  # False once solved, closed or deleted: a console drops the row
    hold: str | None = None  # "override" or "escalate": a person's decision that still holds (core/policy/holds.py)
    attention: str | None = None  # "page" (someone was paged) or "management" (managers need to know), from the latest decision


@dataclass(frozen=True)
class QueueFilter:
    """Each field narrows the queue; None means "any"."""

    source: str | None = None
    channel: str | None = None
    tier: str | None = None
    team: str | None = None
    sla_state: str | None = None
    needs_review: bool | None = None
    assignee: str | None = None
    text: str | None = None  # in subject, customer name or e-mail, organization (case-insensitive)
    include_closed: bool = False


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    latest: Decision | None
    decisions: tuple[Decision, ...]
    audit: tuple[AuditRecord, ...]
    outbox: tuple[OutboxItem, ...]
    ack: AckState | None


_SELECT = (
    "SELECT t.id, t.source, t.channel, t.subject, t.customer_name, t.customer_email, t.organization, t.annual_value, "
    "t.score, t.recommendation, t.tier, COALESCE(t.team, t.grp) AS team, t.sla_state, t.sla_due_at, t.created_at, "
    "t.updated_at, t.needs_review, t.assignee, t.confidence, t.version, t.status, t.priority, t.is_open, t.deleted, "
    "e.acknowledged_at, e.expires_at, e.snoozed_until FROM tickets t LEFT JOIN escalations e ON e.ticket_id = t.id"
)
_ORDER = " ORDER BY t.rec_rank DESC, t.score DESC, t.sla_due_sort, t.id"
_HOLD_KINDS = ("override", "escalate", "hold_ended")  # core/policy/holds.py HOLD_KINDS and HOLD_ENDED
# PostgreSQL: the page with its holds (each row's newest override, escalation or hold-ended
# record) and attention (its latest decision's page and management fields) in ONE round trip:
# the page is a derived table, so the per-row lookups (on the (ticket_id, id) indexes) run for
# its rows only, never for the rows an OFFSET skips; the latest decision is read once per row (a
# LATERAL join, its JSON parsed once; a nested loop over the page, so the page's order is kept). On SQLite the
# two batched queries of ``_with_holds`` are quicker.
_PAGE_PG = (
    "SELECT p.*, (SELECT a.kind FROM audit a WHERE a.ticket_id = p.id AND a.kind IN ("
    + ", ".join(f"'{k}'" for k in _HOLD_KINDS) + ") ORDER BY a.id DESC LIMIT 1) AS hold_kind, "
    f"{POSTGRESQL.json_value('ld.j', 'page')} AS attention_page, "
    f"{POSTGRESQL.json_value('ld.j', 'management')} AS attention_management FROM ({{}}) p "
    "LEFT JOIN LATERAL (SELECT (d.data)::json AS j FROM decisions d WHERE d.ticket_id = p.id ORDER BY d.id DESC LIMIT 1) ld ON true"
)


def _row(r: Any, now: datetime | None) -> QueueRow:
    expires = from_ts(r["expires_at"])
    acked = r["acknowledged_at"] is not None and (expires is None or now is None or expires > now)
    return QueueRow(
        ticket_id=r["id"], source=r["source"], channel=r["channel"], subject=r["subject"],
        customer_name=r["customer_name"], customer_email=r["customer_email"], organization=r["organization"],
        annual_value=r["annual_value"], score=r["score"], recommendation=r["recommendation"], tier=r["tier"],
        team=r["team"], sla_state=r["sla_state"], sla_due_at=from_ts(r["sla_due_at"]),
        created_at=from_ts(r["created_at"]), updated_at=from_ts(r["updated_at"]),  # type: ignore[arg-type]
        needs_review=bool(r["needs_review"]), assignee=r["assignee"], acknowledged=acked,
        snoozed_until=from_ts(r["snoozed_until"]), confidence=r["confidence"], version=r["version"],
        status=r["status"], priority=r["priority"], open=bool(r["is_open"]) and not r["deleted"],
    )



def _with_mark(r: Any, now: datetime | None) -> QueueRow:
    """A row of ``_PAGE_PG``: the queue row with its hold and attention."""
    row = _row(r, now)
    kind, page, management = r["hold_kind"], r["attention_page"], r["attention_management"]
    hold = kind if kind != "hold_ended" else None
    attention = "page" if page else ("management" if management is not None else None)
    return replace(row, hold=hold, attention=attention) if hold or attention else row


def _where(f: QueueFilter) -> tuple[str, list[Any]]:
    clauses, params = ["t.deleted = 0"], []
    if not f.include_closed:
        clauses.append("t.is_open = 1")
    for col, value in (("t.source", f.source), ("t.channel", f.channel), ("t.tier", f.tier), ("t.sla_state", f.sla_state), ("t.assignee", f.assignee)):
        if value is not None:
            clauses.append(f"{col} = ?")
            params.append(value)
    if f.team is not None:
        clauses.append("LOWER(COALESCE(t.team, t.grp)) = LOWER(?)")  # "Billing" and "billing" are one team
        params.append(f.team)
    if f.needs_review is not None:
        clauses.append("t.needs_review = ?")
        params.append(int(f.needs_review))
    if f.text:
        text = f.text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append("t.id IN (SELECT id FROM ticket_search WHERE txt LIKE ? ESCAPE '\\')")
        params.append(f"%{text}%")
    return " WHERE " + " AND ".join(clauses), params


class QueueMixin(StoreBase):
    def _queue_rows(self, tail: str, params: Any, now: datetime | None) -> list[QueueRow]:
        """Queue rows of ``_SELECT + tail`` with their holds and attention."""
        if self.dialect.postgresql:
            return [_with_mark(r, now) for r in self._q(_PAGE_PG.format(_SELECT + tail), params)]
        return self._with_holds([_row(r, now) for r in self._q(_SELECT + tail, params)])

    def _with_holds(self, rows: list[QueueRow]) -> list[QueueRow]:
        """``rows`` with ``hold`` set from each ticket's newest override, escalation or hold-ended
        record, and ``attention`` from its latest decision (two indexed queries per 500 rows)."""
        holds: dict[str, str] = {}
        attention: dict[str, str] = {}
        ids = [r.ticket_id for r in rows]
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ", ".join("?" * len(chunk))
            for r in self._q(
                "SELECT a.ticket_id, a.kind FROM audit a JOIN (SELECT ticket_id, MAX(id) AS id FROM audit "
                f"WHERE ticket_id IN ({marks}) AND kind IN (?, ?, ?) GROUP BY ticket_id) m ON a.id = m.id",
                [*chunk, *_HOLD_KINDS],
            ):
                if r[1] != "hold_ended":
                    holds[r[0]] = r[1]
            # The latest decision's management and page fields, read by the database (no JSON decoding per row).
            for r in self._q(
                f"SELECT d.ticket_id, {self.dialect.json_value('d.data', 'page')}, {self.dialect.json_value('d.data', 'management')} "
                "FROM decisions d "
                f"JOIN (SELECT ticket_id, MAX(id) AS id FROM decisions WHERE ticket_id IN ({marks}) GROUP BY ticket_id) m "
                "ON d.id = m.id", chunk,
            ):
                if r[1]:
                    attention[r[0]] = "page"
                elif r[2] is not None:
                    attention[r[0]] = "management"
        return [replace(r, hold=holds.get(r.ticket_id), attention=attention.get(r.ticket_id))
                if r.ticket_id in holds or r.ticket_id in attention else r for r in rows]

    def queue(self, filters: QueueFilter | None = None, limit: int = 100, offset: int = 0, *, now: datetime | None = None) -> list[QueueRow]:
        """Open tickets, most urgent first: recommendation (immediate first), then score
        (highest first), then SLA due time (soonest first; none last). ``now`` decides whether
        an acknowledgment has expired (without it, any acknowledgment counts)."""
        where, params = _where(filters or QueueFilter())
        return self._queue_rows(where + _ORDER + " LIMIT ? OFFSET ?", [*params, limit, offset], now)

    def set_assignee(self, ticket_id: str, assignee: str | None, group: str | None = None) -> None:
        """Record a person's assignment (and group) locally, so the queue and its "mine" filter
        show it before the helpdesk echoes it back."""
        with self._tx() as conn:
            row = conn.execute("SELECT data, grp FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
            if row is None:
                return
            data = json.loads(row["data"])
            data["assignee"] = assignee
            if group is not None:
                data["group"] = group
            conn.execute("UPDATE tickets SET assignee = ?, grp = ?, data = ?, version = ? WHERE id = ?",
                         (assignee, row["grp"] if group is None else group, dumps(data), self._next_version(conn), ticket_id))

    def queue_teams(self) -> list[str]:
        """The teams of open tickets (the decision's team, else the helpdesk group), A to Z."""
        rows = self._q("SELECT DISTINCT COALESCE(team, grp) FROM tickets WHERE deleted = 0 AND is_open = 1 AND COALESCE(team, grp) IS NOT NULL")
        return sorted((r[0] for r in rows), key=str.casefold)

    def queue_count(self, filters: QueueFilter | None = None) -> int:
        where, params = _where(filters or QueueFilter())
        return self._q("SELECT COUNT(*) FROM tickets t" + where, params)[0][0]

    def queue_changes(self, since_version: int, *, now: datetime | None = None, limit: int = 10_000) -> list[QueueRow]:
        """Rows whose ticket, decision, acknowledgment or snooze changed after ``since_version``
        (closed and deleted ones included, with ``open`` False), in version order. Keep the
        largest ``version`` seen (or ``current_version()``) for the next call."""
        return self._queue_rows(" WHERE t.version > ? ORDER BY t.version, t.id LIMIT ?", (since_version, limit), now)

    def ticket_detail(self, ticket_id: str) -> TicketDetail | None:
        """Everything the console's ticket screen shows, or None for an unknown ticket."""
        ticket = self.get_ticket(ticket_id)  # type: ignore[attr-defined]
        if ticket is None:
            return None
        decisions = tuple(self.decisions_for(ticket_id))  # type: ignore[attr-defined]
        return TicketDetail(
            ticket=ticket,
            latest=decisions[-1] if decisions else None,
            decisions=decisions,
            audit=tuple(self.audit_for(ticket_id)),  # type: ignore[attr-defined]
            outbox=tuple(self.outbox_for(ticket_id)),  # type: ignore[attr-defined]
            ack=self.ack_state(ticket_id),  # type: ignore[attr-defined]
        )
