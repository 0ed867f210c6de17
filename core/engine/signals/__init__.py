"""Signal families: each module holds pure functions ``(ticket, ctx) -> Signal | list | None``.

``SIGNALS`` is the order the engine runs them in; the SLA signal comes first because the
coordinator's SLA step feeds it. See docs/engine.md for what each one measures. The package
attributes named after the families are the modules (``signals.sla``), not the functions.
"""

from __future__ import annotations

from deskwatch.core.engine.signals import account, age, failure, impact, incident, loop, repeat, sentiment, sla, triggers
from deskwatch.core.engine.signals.base import SignalContext, SignalFunction, TextCache, TicketText, build_context, make_signal
from deskwatch.core.engine.signals.impact import IncidentIndex

SIGNALS: tuple[SignalFunction, ...] = (
    sla.sla,
    sentiment.sentiment,
    sentiment.trajectory,
    triggers.triggers,
    failure.security_incident,
    failure.data_loss,
    failure.failure,
    repeat.repeat_contact,
    loop.loop,
    account.account,
    impact.impact,
    incident.incident,
    age.age,
)

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
