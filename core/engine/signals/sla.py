"""The SLA as a signal: a function of the ``SlaStatus`` the SLA module computed.

None (no policy applies) or a target that is ok, paused or met does not fire; a warning fires
by the share of the target already used; a breach fires fully. Evidence is the due time.
"""

from __future__ import annotations

from deskwatch.core.model import Signal, SlaStatus, SlaTarget, Ticket
from deskwatch.core.engine.signals.base import SignalContext, clamp, make_signal
from deskwatch.core.model.timeutil import format_time

WARNING_FROM = 75.0  # elapsed % where the default warning zone starts ([sla] warning_at)
WARNING_FLOOR = 0.25  # value when a warning has just started
WARNING_CAP = 0.6  # value just before the breach: a warning never weighs as much as one


def pressing_target(status: SlaStatus | None) -> SlaTarget | None:
    """The breached or warning target that matters most (breached first, then most used)."""
    if status is None:
        return None
    live = [t for t in status.targets if t.state in ("breached", "warning")]
    if not live:
        return None
    return max(live, key=lambda t: (t.state == "breached", t.elapsed_pct, t.name))


def sla_value(status: SlaStatus | None) -> float:
    """0 when nothing is at risk; on warning a ramp from WARNING_FLOOR (the warning zone just
    opened) to WARNING_CAP (about to breach); 1.0 once breached. A warning is a nudge: on its
    own it should lift a ticket by a band at most, where a breach weighs fully."""
    t = pressing_target(status)
    if t is None:
        return 0.0
    if t.state == "breached":
        return 1.0
    share = clamp((t.elapsed_pct - WARNING_FROM) / (100.0 - WARNING_FROM))
    return WARNING_FLOOR + (WARNING_CAP - WARNING_FLOOR) * share


def sla_signal(status: SlaStatus | None, weight: float) -> Signal | None:
    t = pressing_target(status)
    if t is None or status is None:
        return None
    due = format_time(t.due_at) if t.due_at else "unknown"
    name = t.name.replace("_", " ")
    if t.state == "breached":
        evidence = (f"{name} was due {due}", f"{t.elapsed_pct:.0f}% of the target used")
        detail = f"SLA breached: {name} ({status.policy})"
    else:
        evidence = (f"{name} due {due}", f"{t.elapsed_pct:.0f}% of the target used")
        detail = f"SLA at risk: {name} ({status.policy})"
    return make_signal("sla", sla_value(status), weight, evidence, detail)


def sla(ticket: Ticket, ctx: SignalContext) -> Signal | None:
    """The SLA signal for the status in the context (computed by the SLA step)."""
    return sla_signal(ctx.sla, ctx.config.weights.sla)
