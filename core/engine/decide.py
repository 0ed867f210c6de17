"""The escalation engine: a ticket and its context in, an explained Decision out.

``decide`` is a short pipeline of named steps::

    sla -> signals -> score -> verdict (urgency, functional tier, management, page) -> route -> confidence

Pure: no I/O, no clock (``now`` is an argument), identical input gives identical output.
``decide_many`` scores a batch, sharing analyzed text and using the batch as history.

Score. Every signal contributes ``value * weight`` points; the sum C saturates into 0..100 as
``score = 100 * (1 - exp(-C / saturation))``: the first points count almost linearly (C = 10
gives 18 with the default saturation 50), piling on signals approaches 100 without passing
it, and no single family can dominate the scale alone.
"""

from __future__ import annotations

import gc
import math
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Iterable, Iterator, Mapping, Sequence

from deskwatch.core.policy import routing
from deskwatch.core.policy import sla as sla_mod
from deskwatch.core.engine import learned, learned_hold
from deskwatch.core.engine.escalation import EscalationConfig
from deskwatch.core.engine.learned import LearnedModels
from deskwatch.core.engine.history import HistoryView, MemoryHistory, NoHistory
from deskwatch.core.engine import levels
from deskwatch.core.model import Decision, LearnedReading, Management, Route, Signal, SlaStatus, Ticket
from deskwatch.core.engine.nlp import Analyzer, NlpConfig, SupportLayer, analyzer_for
from deskwatch.core.engine.signals import SIGNALS, IncidentIndex, SignalContext, SignalFunction, TextCache
from deskwatch.core.engine.signals.impact import OUTAGE, customer_key

EMOTIONAL = ("sentiment", "trajectory", "learned:tone")  # signals about tone, not substance
ESCALATING = ("priority", "immediate")
NEAR_THRESHOLD = 5.0  # score points from a threshold where the recommendation is a coin toss


@dataclass(frozen=True)
class DecisionContext:
    """What the engine knows besides the ticket. Callers fill in what they have."""

    history: HistoryView = field(default_factory=NoHistory)
    sla: SlaStatus | None = None  # computed by the SLA module (core/policy/sla.py) before deciding
    # Routing state, consumed by the route step once routing is wired in (core/daemon/pipeline.py fills
    # these from the store): a routing.LoadSnapshot and the ticket's chains.EscalationState.
    load: Any = None
    chain_state: Any = None
    incidents: IncidentIndex = field(default_factory=IncidentIndex)  # outage reports across customers
    analyzer: Analyzer | None = None  # overrides [nlp] analyzer (tests, plugins)
    # Signal functions from plugins (plugins.signal_functions()), run after the built-in ones;
    # passed in so the engine itself never loads plugins.
    extra_signals: tuple[SignalFunction, ...] = ()
    texts: TextCache | None = field(default=None, compare=False)  # analyzed text shared across a batch
    # Active learned models (loaded outside by deskwatch.core.learn) and their team/tone readings
    # by ticket id, computed for the whole batch at once (learned.predict).
    models: LearnedModels | None = field(default=None, compare=False)
    learned: Mapping[str, LearnedReading] = field(default_factory=dict, compare=False)
    defer_escalation: bool = field(default=False, compare=False)  # set by decide_many: one batch call


@dataclass(frozen=True)
class Verdict:
    """The decision before routing: how fast, which functional level, what management and
    paging need (core/engine/levels.py)."""

    recommendation: str
    tier: str
    team: str | None
    why: tuple[str, ...] = ()  # why this functional level
    management: Management | None = None
    page_reason: str | None = None  # an incident: someone is interrupted now


def _sections(config: Any) -> tuple[EscalationConfig, NlpConfig]:
    if isinstance(config, EscalationConfig):
        return config, NlpConfig()
    esc = getattr(config, "escalation", None)
    if not isinstance(esc, EscalationConfig):
        raise TypeError("decide() needs a loaded Config (deskwatch.core.config.load) or an EscalationConfig")
    nlp = getattr(config, "nlp", None)
    return esc, nlp if isinstance(nlp, NlpConfig) else NlpConfig()


def _texts(esc: EscalationConfig, nlp: NlpConfig, context: DecisionContext) -> TextCache:
    if context.texts is not None:
        return context.texts
    return TextCache(esc, context.analyzer or analyzer_for(nlp), SupportLayer(nlp))


# -- the pipeline -----------------------------------------------------------------------------


def decide(ticket: Ticket, config: Any, now: datetime, context: DecisionContext = DecisionContext()) -> Decision:
    """Decide whether and where to escalate one ticket. ``config`` is a loaded Config."""
    esc, nlp = _sections(config)
    return _decide(ticket, config, esc, now, context, _texts(esc, nlp, context), context.load)


def _decide(
    ticket: Ticket, config: Any, esc: EscalationConfig, now: datetime, context: DecisionContext, texts: TextCache, load: Any
) -> Decision:
    sla = sla_step(ticket, config, now, context)
    ctx = SignalContext(esc, now, texts.get(ticket), texts, context.history, sla, context.incidents)
    signals = signals_step(ticket, ctx, context.extra_signals)
    reading = None
    if context.models:
        signals, reading = _learned_signals(ticket, ctx, context, signals)
    score = score_step(signals, esc)
    verdict = verdict_step(ticket, score, signals, ctx)
    held = None
    if reading is not None:
        held = learned_hold.holds_back(verdict.recommendation, signals, verdict.page_reason is not None, reading.escalation)
        if held is not None:
            verdict = replace(verdict, recommendation="monitor")
    # Routing reads the verdict, so the Decision is built once, with its route, rather than
    # built and then copied (dataclasses.replace costs as much as a signal).
    shown = round(score, 2)
    route = _route(ticket, config, now, load, context.chain_state, shown, verdict.recommendation, verdict.tier, signals,
                   page_reason=verdict.page_reason, management=verdict.management is not None, learned_reading=reading)
    verdict = after_route(verdict, route)
    confidence, doubts = confidence_step(score, signals, verdict, ctx)
    if reading is not None and reading.escalation is not None:
        confidence, doubt = learned.adjust_confidence(confidence, verdict.recommendation in ESCALATING, reading.escalation)
        doubts = doubts + ((doubt,) if doubt and held is None else ()) + ((held,) if held else ())
    return Decision(
        ticket_id=ticket.id,
        score=shown,
        recommendation=verdict.recommendation,
        tier=route.tier if route is not None else verdict.tier,
        team=route.team if route is not None else verdict.team,
        confidence=round(confidence, 3),
        needs_review=confidence < esc.review_below,
        signals=signals,
        reasons=moves(verdict, route) + reasons(signals, esc.top_reasons, doubts),
        decided_at=now,
        sla=sla,
        route=route,
        tones=tuple(round(r.score, 2) for r in ctx.text.readings),
        management=verdict.management,
        page=verdict.page_reason is not None,
        page_reason=verdict.page_reason,
        learned=reading,
    )


def _learned_signals(
    ticket: Ticket, ctx: SignalContext, context: DecisionContext, signals: tuple[Signal, ...]
) -> tuple[tuple[Signal, ...], LearnedReading]:
    """The learned tone as a signal, and the reading with the escalation probability, which
    needs the signals (the escalation model reads them as tokens)."""
    models = context.models
    assert models is not None
    reading = context.learned.get(ticket.id)
    if reading is None:  # a single decide() call: predict for this ticket alone
        reading = learned.predict(models, [ticket], [ctx.text.customer])[ticket.id]
    tone = learned.tone_signal(reading)
    if tone is not None:
        signals = tuple(sorted((*signals, tone), key=lambda s: (-s.contribution, s.name)))
    if context.defer_escalation or reading.escalation is not None:
        # decide_many asks the escalation model once for the whole batch (and hands its answer
        # back when it decides a held-back escalation again)
        return signals, reading
    p = learned.escalation_p(models, learned.ticket_text(ticket, ctx.text.customer), signals)
    return signals, replace(reading, escalation=p)


def decide_many(
    tickets: Sequence[Ticket],
    config: Any,
    now: datetime,
    history: HistoryView | None = None,
    extra_signals: Sequence[SignalFunction] = (),
    models: LearnedModels | None = None,
) -> list[Decision]:
    """Decide a batch, in order. History defaults to the batch itself (MemoryHistory)."""
    esc, nlp = _sections(config)
    texts = TextCache(esc, analyzer_for(nlp), SupportLayer(nlp))
    texts.read_ahead(tickets)
    with gc_paused():
        if history is None:
            history = MemoryHistory(tickets)
        incidents = IncidentIndex.build(
            (t.created_at, customer_key(t), t.id) for t in tickets if OUTAGE in texts.get(t).hits
        )
        shared: dict[str, Any] = {}  # the ticket texts as the models read them, again for escalation
        readings = learned.predict(models, tickets, [texts.get(t).customer for t in tickets], shared) if models else {}
        context = DecisionContext(history=history, incidents=incidents, texts=texts, extra_signals=tuple(extra_signals),
                                  models=models or None, learned=readings, defer_escalation=bool(models))
        load = routing.LoadSnapshot()
        out = []
        for t in tickets:
            d = _decide(t, config, esc, now, context, texts, load)
            if d.route is not None:
                # Count each routed ticket so the batch spreads over agents as a live queue would.
                load = load.assign(d.route.team, d.route.agent)
            out.append(d)
        if models and models.escalation is not None:
            out = _with_escalation(out, shared, models, esc)
            # An escalation the model holds back is decided again with its probability known,
            # so its route and reasons are those of the held-back decision.
            # The batch's readings carry the probability already: the signals decided again are
            # the same, so the model is not asked again one ticket at a time.
            again = replace(context, defer_escalation=False, learned={d.ticket_id: d.learned for d in out})
            for i, d in enumerate(out):
                if d.learned is not None and learned_hold.holds_back(d.recommendation, d.signals, d.page, d.learned.escalation):
                    out[i] = _decide(tickets[i], config, esc, now, again, texts, routing.LoadSnapshot())
    return out


def _with_escalation(decisions: list[Decision], shared: Mapping[str, Any], models: LearnedModels,
                     esc: EscalationConfig) -> list[Decision]:
    """The escalation model's probability for a whole batch in one call, and the confidence it
    moves (the same adjustment ``_decide`` makes one ticket at a time)."""
    ps = learned.escalation_ps(models, shared["texts"], [d.signals for d in decisions], shared.get("reading"))
    out = []
    for d, p in zip(decisions, ps):
        if p is None or d.learned is None:
            out.append(d)
            continue
        confidence, doubt = learned.adjust_confidence(d.confidence, d.recommendation in ESCALATING, p)
        confidence = round(confidence, 3)
        out.append(replace(d, confidence=confidence, needs_review=confidence < esc.review_below,
                           reasons=d.reasons + ((doubt,) if doubt else ()), learned=replace(d.learned, escalation=p)))
    return out


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a batch, restoring its previous state after.

    Deciding allocates many short-lived objects and no reference cycles (reference counting
    frees them all), yet each allocation burst triggers collections that walk every live
    object, the whole batch included: about a sixth of a large batch's time (bench/score.py).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def sla_step(ticket: Ticket, config: Any, now: datetime, context: DecisionContext) -> SlaStatus | None:
    """The SLA status: the one given in the context, else computed from ``[sla]`` (core/policy/sla.py)."""
    if context.sla is not None:
        return context.sla
    policies = getattr(config, "sla", None)
    if not isinstance(policies, sla_mod.SlaConfig):
        return None
    return sla_mod.evaluate(ticket, policies, now)


def signals_step(ticket: Ticket, ctx: SignalContext, extra: Sequence[SignalFunction] = ()) -> tuple[Signal, ...]:
    """Run every signal family; keep what fired, strongest first (ties by name, for stable output)."""
    fired: list[Signal] = []
    for fn in (*SIGNALS, *extra):
        result = fn(ticket, ctx)
        if result is None:
            continue
        for s in (result,) if isinstance(result, Signal) else result:
            if not isinstance(s, Signal):
                raise TypeError(f"signal function {getattr(fn, '__name__', fn)!r} returned {type(s).__name__}, not a Signal")
            if s.value > 0 or s.hard:
                fired.append(s)
    fired.sort(key=lambda s: (-s.contribution, s.name))
    return tuple(fired)


def score_of(total: float, saturation: float) -> float:
    """Saturating sum: 0 points -> 0, ``saturation`` points -> 63.2, never above 100."""
    return 100.0 * (1.0 - math.exp(-max(0.0, total) / saturation))


def score_step(signals: Iterable[Signal], esc: EscalationConfig) -> float:
    return score_of(sum(s.contribution for s in signals), esc.saturation)


def verdict_step(ticket: Ticket, score: float, signals: Sequence[Signal], ctx: SignalContext) -> Verdict:
    """Urgency, functional level, management and paging (core/engine/levels.py); the team is
    the strongest trigger category that names one (routing may choose another)."""
    esc = ctx.config
    named = levels.by_name(signals)
    functional = levels.functional(ticket, signals, ctx, named)
    management = levels.management(ticket, signals, ctx, esc.thresholds.recommendation(score), named)
    page = levels.page_reason(signals, named)
    rec = levels.urgency(score, signals, esc, management is not None, page is not None)
    return Verdict(rec, functional.tier, _team(signals, esc) or esc.default_team, functional.why, management, page)


def _team(signals: Sequence[Signal], esc: EscalationConfig) -> str | None:
    """The team of the first category signal that names one: hard signals first, then by
    contribution. Signals come sorted by (-contribution, name), so one pass in that order,
    keeping the first soft match in case no hard one follows, gives what sorting by
    (not hard, -contribution, name) would, without sorting per ticket."""
    soft = None
    for s in signals:
        if not s.category:
            continue
        cat = esc.category(s.category)
        if cat is not None and cat.team:
            if s.hard:
                return cat.team
            if soft is None:
                soft = cat.team
    return soft


def after_route(verdict: Verdict, route: Route | None) -> Verdict:
    """The verdict completed by the route: a rule that pages, a chain that reached management."""
    if route is None:
        return verdict
    page, management = verdict.page_reason, verdict.management
    if route.page and page is None:
        page = next((p for p in route.reason.split("; ") if "pageable" in p), "a routing rule marks it pageable")
    if route.management and management is None:
        management = Management(("the escalation chain reached management without an acknowledgment",))
    if page is verdict.page_reason and management is verdict.management:
        return verdict
    rec = "immediate" if page is not None else verdict.recommendation
    return replace(verdict, recommendation=rec, page_reason=page, management=management)


def moves(verdict: Verdict, route: Route | None) -> tuple[str, ...]:
    """The moves made, in a support lead's words: functional level, management, page."""
    team = route.team if route is not None else verdict.team
    tier = route.tier if route is not None else verdict.tier
    why = ", ".join(verdict.why)
    if tier in ("tier2", "tier3"):
        lines = [f"Functional escalation to {tier} {team}: {why}"]
    elif tier == "tier0":
        lines = [f"Self-service (tier0), {team} answers: {why}"]
    else:
        lines = [f"Stays with tier1 {team}: {why}"]
    if verdict.management is not None:
        to = f" ({route.management})" if route is not None and route.management else ""
        lines.append(f"Management attention{to}: {'; '.join(verdict.management.reasons)}")
    if verdict.page_reason is not None:
        who = f"{route.agent}, on call for {route.team}" if route is not None and route.on_call else (team or "the team")
        lines.append(f"Page now ({who}): {verdict.page_reason}")
    return tuple(lines)


def confidence_step(
    score: float, signals: Sequence[Signal], verdict: Verdict, ctx: SignalContext
) -> tuple[float, tuple[str, ...]]:
    """1.0 minus penalties for: a score near a threshold, a decision resting on one signal,
    a score carried by tone alone (signals disagree), and little customer text to read."""
    esc = ctx.config
    penalties: list[tuple[float, str]] = []
    hard = any(s.hard for s in signals)
    t = esc.thresholds
    name, nearest = min(
        (("monitor", t.monitor), ("priority", t.priority), ("immediate", t.immediate)),
        key=lambda x: (abs(score - x[1]), x[0]),
    )
    distance = abs(score - nearest)
    if distance < NEAR_THRESHOLD and not hard:
        penalties.append((0.3 * (1 - distance / NEAR_THRESHOLD), f"score {score:.0f} is near the {name} threshold ({nearest:g})"))
    total = sum(s.contribution for s in signals)
    emotional = sum(s.contribution for s in signals if s.name in EMOTIONAL)
    if verdict.recommendation != "none" and not hard:
        if len([s for s in signals if s.contribution >= 1.0]) == 1:
            penalties.append((0.2, "one signal carries the decision"))
        if total > 0 and emotional / total > 0.6:
            penalties.append((0.25, "the tone is upset but little else points to urgency"))
    if ctx.text.word_count < 4:
        penalties.append((0.15, "the customer wrote very little"))
    confidence = max(0.05, 1.0 - sum(p for p, _ in penalties))
    return confidence, tuple(why for _, why in penalties)


def reasons(signals: Sequence[Signal], top: int, doubts: Sequence[str] = ()) -> tuple[str, ...]:
    """One line per top signal with its evidence (hard triggers always listed), then doubts."""
    ordered = sorted(signals, key=lambda s: (not s.hard, -s.contribution, s.name))
    lines = []
    for s in ordered:
        if len(lines) >= top and not s.hard:
            break
        if s.contribution <= 0 and not s.hard:
            continue
        ev = "; ".join(s.evidence[:3])
        lines.append(f"{s.detail} ({ev})" if ev else s.detail)
    lines += [f"low confidence: {d}" for d in doubts]
    return tuple(lines)


def route_step(decision: Decision, ticket: Ticket, config: Any, now: datetime, context: DecisionContext) -> Decision:
    """Where the ticket goes (core/policy/routing.py): functional rules, the tier hierarchy, the on-call
    person when it pages, management beside it, the progressive chain. The route's tier and team
    become the decision's."""
    route = _route(ticket, config, now, context.load, context.chain_state, decision.score,
                   decision.recommendation, decision.tier, decision.signals,
                   page_reason=decision.page_reason, management=decision.management is not None)
    if route is None:
        return decision
    verdict = Verdict(decision.recommendation, decision.tier, decision.team, (), decision.management, decision.page_reason)
    done = after_route(verdict, route)
    return replace(decision, route=route, tier=route.tier, team=route.team, recommendation=done.recommendation,
                   management=done.management, page=done.page_reason is not None, page_reason=done.page_reason)


def _route(
    ticket: Ticket,
    config: Any,
    now: datetime,
    load: Any,
    chain_state: Any,
    score: float,
    recommendation: str,
    tier: str,
    signals: Sequence[Signal],
    *,
    page_reason: str | None = None,
    management: bool = False,
    learned_reading: LearnedReading | None = None,
) -> routing.Route | None:
    rules = getattr(config, "routing", None)
    if not isinstance(rules, routing.RoutingConfig) or not rules.teams:
        return None
    policies = getattr(config, "sla", None)
    # The calendar remembers its last answer, so asking for every ticket of a batch is cheap.
    in_hours = sla_mod.in_business_hours(policies, now) if isinstance(policies, sla_mod.SlaConfig) else True
    suggested = learned.learned_team(learned_reading, rules.team_names) if learned_reading is not None else None
    request = routing.RouteRequest(ticket, score, recommendation, tier, routing.fired_categories(signals), in_hours,
                                   page=page_reason is not None, page_reason=page_reason, management=management,
                                   suggested_team=suggested)
    if not isinstance(load, routing.LoadSnapshot):
        load = routing.LoadSnapshot()
    return routing.route(request, rules, load, now, chain_state)
