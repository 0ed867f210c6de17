"""Learned models as signals: what a team's own history says about a ticket.

Pure: the fitted models are loaded outside (``deskwatch.core.learn``) and handed in; this
module only asks them for probabilities, for a whole batch at once (one call per model is
what keeps scoring fast), and turns the answers into evidence a person can read:

- **team**: "tickets like this went to Billing 86 % of the time; words: refund, charged twice".
  Routing uses it when the rules give no team, or only the default one, and the model is sure.
- **tone** of the latest customer message, combined with the lexicon's: a signal when negative.
- **escalation**: the probability a person would escalate this ticket; it moves confidence
  toward agreement or doubt, and is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping, Protocol, Sequence

from deskwatch.core.model import LearnedReading, Signal, Ticket

# A model must be at least this sure before its team replaces the rules' default team.
TEAM_CONFIDENT = 0.6
# Score points the learned tone adds at full strength (the lexicon's sentiment signal weighs 15).
TONE_WEIGHT = 8.0
# How far the escalation model may move confidence (0..1).
ESCALATION_PULL = 0.3


class Classifier(Protocol):
    classes: tuple[str, ...]

    def predict_proba(self, texts: Sequence[str]) -> Any: ...

    def top_terms(self, text: str, label: str, limit: int = 4) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class LearnedModels:
    """The active models (any may be None) and their versions, for the decision's record."""

    router: Classifier | None = None
    tone: Classifier | None = None
    escalation: Classifier | None = None
    versions: Mapping[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any((self.router, self.tone, self.escalation))


# The models read at most this much of a ticket: its start (the subject, the first ask) and its
# end (the latest message). Character n-grams cost time in proportion to the text, and a long
# thread's middle adds little to where it belongs.
MAX_CHARS = 600


def clip(text: str, limit: int = MAX_CHARS) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + "\n" + text[-half:]


def ticket_text(ticket: Ticket, customer: Sequence[str]) -> str:
    """What the router and escalation models read: the subject and what the customer wrote
    (quotes and signatures already stripped), clipped, as they were trained
    (core/learn/history.py)."""
    return clip("\n".join([ticket.subject or "", *customer]).strip())


def signal_tokens(signals: Sequence[Signal]) -> str:
    """The fired signals as tokens, exactly as core/learn/history.signal_tokens writes them."""
    return " ".join([_token(s.name, min(4, int(s.value * 4) + 1)) for s in signals if s.value > 0])


@lru_cache(maxsize=2048)
def _token(name: str, quarter: int) -> str:
    # A few dozen signal names times four quarters: built once each, not once per ticket.
    return f"sig_{name.replace(':', '_')}_{quarter}"


def _best(model: Classifier, rows: Any) -> list[tuple[str, float]]:
    if not len(rows):
        return []
    best = rows.argmax(axis=1)
    return [(model.classes[i], p) for i, p in zip(best.tolist(), rows[range(len(best)), best].tolist())]


def _reader(*models: Classifier | None) -> Any:
    """A model's ``analyze`` (texts read once, then scored by each model that takes the
    reading: ``predict_proba_of``), or None when no model offers one."""
    for m in models:
        if m is not None and hasattr(m, "analyze"):
            return m.analyze
    return None


def _proba(model: Classifier, texts: Sequence[str], reading: Any) -> Any:
    of = getattr(model, "predict_proba_of", None)
    return of(reading) if of is not None and reading is not None else model.predict_proba(texts)


def predict(models: LearnedModels, tickets: Sequence[Ticket], customer_texts: Sequence[Sequence[str]],
            shared: dict[str, Any] | None = None) -> dict[str, LearnedReading]:
    """Team and tone readings for a batch, by ticket id (escalation comes later, once the
    signals are known: see ``escalation_ps``). The ticket texts are read once for the router and
    the escalation model; ``shared``, when given, keeps that reading for ``escalation_ps``."""
    texts = [ticket_text(t, c) for t, c in zip(tickets, customer_texts)]
    reader = _reader(models.router, models.escalation)
    reading = reader(texts) if reader is not None else None
    if shared is not None:
        shared.update(texts=texts, reading=reading)
    teams: list = [None] * len(texts)
    words: list = [()] * len(texts)
    router = models.router
    if router is not None:
        explain = getattr(router, "explain_of", None)
        if explain is not None and reading is not None:
            probs, words = explain(reading)
            teams = _best(router, probs)
        else:
            teams = _best(router, router.predict_proba(texts))
            terms = getattr(router, "top_terms_many", None)
            words = terms(texts, [t[0] for t in teams]) if terms else [router.top_terms(x, t[0]) for x, t in zip(texts, teams)]
    tones: list = [None] * len(texts)
    if models.tone is not None:
        latest = [clip(c[-1]) if c else "" for c in customer_texts]
        tones = _best(models.tone, models.tone.predict_proba(latest))
    versions = dict(models.versions)
    out = {}
    for t, team, tone, team_words in zip(tickets, teams, tones, words):
        out[t.id] = LearnedReading(team=(team[0], round(team[1], 3), tuple(team_words)) if team is not None else None,
                                   tone=(tone[0], round(tone[1], 3)) if tone else None, versions=versions)
    return out


def escalation_ps(models: LearnedModels, texts: Sequence[str], signals: Sequence[Sequence[Signal]],
                  reading: Any = None) -> list[float | None]:
    """``escalation_p`` for a batch, in one call to the model. ``reading`` is the texts as
    ``predict`` read them (its ``shared``): only the signal tokens are read again."""
    if models.escalation is None or "escalate" not in models.escalation.classes or not texts:
        return [None] * len(texts)
    tokens = [signal_tokens(s) for s in signals]
    of = getattr(models.escalation, "predict_proba_of", None)
    if of is not None and reading is not None and hasattr(reading, "extend"):
        rows = of(reading.extend(tokens))
    else:
        rows = models.escalation.predict_proba([t + "\n" + k for t, k in zip(texts, tokens)])
    k = models.escalation.classes.index("escalate")
    return [round(p, 3) for p in rows[:, k].tolist()]


def escalation_p(models: LearnedModels, text: str, signals: Sequence[Signal]) -> float | None:
    """The probability a person would escalate one ticket, from its text and fired signals."""
    return escalation_ps(models, [text], [signals])[0]


def tone_signal(reading: LearnedReading | None) -> Signal | None:
    """A signal when the learned tone of the latest message is negative."""
    if reading is None or reading.tone is None or reading.tone[0] != "negative":
        return None
    label, p = reading.tone
    value = max(0.0, min(1.0, (p - 0.5) * 2))  # below an even chance, no evidence
    if value <= 0:
        return None
    return Signal(name="learned:tone", value=round(value, 3), weight=TONE_WEIGHT, contribution=round(value * TONE_WEIGHT, 2),
                  evidence=(f"p {p:.2f} negative",),
                  detail="A model trained on your team's labels reads the latest message as negative")


def adjust_confidence(confidence: float, escalating: bool, p: float | None) -> tuple[float, str | None]:
    """Move confidence toward agreement with what people would do; say so when they disagree."""
    if p is None:
        return confidence, None
    agree = p if escalating else 1 - p
    adjusted = min(1.0, max(0.05, confidence + ESCALATION_PULL * (agree - 0.5) * 2))
    doubt = None
    if agree < 0.35:
        doubt = (f"people escalated tickets like this {p:.0%} of the time" if not escalating
                 else f"people escalated tickets like this only {p:.0%} of the time")
    return adjusted, doubt


def learned_team(reading: LearnedReading | None, teams: Sequence[str]) -> tuple[str, str] | None:
    """(team, why) when the router is confident and names a configured team."""
    if reading is None or reading.team is None:
        return None
    team, p, words = reading.team
    if p < TEAM_CONFIDENT or team not in teams:
        return None
    why = f"tickets like this went to {team} {p:.0%} of the time" + (f"; words: {', '.join(words)}" if words else "")
    return team, why
