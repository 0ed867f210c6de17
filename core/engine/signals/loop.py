"""Loops: many back-and-forths without progress.

Three kinds of evidence: the number of customer replies that follow an agent reply (beyond
``min_exchanges``), the customer saying a fix did not work after an agent replied ("didn't
work", "still broken"), and an agent sending the same reply twice (a macro on repeat).
"""

from __future__ import annotations

from deskwatch.core.model import Signal, Ticket
from deskwatch.core.engine.signals.base import SignalContext, clamp, make_signal

_MIN_REPLY_CHARS = 20  # "Thanks!" twice is not a loop


def loop(ticket: Ticket, ctx: SignalContext) -> Signal | None:
    settings = ctx.config.loop
    exchanges = 0
    failures: list[str] = []
    replies: dict[str, int] = {}
    repeated: list[str] = []
    agent_replied = False
    previous_author = None
    for m, body in zip(ticket.messages, ctx.text.bodies):
        if not m.public or m.author == "system":
            continue
        if m.author == "agent":
            agent_replied = True
            norm = " ".join(body.lower().split())
            if len(norm) >= _MIN_REPLY_CHARS:
                replies[norm] = replies.get(norm, 0) + 1
                if replies[norm] == 2:
                    repeated.append(norm)
        elif m.author == "customer" and agent_replied:
            if previous_author == "agent":
                exchanges += 1
            for hit in settings.matcher.find(body, ctx.text.words(body)):
                if hit.text.lower() not in (f.lower() for f in failures):
                    failures.append(hit.text)
        previous_author = m.author
    extra = max(0, exchanges - settings.min_exchanges + 1)
    value = clamp(0.25 * extra + 0.35 * len(failures) + 0.4 * len(repeated))
    if value <= 0:
        return None
    evidence: list[str] = []
    if extra:
        evidence.append(f"{exchanges} back-and-forths")
    evidence += [f'"{f}" after an agent reply' for f in failures[:3]]
    evidence += [f'same agent reply twice: "{r[:60]}{"..." if len(r) > 60 else ""}"' for r in repeated[:2]]
    if failures:
        detail = "The customer reports the suggested fix did not work"
    elif repeated:
        detail = "An agent sent the same reply twice"
    else:
        detail = f"{exchanges} rounds of replies without a resolution"
    return make_signal("loop", value, ctx.config.weights.loop, evidence, detail)
