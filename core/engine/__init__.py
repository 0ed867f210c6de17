"""The escalation engine (pure: no I/O, no clock reads). Tickets and context in, decisions out.

``decide`` holds the pipeline (sla -> signals -> score -> verdict -> confidence -> route);
``signals/`` one module per signal family; ``text``, ``nlp`` and ``vader`` read customer text;
``escalation`` holds weights, thresholds and triggers.
"""

from deskwatch.core.engine.decide import (  # noqa: F401  (the engine's public entry points)
    DecisionContext,
    Verdict,
    confidence_step,
    decide,
    decide_many,
    gc_paused,
    reasons,
    route_step,
    score_of,
    score_step,
    signals_step,
    sla_step,
    verdict_step,
)
