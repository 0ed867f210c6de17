"""An escalation the team's own history says people turn down is held back to monitor.

Pure. The escalation model (core/engine/learned.py) gives the probability that a person would
escalate a ticket like this one, learned from what people did with deskwatch's escalations:
those that stood, and those turned down in the console or in the helpdesk. When that
probability is very low, escalating anyway writes to the helpdesk what the team has undone
many times before, so the recommendation drops to monitor and the reasons say why.

Never for what must not wait on a model: a hard trigger (legal, security, data loss, ...) or
an incident that pages someone.
"""

from __future__ import annotations

from typing import Sequence

from deskwatch.core.model import Signal

ESCALATING = ("priority", "immediate")
# Below this probability that a person would escalate, deskwatch does not escalate either.
HOLD_BELOW = 0.2


def holds_back(recommendation: str, signals: Sequence[Signal], page: bool, p: float | None) -> str | None:
    """Why an escalating ``recommendation`` is held back to monitor, or None when it stands."""
    if p is None or recommendation not in ESCALATING or page or p >= HOLD_BELOW:
        return None
    if any(s.hard and s.value > 0 for s in signals):
        return None
    return (f"held back to monitor: people escalated tickets like this only {p:.0%} of the time "
            "(they turned down escalations like it)")
