"""Sentiment level and trajectory over the customer's messages.

Only what the customer newly wrote is read (quotes and signatures are stripped), each message
once. A polite message does not fire however serious its subject; that is the triggers' and
impact's job. The level leans on the latest message, because that is the mood an agent meets.
"""

from __future__ import annotations

from deskwatch.core.model import Signal, Ticket
from deskwatch.core.engine.signals.base import SignalContext, clamp, make_signal


def _mood(score: float) -> str:
    if score <= -0.75:
        return "furious"
    if score <= -0.45:
        return "angry"
    if score <= -0.2:
        return "negative"
    return "slightly negative"


def sentiment(ticket: Ticket, ctx: SignalContext) -> Signal | None:
    """How negative the customer sounds now (latest message, with the one before it)."""
    readings = ctx.text.readings
    if not readings:
        return None
    neutral = ctx.config.sentiment.neutral
    last = readings[-1]
    level = last.score if len(readings) == 1 else 0.75 * last.score + 0.25 * readings[-2].score
    if level > -neutral:
        return None
    value = clamp((-level - neutral) / (1.0 - neutral))
    evidence: list[str] = []
    for r in readings[-2:]:
        for c in r.cues:
            if c not in evidence:
                evidence.append(c)
    explain = getattr(ctx.text.analyzer, "negative_words", None)
    if explain is not None:
        for w in explain(ctx.text.customer[-1]):
            q = f'"{w}"'
            if q.lower() not in (e.lower() for e in evidence):
                evidence.append(q)
    evidence.append(f"tone {level:+.2f}")
    return make_signal(
        "sentiment",
        value,
        ctx.config.weights.sentiment,
        evidence,
        f"The customer sounds {_mood(level)} in their latest message",
    )


def trajectory(ticket: Ticket, ctx: SignalContext) -> Signal | None:
    """How far the tone fell from the first customer message to the latest."""
    readings = ctx.text.readings
    if len(readings) < 2:
        return None
    first, last = readings[0].score, readings[-1].score
    drop = first - last
    if drop < ctx.config.sentiment.trajectory_min_drop or last > -ctx.config.sentiment.neutral:
        return None
    return make_signal(
        "trajectory",
        clamp(drop / 1.2),
        ctx.config.weights.trajectory,
        (f"first message {first:+.2f}", f"latest message {last:+.2f}", f"{len(readings)} customer messages"),
        f"Tone worsened from {first:+.2f} to {last:+.2f} over {len(readings)} messages",
    )
