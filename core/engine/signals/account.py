"""Account weight: what the customer is worth and how likely they are to leave.

Importance is the larger of annual value (linear up to ``high_value``) and tier (from the
``account.tiers`` table); risk is the larger of renewal closeness (within ``renewal_days``) and
low health (under ``low_health``). value = 0.5 * importance + 0.5 * risk: a big healthy account
counts, a small unhappy one counts less, a big one about to renew unhappy counts fully.
"""

from __future__ import annotations

from deskwatch.core.model import Signal, Ticket
from deskwatch.core.engine.signals.base import SignalContext, clamp, make_signal


def account(ticket: Ticket, ctx: SignalContext) -> Signal | None:
    org = ticket.organization
    if org is None:
        return None
    s = ctx.config.account
    evidence: list[str] = []
    importance = 0.0
    if org.annual_value:
        importance = clamp(org.annual_value / s.high_value)
        evidence.append(f"annual value {org.annual_value:,.0f}")
    tier_value = s.tier_value(org.tier)
    if tier_value is not None:
        importance = max(importance, tier_value)
        if tier_value > 0:
            evidence.append(f"tier {org.tier}")
    risk = 0.0
    renewal_days = None
    if org.renewal_date is not None and s.renewal_days > 0:
        renewal_days = (org.renewal_date - ctx.now.date()).days
        if 0 <= renewal_days <= s.renewal_days:
            risk = 1.0 - renewal_days / (s.renewal_days + 1)
            evidence.append(f"renews {org.renewal_date.isoformat()} (in {renewal_days} days)")
    if org.health is not None and org.health < s.low_health:
        risk = max(risk, (s.low_health - org.health) / s.low_health)
        evidence.append(f"health {org.health:.2f}")
    value = 0.5 * importance + 0.5 * risk
    if value <= 0:
        return None
    name = org.name or org.id or "the organization"
    parts = []
    if importance >= 0.8:
        parts.append("a key account")
    elif importance > 0:
        parts.append("a paying account")
    if risk > 0:
        parts.append("at risk" if renewal_days is None else "renewing soon" if org.health is None or org.health >= s.low_health else "renewing soon with low health")
    return make_signal("account", value, ctx.config.weights.account, evidence, f"{name} is {' and '.join(parts) or 'an account to watch'}")
