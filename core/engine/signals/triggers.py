"""Trigger categories from config: legal, security, compliance, refund, outage, churn, ...

Phrases are matched whole-word, case-insensitively and negation-aware ("no legal issue" does
not fire) on the subject and on what the customer newly wrote. A category marked ``hard``
escalates regardless of the score (the engine applies that); each category yields its own
signal named ``trigger:<category>``.
"""

from __future__ import annotations

from deskwatch.core.model import Signal, Ticket
from deskwatch.core.engine.signals.base import SignalContext, make_signal, quote


def triggers(ticket: Ticket, ctx: SignalContext) -> list[Signal]:
    """One signal per category with at least one phrase; more distinct phrases, stronger."""
    hits = ctx.text.hits
    out = []
    for cat in ctx.config.triggers:
        phrases = hits.get(cat.name)
        if not phrases:
            continue
        value = min(1.0, 0.6 + 0.2 * (len(phrases) - 1))
        label = cat.name.replace("_", " ")
        detail = f"Mentions {label}" + (" (escalates regardless of score)" if cat.hard else "")
        out.append(
            make_signal(f"trigger:{cat.name}", value, cat.weight, quote(phrases[:5]), detail, cat.name, cat.hard)
        )
    return out
