"""Decision history: every decision for a ticket is kept; the latest is copied onto the ticket row."""

from __future__ import annotations

import json

from deskwatch.core import model
from deskwatch.core.model import AuditRecord, Decision
from deskwatch.core.store.base import StoreBase, dumps, ts

ENGINE_ACTOR = "deskwatch"


def rec_rank(recommendation: str | None) -> int:
    """Queue order of a recommendation: immediate (3) first, undecided (-1) last."""
    return model.RECOMMENDATIONS.index(recommendation) if recommendation in model.RECOMMENDATIONS else -1


class DecisionsMixin(StoreBase):
    def record_decision(self, decision: Decision, *, actor: str = ENGINE_ACTOR, basis: str | None = None) -> int:
        """Keep ``decision`` in the ticket's history, make it the queue's view of the ticket and
        audit it. ``actor`` is ``deskwatch`` for the engine, a person for a manual decision
        (override, escalation). ``basis`` fingerprints the ticket's facts the decision was made
        from (core/daemon/writeback.py). Returns the decision's sequence number."""
        sla_state = decision.sla.state if decision.sla else None
        due = decision.sla.next_due if decision.sla else None
        agent = decision.route.agent if decision.route else None
        with self._tx() as conn:
            decision_id = conn.execute(
                "INSERT INTO decisions (ticket_id, decided_at, actor, score, recommendation, tier, team, agent, confidence, "
                "needs_review, sla_state, sla_due_at, data, basis) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    decision.ticket_id, ts(decision.decided_at), actor, decision.score, decision.recommendation, decision.tier,
                    decision.team, agent, decision.confidence, int(decision.needs_review), sla_state, ts(due),
                    dumps(model.decision_to_dict(decision)), basis,
                ),
            ).fetchone()[0]
            version = self._next_version(conn)
            conn.execute(
                "UPDATE tickets SET decided = 1, score = ?, recommendation = ?, rec_rank = ?, tier = ?, team = ?, confidence = ?, "
                "needs_review = ?, sla_state = ?, sla_due_at = ?, sla_due_sort = ?, version = ? WHERE id = ?",
                (
                    decision.score, decision.recommendation, rec_rank(decision.recommendation), decision.tier, decision.team,
                    decision.confidence, int(decision.needs_review), sla_state, ts(due), ts(due) or "9999", version,
                    decision.ticket_id,
                ),
            )
            self.append_audit(
                AuditRecord(
                    decision.ticket_id, "decision", actor, decision.decided_at,
                    {
                        "score": round(decision.score, 1), "recommendation": decision.recommendation, "tier": decision.tier,
                        "team": decision.team, "agent": agent, "confidence": round(decision.confidence, 3),
                        "needs_review": decision.needs_review, "decision": decision_id,
                    },
                )
            )
            return decision_id

    def latest_decision(self, ticket_id: str) -> Decision | None:
        rows = self._q("SELECT data FROM decisions WHERE ticket_id = ? ORDER BY id DESC LIMIT 1", (ticket_id,))
        return model.decision_from_dict(json.loads(rows[0][0])) if rows else None

    def latest_decision_actor(self, ticket_id: str) -> str | None:
        """Who made the latest decision: ``deskwatch`` (the engine) or the person who overrode it."""
        rows = self._q("SELECT actor FROM decisions WHERE ticket_id = ? ORDER BY id DESC LIMIT 1", (ticket_id,))
        return rows[0][0] if rows else None

    def latest_basis(self, ticket_id: str) -> tuple[str, str | None] | None:
        """(actor, basis) of the ticket's latest decision: who made it and the fingerprint of
        the facts it was made from (None when not recorded); None when never decided."""
        rows = self._q("SELECT actor, basis FROM decisions WHERE ticket_id = ? ORDER BY id DESC LIMIT 1", (ticket_id,))
        return (rows[0][0], rows[0][1]) if rows else None

    def decisions_for(self, ticket_id: str) -> list[Decision]:
        """Every decision recorded for the ticket, oldest first."""
        rows = self._q("SELECT data FROM decisions WHERE ticket_id = ? ORDER BY id", (ticket_id,))
        return [model.decision_from_dict(json.loads(r[0])) for r in rows]

    def mark_reviewed(self, ticket_id: str) -> None:
        """Take the ticket off the review list until a new decision needs review again."""
        with self._tx() as conn:
            conn.execute("UPDATE tickets SET needs_review = 0, version = ? WHERE id = ?", (self._next_version(conn), ticket_id))
