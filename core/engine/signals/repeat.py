"""Repeat contact: the same requester or organization about the same issue, recently.

History comes from ``ctx.history`` (the batch for ``deskwatch score``, the store in the daemon)
and spans sources and channels: a customer who e-mailed Zendesk and then opened a Freshdesk
chat is the same customer. "Same issue" means the subjects and first messages share enough
significant words, or both tickets hit the same routed trigger category (say, refund).
"""

from __future__ import annotations

from datetime import timedelta

from deskwatch.core.model import Signal, Ticket
from deskwatch.core.engine.signals.base import SignalContext, make_signal
from deskwatch.core.engine.text import overlap

_ORDINAL = {2: "2nd", 3: "3rd"}


def _ordinal(n: int) -> str:
    return _ORDINAL.get(n, f"{n}th")


def _routed_categories(ctx: SignalContext, hits: dict[str, list[str]]) -> set[str]:
    # Categories without a team (urgency) say how, not what: they do not make two tickets alike.
    return {c for c in hits if c in ctx.config.routed_categories}


def repeat_contact(ticket: Ticket, ctx: SignalContext) -> Signal | None:
    """Fires for each earlier ticket about the same issue within the window."""
    start = ticket.created_at - timedelta(days=ctx.config.repeat.window_days)
    related = ctx.history.related(ticket, since=start)
    if not related:
        return None
    mine = ctx.text
    my_cats = _routed_categories(ctx, mine.hits)
    evidence: list[str] = []
    sources = {ticket.source}
    channels = {ticket.channel}
    for other in related:
        if other.id == ticket.id or not (start <= other.created_at <= ticket.created_at):
            continue
        if other.created_at == ticket.created_at and other.id > ticket.id:
            continue  # same instant: the lower id counts as the earlier contact, so order is stable
        theirs = ctx.texts.get(other)
        words = overlap(mine.keywords, theirs.keywords)
        # Most tickets have no routed category: then none is shared and theirs need not be read.
        shared = my_cats & _routed_categories(ctx, theirs.hits) if my_cats else my_cats
        if words < ctx.config.repeat.min_overlap and not shared:
            continue
        why = f"same {min(shared)} issue" if shared and words < ctx.config.repeat.min_overlap else "similar subject"
        evidence.append(f"{other.id} ({other.channel}, {other.created_at.date().isoformat()}, {why})")
        sources.add(other.source)
        channels.add(other.channel)
    n = len(evidence)
    if n == 0:
        return None
    across = ""
    if len(sources) > 1:
        across = f" across {' and '.join(sorted(sources))}"
    elif len(channels) > 1:
        across = f" across {' and '.join(sorted(channels))}"
    return make_signal(
        "repeat_contact",
        1.0 - 0.4**n,
        ctx.config.weights.repeat_contact,
        evidence,
        f"{_ordinal(n + 1)} contact about this issue in {ctx.config.repeat.window_days} days{across}",
    )
