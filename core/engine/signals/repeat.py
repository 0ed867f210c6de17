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
    mine_words = mine.keywords
    n_mine = len(mine_words)
    min_overlap = ctx.config.repeat.min_overlap
    text_of = ctx.texts.get
    created, tid = ticket.created_at, ticket.id
    # A big account brings up to 50 related tickets per decision: the loop body is kept to a
    # few operations, and ``overlap`` is inlined (the same formula: |a & b| / min(|a|, |b|)).
    for other in related:
        at, oid = other.created_at, other.id
        if oid == tid or not (start <= at <= created) or (at == created and oid > tid):
            continue  # same instant: the lower id counts as the earlier contact, so order is stable
        theirs = text_of(other)
        their_words = theirs.keywords
        if n_mine and their_words:
            n_theirs = len(their_words)
            words = len(mine_words & their_words) / (n_mine if n_mine < n_theirs else n_theirs)
        else:
            words = 0.0
        if words < min_overlap:
            # Most tickets have no routed category: then none is shared and theirs need not be read.
            # ``my_cats`` holds routed categories only, so meeting their hits keeps routed ones alone.
            shared = my_cats.intersection(theirs.hits) if my_cats else my_cats
            if not shared:
                continue
            why = f"same {min(shared)} issue"
        else:
            why = "similar subject"
        evidence.append(f"{theirs.contact}{why})")
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
