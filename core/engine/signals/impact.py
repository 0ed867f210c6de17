"""Impact: how many people the problem reaches.

Three sources, the strongest wins: ``affected_users`` (log scale up to ``users_for_max``), the
customer saying so ("all our users", "nobody can", "whole team"; negation-aware), and the same
outage reported by several organizations around the same time (``IncidentIndex``, built by
the engine from the batch or by the store from recent tickets).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable

from deskwatch.core.engine.history import organization_key, requester_key
from deskwatch.core.model import Signal, Ticket
from deskwatch.core.engine.signals.base import SignalContext, clamp, make_signal

OUTAGE = "outage"  # the trigger category whose reports are pooled across organizations


@dataclass(frozen=True)
class IncidentIndex:
    """Outage reports by time: (created_at, customer key, ticket id), sorted."""

    reports: tuple[tuple[datetime, str, str], ...] = ()
    _times: tuple[datetime, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def build(cls, reports: Iterable[tuple[datetime, str, str]]) -> "IncidentIndex":
        items = tuple(sorted(reports))
        return cls(items, tuple(r[0] for r in items))

    def others(self, ticket: Ticket, window: timedelta) -> list[tuple[str, str]]:
        """(customer key, ticket id) of outage reports from other customers within ``window``."""
        me = customer_key(ticket)
        lo = bisect.bisect_left(self._times, ticket.created_at - window)
        hi = bisect.bisect_right(self._times, ticket.created_at + window)
        seen: dict[str, str] = {}
        for _, key, tid in self.reports[lo:hi]:
            if key != me and tid != ticket.id and key not in seen:
                seen[key] = tid
        return sorted(seen.items())


def customer_key(ticket: Ticket) -> str:
    return organization_key(ticket) or requester_key(ticket) or f"ticket:{ticket.id}"


def impact(ticket: Ticket, ctx: SignalContext) -> Signal | None:
    s = ctx.config.impact
    value = 0.0
    evidence: list[str] = []
    detail = ""
    n = ticket.affected_users
    if n and n > 1:
        value = clamp(math.log10(n) / math.log10(s.users_for_max))
        evidence.append(f"{n} users affected")
        detail = f"The problem reaches {n} users"
    phrases = []
    for hit in s.matcher.find(ctx.text.searchable, ctx.text.searchable_words):
        if hit.text.lower() not in (p.lower() for p in phrases):
            phrases.append(hit.text)
    if phrases:
        if s.phrase_value > value:
            detail = "The customer says the problem reaches many users"
        value = max(value, s.phrase_value)
        evidence += [f'"{p}"' for p in phrases[:3]]
    index = ctx.incidents
    if isinstance(index, IncidentIndex) and OUTAGE in ctx.text.hits:
        others = index.others(ticket, timedelta(hours=s.outage_window_hours))
        if others:
            orgs_value = clamp(len(others) / s.outage_orgs_for_max)
            if orgs_value >= value:
                detail = f"The same outage is reported by {len(others)} other customer{'s' if len(others) > 1 else ''}"
            value = max(value, orgs_value)
            evidence.append(f"outage also reported in {', '.join(tid for _, tid in others[:4])}")
    if value <= 0:
        return None
    return make_signal("impact", value, ctx.config.weights.impact, evidence, detail)
