"""Failures by the customer's own words: incidents, security incidents, data loss, regressions.

Three signals from ``ctx.text.markers`` (core/engine/markers.py):

- ``security_incident``: a security incident in progress: the customer sees another company's or
  person's data, an account was taken over, a breach. Hard, category ``security``.
- ``data_loss``: data gone, deleted or wiped by the product ("every record we created yesterday
  is gone"). Hard: always an incident.
- ``failure``: something the product does is failing. An outage or a payment failure that reaches
  many people is an incident (value 1, hard); a regression after a release, payments failing for
  someone, an outage report or a reproducible defect fire partly.

Hard signals escalate regardless of the score, and an incident pages (core/engine/levels.py).
"""

from __future__ import annotations

from deskwatch.core.model import Signal, Ticket
from deskwatch.core.engine.signals.base import SignalContext, make_signal, quote


def security_incident(ticket: Ticket, ctx: SignalContext) -> Signal | None:
    m = ctx.text.markers
    if not (m.exposure or m.takeover):
        return None
    detail = ("Security incident in progress: the customer sees data that is not theirs" if m.exposure
              else "Security incident in progress: an account or data is compromised")
    return make_signal("security_incident", 1.0, ctx.config.weights.security_incident,
                       quote([*m.exposure, *m.takeover][:3]), detail, "security", hard=True)


def data_loss(ticket: Ticket, ctx: SignalContext) -> Signal | None:
    m = ctx.text.markers
    if not m.data_loss:
        return None
    evidence = quote(m.data_loss[:2]) + quote(m.regression[:1]) + quote(m.broad[:1])
    after = f" after {m.regression[0].split(' ', 1)[-1]}" if m.regression else ""
    return make_signal("data_loss", 1.0, ctx.config.weights.data_loss, evidence,
                       f"Data loss{after}: customer data is gone", hard=True)


_BREAKING = ("no longer", "stopped", "broke", "used to work", "worked", "was working", "were working", "regression")


def _strong(repro: tuple[str, ...]) -> list[str]:
    """Reproduction evidence beyond the word "bug" (which alone is a defect to confirm)."""
    return [r for r in repro if r.lower() != "bug"]


def _breaks(regression: tuple[str, ...]) -> bool:
    """Whether the regression phrase says itself that something broke ("no longer syncs")."""
    return any(w in r.lower() for r in regression for w in _BREAKING)


def failure(ticket: Ticket, ctx: SignalContext) -> Signal | None:
    m = ctx.text.markers
    broken = m.outage or m.payments
    # Breadth is read only for a broken service: most tickets never pay for it.
    many = broken and (m.broad or (ticket.affected_users is not None
                                   and ticket.affected_users >= ctx.config.impact.users_for_incident))
    what = "checkout and payments failing" if m.payments else "the service down or failing"
    if broken and many:
        value, hard = 1.0, True
        detail = f"Incident: {what} for many users"
    elif (m.failure or broken or _breaks(m.regression)) and m.regression:
        value, hard = 0.7, False
        detail = "A regression: it broke after a release, update or migration"
    elif m.payments:
        value, hard = 0.7, False
        detail = "Checkout or payments failing"
    elif (m.failure or m.outage) and _strong(m.repro):
        value, hard = 0.6, False
        detail = "A reproducible defect"
    elif m.outage:
        value, hard = 0.6, False
        detail = "The service is down or failing for the customer"
    elif m.failure and m.repro:
        value, hard = 0.5, False
        detail = "A defect to confirm"
    else:
        return None
    if hard and m.regression:
        detail += f" since {m.regression[0].split(' ', 1)[-1]}"
    evidence = quote([*m.payments[:2], *m.outage[:2], *m.regression[:1], *m.repro[:1]][:4])
    if many:
        evidence += quote(m.broad[:1]) if m.broad else [f"{ticket.affected_users} users affected"]
    return make_signal("failure", value, ctx.config.weights.failure, evidence, detail, hard=hard)
