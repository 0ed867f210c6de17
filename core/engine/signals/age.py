"""Age: how long the ticket has been open, and how long the customer has been waiting.

Waiting time counts from the first customer message after the last public agent reply (or
from the ticket's creation when no agent has replied). Tickets waiting on the customer
(pending, on hold) or finished (solved, closed) do not fire. value = max(waiting share,
half the age share): an old ticket matters, a customer left waiting matters more.
"""

from __future__ import annotations

from deskwatch.core.model import Signal, Ticket
from deskwatch.core.engine.signals.base import SignalContext, clamp, hours, make_signal

_ACTIVE = ("new", "open")
_MIN_VALUE = 0.05  # below this the signal is noise


def _span(h: float) -> str:
    return f"{h / 24:.1f} days" if h >= 48 else f"{h:.1f} h"


def age(ticket: Ticket, ctx: SignalContext) -> Signal | None:
    if ticket.status not in _ACTIVE:
        return None
    s = ctx.config.age
    age_h = max(0.0, hours(ticket.created_at, ctx.now))
    waiting_since = None
    replied = False
    for m in ticket.messages:
        if not m.public or m.author == "system":
            continue
        if m.author == "agent":
            replied = True
            waiting_since = None
        elif m.author == "customer" and waiting_since is None:
            waiting_since = m.created_at
    wait_h = max(0.0, hours(waiting_since, ctx.now)) if waiting_since else 0.0
    age_part = 0.5 * clamp(age_h / s.hours_for_max)
    wait_part = clamp(wait_h / s.waiting_hours_for_max)
    value = max(age_part, wait_part)
    if value < _MIN_VALUE:
        return None
    evidence = [f"opened {_span(age_h)} ago"]
    if waiting_since is not None:
        evidence.append(
            f"customer waiting {_span(wait_h)} since the last agent reply" if replied else f"no agent reply after {_span(wait_h)}"
        )
    if wait_part >= age_part and waiting_since is not None:
        detail = f"The customer has waited {_span(wait_h)} for a reply"
    else:
        detail = f"Open for {_span(age_h)}"
    return make_signal("age", value, ctx.config.weights.age, evidence, detail)
