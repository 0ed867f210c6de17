"""Signal families: each module holds pure functions ``(ticket, ctx) -> Signal | list | None``.

``SIGNALS`` is the order the engine runs them in; the SLA signal comes first because the
coordinator's SLA step feeds it. See docs/engine.md for what each one measures.
"""

from __future__ import annotations

from deskwatch.core.signals.account import account
from deskwatch.core.signals.age import age
from deskwatch.core.signals.base import SignalContext, SignalFunction, TextCache, TicketText, build_context, make_signal
from deskwatch.core.signals.impact import IncidentIndex, impact
from deskwatch.core.signals.loop import loop
from deskwatch.core.signals.repeat import repeat_contact
from deskwatch.core.signals.sentiment import sentiment, trajectory
from deskwatch.core.signals.sla import sla
from deskwatch.core.signals.triggers import triggers

SIGNALS: tuple[SignalFunction, ...] = (sla, sentiment, trajectory, triggers, repeat_contact, loop, account, impact, age)

__all__ = [
    "SIGNALS",
    "IncidentIndex",
    "SignalContext",
    "SignalFunction",
    "TextCache",
    "TicketText",
    "build_context",
    "make_signal",
]
