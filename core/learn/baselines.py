"""What the rules say about the same texts a model is tested on: the bar a model must clear.

Each baseline answers in the model's labels: tone as negative/neutral/positive from the lexicon
and the support cue layer, the team from the routing rules, escalate/no from the engine's
recommendation. Texts become one-message tickets, decided at a fixed time.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Sequence

from deskwatch.core import model
from deskwatch.core.engine import decide_many
from deskwatch.core.engine.nlp import SupportLayer, analyzer_for

# VADER's own convention for its compound score.
NEUTRAL_BAND = 0.05
_NOON = datetime(2026, 1, 14, 12, 0, tzinfo=timezone.utc)  # a Wednesday in business hours


def tone_rules(config: Any):
    analyzer, layer = analyzer_for(config.nlp), SupportLayer(config.nlp)

    def predict(texts: Sequence[str]) -> list[str]:
        out = []
        for text, base in zip(texts, analyzer.score_many(list(texts))):
            s = layer.read(base, text).score
            out.append("negative" if s <= -NEUTRAL_BAND else "positive" if s >= NEUTRAL_BAND else "neutral")
        return out

    return predict


def _tickets(texts: Sequence[str]) -> list[model.Ticket]:
    return [model.ticket_from_dict({"id": f"learn:{i}", "source": "learn", "subject": "", "status": "open",
                                    "created_at": _NOON.isoformat(), "updated_at": _NOON.isoformat(),
                                    "messages": [{"author": "customer", "body": t or "(empty)", "at": _NOON.isoformat()}]})
            for i, t in enumerate(texts)]


def router_rules(config: Any):
    def predict(texts: Sequence[str]) -> list[str]:
        return [d.team or "" for d in decide_many(_tickets(texts), config, _NOON)]

    return predict


def escalation_rules(config: Any):
    def predict(texts: Sequence[str]) -> list[str]:
        return ["escalate" if d.recommendation in ("priority", "immediate") else "no"
                for d in decide_many(_tickets(texts), config, _NOON)]

    return predict


RULES = {"tone": tone_rules, "router": router_rules, "escalation": escalation_rules}
