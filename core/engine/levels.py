"""The decision model: urgency apart from destination, two kinds of escalation, and paging.

- **Functional escalation** (``functional``) moves a ticket to more expertise: tier0 self-service,
  tier1 frontline, tier2 subject-matter experts, tier3 engineering. It follows what the ticket is
  about and its history, never the score: complexity markers, a defect or a regression, an
  incident, the trigger categories' floors, and troubleshooting that has not fixed it in time.
- **Hierarchical escalation** (``management``) brings managers in beside whoever works the
  ticket: an SLA breached or about to be, severe or repeated dissatisfaction, a legal or churn
  threat, a key account near renewal with a problem, a policy exception above an agent's limit.
- **Paging** (``page_reason``) interrupts someone now, day or night: incidents only (an outage or
  failure reaching many users, data loss, a security incident in progress, a cross-ticket
  ``incident`` signal). Routing rules may also mark tickets pageable (``page = true``).
- **Urgency** (``urgency``) is the score's recommendation with three corrections: a hard signal
  forces ``hard_recommendation``; tone, account and waiting time alone never make a ticket
  ``immediate`` (a late how-to is overdue, not an emergency); management attention lifts it to at
  least ``escalation.management.recommendation``.

Pure: signals, markers and config in; words a support lead would use out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from deskwatch.core.engine.escalation import EscalationConfig
from deskwatch.core.engine import markers as markers_mod
from deskwatch.core.engine.money import Amount, asks_back
from deskwatch.core.engine.signals.base import SignalContext, hours
from deskwatch.core.engine.signals.sla import pressing_target
from deskwatch.core.model import RECOMMENDATIONS, TIERS, Management, Signal, Ticket
from deskwatch.core.model.timeutil import format_time

_TIER_RANK = {t: i for i, t in enumerate(TIERS)}
_THREATS = (("trigger:legal", "legal threat"), ("trigger:churn", "churn threat"))
# Every word that can start a management marker (manager request, repetition, money, exception).
_SPOKEN = markers_mod.MANAGEMENT_WORDS
INCIDENT_SIGNAL = "incident"  # the cross-ticket incident signal (several customers, one failure)
# Signals that say something is wrong with the product or the service, not only with the mood.
_SUBSTANCE = frozenset({"failure", "data_loss", "security_incident", INCIDENT_SIGNAL, "impact", "loop", "repeat_contact"})
# What a support lead calls each trigger category when it sets the level.
_CATEGORY_WORDS = {
    "security": "a security concern",
    "compliance": "a data-protection or compliance request",
    "refund": "a billing or refund request",
    "billing": "a billing question",
    "outage": "an outage report",
    "technical": "technical complexity",
}


@dataclass(frozen=True)
class Functional:
    tier: str  # one of TIERS
    why: tuple[str, ...]  # reasons for this level, strongest first


def _q(items: Sequence[str], n: int = 2) -> str:
    return ", ".join(f'"{x}"' for x in items[:n])


def by_name(signals: Sequence[Signal]) -> Mapping[str, Signal]:
    out: dict[str, Signal] = {}
    for s in signals:
        out.setdefault(s.name, s)
    return out


def functional(ticket: Ticket, signals: Sequence[Signal], ctx: SignalContext,
               named: Mapping[str, Signal] | None = None) -> Functional:
    """The functional level from content and history (see the module docstring)."""
    esc = ctx.config
    m = ctx.text.markers
    named = by_name(signals) if named is None else named
    # (tier index, why): the why is a function, so only the winning level's words are built.
    found: list[tuple[int, Callable[[], str]]] = []

    def at(tier: str, why: Callable[[], str]) -> None:
        found.append((_TIER_RANK[tier], why))

    if INCIDENT_SIGNAL in named:
        at("tier3", lambda: f"incident: {named[INCIDENT_SIGNAL].detail or 'the same failure reported by several customers'}")
    if "security_incident" in named:
        at("tier3", lambda: f"security incident in progress ({_q([*m.exposure, *m.takeover], 1)})")
    if "data_loss" in named:
        at("tier3", lambda: f"data loss ({_q(m.data_loss)})" + (f" after {_after(m.regression[0])}" if m.regression else ""))
    fail = named.get("failure")
    if fail is not None:
        if fail.hard:
            at("tier3", lambda: fail.detail[0].lower() + fail.detail[1:])
        elif m.regression:
            at("tier3", lambda: f"regression after {_after(m.regression[0])}"
               + (f" ({_q([*m.payments, *m.outage, *m.failure], 1)})" if (m.payments or m.outage or m.failure) else ""))
        elif fail.detail == "A reproducible defect":
            at("tier3", lambda: f"reproducible defect ({_q([r for r in m.repro if r.lower() != 'bug'], 1)})")
        elif m.payments or m.outage:
            at("tier2", lambda: f"{'payments' if m.payments else 'the service'} failing for this customer ({_q([*m.payments, *m.outage], 1)})")
        else:
            strong_repro = [r for r in m.repro if r.lower() != "bug"]  # "bug" alone is a defect to confirm
            if strong_repro:
                at("tier3", lambda: f"reproducible defect ({_q(strong_repro, 1)})")
    elif m.failure and m.repro:
        at("tier2", lambda: f"a defect to confirm ({_q([*m.repro, *m.failure], 2)})")
    for s in signals:
        if not s.category:
            continue
        cat = esc.category(s.category)
        if cat is not None and cat.tier and s.name.startswith("trigger:"):
            at(cat.tier, lambda cat=cat, s=s: f"{_CATEGORY_WORDS.get(cat.name, cat.name.replace('_', ' '))} ({'; '.join(s.evidence[:2])})")
    content = max((t for t, _ in found), default=None)
    # Read only when nothing stronger is known yet: it cannot change a tier2 or tier3 answer.
    if (content is None or content < _TIER_RANK["tier2"]) and m.data_problem:
        at("tier2", lambda: f"a data or export problem ({_q(m.data_problem, 1)})")
        content = _TIER_RANK["tier2"]
    unresolved = _unresolved(ticket, named, ctx)
    if unresolved is not None:
        up = min(len(TIERS) - 1, max(_TIER_RANK["tier2"], (content or _TIER_RANK["tier1"]) + 1))
        found.append((up, lambda: unresolved))
    if not found:
        if m.howto and not (m.failure or m.outage or m.payments or "loop" in named or "repeat_contact" in named):
            return Functional("tier0", (f"a how-to question the help center answers ({_q(m.howto, 1)})",))
        return Functional("tier1", ("frontline can handle it",))
    top = max(t for t, _ in found)
    return Functional(TIERS[top], tuple(why() for t, why in found if t == top))


def _after(regression: str) -> str:
    """ "since your update" -> "your update"; "used to work" stays as written."""
    first, _, rest = regression.partition(" ")
    return rest if first.lower() in ("since", "after", "following", "with") and rest else regression


def _unresolved(ticket: Ticket, named: Mapping[str, Signal], ctx: SignalContext) -> str | None:
    """Troubleshooting has gone on for ``levels.unresolved_hours`` without a fix: the loop signal
    fired (a fix that did not work, or rounds of replies) on a ticket at least that old."""
    loop = named.get("loop")
    if loop is None:
        return None
    age = hours(ticket.created_at, ctx.now)
    if age < ctx.config.levels.unresolved_hours:
        return None
    span = f"{age / 24:.0f} days" if age >= 48 else f"{age:.0f} h"
    return f"not resolved after {span} despite troubleshooting ({loop.evidence[0] if loop.evidence else loop.detail})"


# -- management ---------------------------------------------------------------------------------


def _money(a: Amount, value: float) -> str:
    if not a.currency:
        return f"{value:,.0f}"
    sep = "" if len(a.currency) == 1 else " "
    return f"{a.currency}{sep}{value:,.0f}"


def management(
    ticket: Ticket, signals: Sequence[Signal], ctx: SignalContext, recommendation: str,
    named: Mapping[str, Signal] | None = None,
) -> Management | None:
    """Why managers need to know, or None (see the module docstring)."""
    esc = ctx.config
    ms = esc.management
    m = ctx.text.markers
    named = by_name(signals) if named is None else named
    reasons: list[str] = []
    evidence: list[str] = []

    # The sla signal fires exactly when a target is breached or warning: no signal, nothing to read.
    t = pressing_target(ctx.sla) if "sla" in named else None
    if t is not None and ctx.sla is not None:
        name = t.name.replace("_", " ")
        due = format_time(t.due_at) if t.due_at else "unknown"
        if t.state == "breached":
            reasons.append(f"SLA breached: {name} was due {due} ({ctx.sla.policy})")
            evidence.append(f"{name} {t.elapsed_pct:.0f}% of the target used")
        elif t.elapsed_pct >= ms.sla_about_to_breach:
            reasons.append(f"SLA about to breach: {name} due {due} ({ctx.sla.policy})")
            evidence.append(f"{name} {t.elapsed_pct:.0f}% of the target used")

    # One look at the word set tells whether any of the customer's words can call for a manager.
    spoken = not ctx.text.searchable_words.isdisjoint(_SPOKEN)
    if spoken and m.manager:
        reasons.append("the customer asks for a manager")
        evidence += [f'"{x}"' for x in m.manager[:2]]
    tone = named.get("sentiment")
    repeat = named.get("repeat_contact")
    loop = named.get("loop")
    if spoken and m.repeated:
        reasons.append(f"repeated dissatisfaction ({_q(m.repeated)})")
        evidence += [f'"{x}"' for x in m.repeated[:2]]
    elif repeat is not None and len(repeat.evidence) >= 2 and (tone is not None or loop is not None):
        reasons.append(f"repeated dissatisfaction: {repeat.detail[0].lower() + repeat.detail[1:]}")
        evidence += list(repeat.evidence[:2])
    elif tone is not None and tone.value >= 0.7 and (repeat is not None or loop is not None):
        reasons.append("severe dissatisfaction after earlier contacts")
        evidence += list(tone.evidence[:2])

    conditional = None
    for key, words in _THREATS:
        s = named.get(key)
        if s is not None and not _asked_only(s.evidence, m.text):
            reasons.append(f"{words} ({'; '.join(s.evidence[:2])})")
            evidence += list(s.evidence[:2])
            continue
        if conditional is None:
            conditional = _conditional_threats(m.text, ctx) if _may_threaten(ctx) else {}
        said = conditional.get(key.partition(":")[2])
        if said:
            reasons.append(f"{words}, if it is not resolved ({_q(said)})")
            evidence += [f'"{x}"' for x in said[:2]]

    renewal = _key_account_near_renewal(ticket, ctx, named, recommendation)
    if renewal is not None:
        reasons.append(renewal)

    over = [a for a in m.money if a.value > ms.refund_limit] if spoken and m.money else []
    if over and not asks_back(m.text):
        over = []  # money named, nothing asked back: "we paid $12,000 for the annual plan"
    if over:
        a = max(over, key=lambda a: a.value)
        reasons.append(f"{a.text} {a.kind} exceeds the agent limit of {_money(a, ms.refund_limit)}")
        evidence.append(f'"{a.text}"')
    elif spoken and m.exception and not m.money:
        reasons.append(f"asks for a policy exception ({_q(m.exception, 1)})")
        evidence += [f'"{x}"' for x in m.exception[:1]]

    if not reasons:
        return None
    return Management(tuple(reasons), tuple(dict.fromkeys(evidence)))


# "If this isn't fixed we are switching providers": the negator belongs to the condition, not to
# the threat. The consequence after the condition is read on its own, from its subject on.
_IF_WORDS = frozenset({"if", "unless"})
_CONDITION = re.compile(
    r"(?<![\w'])(?:if|unless)\s+[^.!?\n]{1,100}?(?:,\s*|\s+)(?:then\s+)?(?=(?:we|i|our\s+\w+|my\s+\w+)(?:'\w+)?(?![\w']))",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?\n]")


# "If I cancel my subscription, do I lose my data?": a threat asked about, not made.
_ASKED = re.compile(r"(?<![\w'])(?:if|whether|in\s+case|what\s+happens|suppose|supposing)(?![\w'])", re.IGNORECASE)


def _asked_only(evidence: Sequence[str], text: str) -> bool:
    """Whether every phrase of a threat occurs only inside a question about a condition."""
    if "?" not in text:
        return False
    sentences = [x for x in re.findall(r"[^.!?\n]*[.!?\n]?", text) if x.strip()]
    for e in evidence:
        phrase = e.strip('"').lower()
        for sen in sentences:
            at = sen.lower().find(phrase)
            if at >= 0 and not (sen.rstrip().endswith("?") and _ASKED.search(sen, 0, at)):
                return False
    return True


def _may_threaten(ctx: SignalContext) -> bool:
    """Whether a condition ("if", "unless") and the words of a legal or churn phrase both occur.
    A consequence's words are some of the ticket's, so a phrase that is no candidate in the whole
    ticket cannot match in a consequence: most tickets with an "if" skip the search."""
    words = ctx.text.searchable_words
    if words.isdisjoint(_IF_WORDS):
        return False
    matcher = ctx.config.trigger_matcher
    return any(matcher.names[c] in _THREAT_CATEGORIES for c in matcher.candidates(words))


_THREAT_CATEGORIES = frozenset(key.partition(":")[2] for key, _ in _THREATS)


def _conditional_threats(text: str, ctx: SignalContext) -> dict[str, list[str]]:
    """Threat category -> phrases made as the consequence of a condition ("if this is not fixed
    we are switching providers", "unless you refund it I'm calling my lawyer")."""
    out: dict[str, list[str]] = {}
    wanted = {key.partition(":")[2] for key, _ in _THREATS}
    for m in _CONDITION.finditer(text):
        end = _SENTENCE_END.search(text, m.end())
        for hit in ctx.config.trigger_matcher.find(text[m.end() : end.start() if end else len(text)]):
            if hit.category in wanted and hit.text not in out.setdefault(hit.category, []):
                out[hit.category].append(hit.text)
    return out


def _key_account_near_renewal(
    ticket: Ticket, ctx: SignalContext, named: Mapping[str, Signal], recommendation: str
) -> str | None:
    """A key account renewing soon, with something wrong (a problem, an unhappy customer, low health)."""
    org = ticket.organization
    if org is None or org.renewal_date is None:
        return None
    days = (org.renewal_date - ctx.now.date()).days
    if not 0 <= days <= ctx.config.management.renewal_days:
        return None
    s = ctx.config.account
    importance = max((org.annual_value or 0.0) / s.high_value, s.tier_value(org.tier) or 0.0)
    if importance < 0.8:
        return None
    low_health = org.health is not None and org.health < s.low_health
    trouble = low_health or any(n in named for n in ("sentiment", "loop", "repeat_contact", *(_SUBSTANCE - {"impact"})))
    if not trouble and RECOMMENDATIONS.index(recommendation) < RECOMMENDATIONS.index("priority"):
        return None
    health = f", health {org.health:.2f}" if low_health else ""
    return f"key account near renewal: {org.name or org.id} renews {org.renewal_date.isoformat()} (in {days} days{health})"


# -- paging and urgency -------------------------------------------------------------------------


def page_reason(signals: Sequence[Signal], named: Mapping[str, Signal] | None = None) -> str | None:
    """Why someone must be interrupted now, or None: incidents only."""
    named = by_name(signals) if named is None else named
    if INCIDENT_SIGNAL in named and named[INCIDENT_SIGNAL].value > 0:
        s = named[INCIDENT_SIGNAL]
        return f"incident: {s.detail or 'the same failure reported by several customers'}"
    for name in ("security_incident", "data_loss"):
        if name in named:
            s = named[name]
            return f"{s.detail} ({'; '.join(s.evidence[:2])})"
    fail = named.get("failure")
    if fail is not None and fail.hard:
        return f"{fail.detail} ({'; '.join(fail.evidence[:3])})"
    return None


_REC_RANK = {r: i for i, r in enumerate(RECOMMENDATIONS)}


def _at_least(a: str, b: str) -> str:
    return a if _REC_RANK[a] >= _REC_RANK[b] else b


def urgency(score: float, signals: Sequence[Signal], esc: EscalationConfig, needs_management: bool, paged: bool) -> str:
    """How fast: the score's band, corrected (see the module docstring)."""
    rec = esc.thresholds.recommendation(score)
    hard = any(s.hard for s in signals)
    if rec == "immediate" and not hard and not _substance(signals, esc):
        rec = "priority"
    if hard:
        rec = _at_least(rec, esc.hard_recommendation)
    if needs_management:
        rec = _at_least(rec, esc.management.recommendation)
    if paged:
        rec = "immediate"
    return rec


def _substance(signals: Sequence[Signal], esc: EscalationConfig) -> bool:
    """Whether anything beyond tone, account, waiting time and urgency words points to urgency."""
    routed = esc.routed_categories
    return any(s.name in _SUBSTANCE or (s.category in routed and s.category is not None) for s in signals)
