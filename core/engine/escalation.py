"""The ``escalation`` config section: weights, thresholds, trigger categories, tier/team mapping.

Owned by the engine (core/engine/decide.py, core/engine/signals/). ``DEFAULTS`` is the TOML shape ``deskwatch
init`` writes; ``parse`` turns a merged section into ``EscalationConfig`` with the phrase
matchers compiled once, so scoring a ticket never parses or compiles anything. The defaults
suit a B2B support team; docs/engine.md explains every key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

from deskwatch.core.model import RECOMMENDATIONS, TIERS
from deskwatch.core.model.settings import Section
from deskwatch.core.engine.text import PhraseMatcher

SIGNAL_WEIGHTS = (
    "sentiment", "trajectory", "repeat_contact", "loop", "account", "impact", "age", "sla",
    "failure", "data_loss", "security_incident",
)

DEFAULT_TRIGGERS: dict[str, dict[str, Any]] = {
    "security": {
        "weight": 40.0,
        "hard": True,
        "team": "Security",
        "tier": "tier2",
        "phrases": [
            "security issue", "security problem", "security incident", "security vulnerability", "vulnerability",
            "data breach", "security breach", "hacked", "compromised", "unauthorized access", "unauthorised access",
            "phishing", "malware", "ransomware", "leaked", "exploit", "xss", "sql injection", "cve",
            "account takeover", "credentials exposed", "someone else's data",
            "suspicious login", "suspicious logins", "suspicious activity", "unrecognized login",
            "unrecognised login", "unauthorized login", "unauthorised login", "logins from unknown",
        ],
    },
    "compliance": {
        "weight": 35.0,
        "hard": True,
        "team": "Compliance",
        "tier": "tier2",
        "phrases": [
            "gdpr", "right to be forgotten", "right to erasure", "data subject access request", "subject access request",
            "dsar", "data protection officer", "dpo", "delete all my data", "delete my personal data",
            "delete our personal data", "erase my data", "erase our data",
            "hipaa", "ccpa", "data processing agreement", "dpa", "article 15", "article 17", "data protection authority",
            "compliance audit", "regulator",
        ],
    },
    "legal": {
        "weight": 35.0,
        "hard": False,
        "team": "",
        "tier": "",
        "phrases": [
            "legal proceedings", "legal steps", "suing", "we will sue", "i will sue", "going to sue", "court",
            "tribunal", "ombudsman", "legal action", "lawsuit", "sue you", "sue your company", "take you to court",
            "litigation", "solicitor", "breach of contract", "cease and desist", "subpoena", "small claims",
            "consumer protection", "call my lawyer", "calling my lawyer", "contact my lawyer",
            "contacting my lawyer", "speak to my lawyer", "speaking to my lawyer", "talk to my lawyer",
            "talking to my lawyer", "consult my lawyer", "consulting my lawyer", "involve my lawyer",
            "hear from my lawyer", "my lawyer will", "my lawyer is going to", "my attorney will",
            "contact my attorney", "hear from my attorney", "my solicitor will", "contact my solicitor",
            "lawyers will be in touch", "lawyer will be in touch", "attorneys will be in touch",
            "attorney will be in touch", "legal team will be in touch", "legal department will be in touch",
            "counsel will be in touch", "hear from our lawyers", "hear from our lawyer", "hear from our attorneys",
            "hear from our legal team", "hear from our legal department", "hear from our counsel",
            "contact our lawyers", "contacting our lawyers", "call our lawyers", "calling our lawyers",
            "speak to our lawyers", "speaking to our lawyers", "talk to our lawyers", "talking to our lawyers",
            "consult our lawyers", "consulting our lawyers", "involve our lawyers", "involving our lawyers",
            "involve our legal team", "involving our legal team", "involve our legal department", "involve legal",
            "get our lawyers involved", "getting our lawyers involved", "get legal involved",
            "getting legal involved", "our lawyers involved", "our legal team involved", "hand this to our lawyers",
            "hand this over to our lawyers", "handing this to our lawyers", "handing this over to our lawyers",
            "hand this over to our legal team", "handing this over to our legal team", "pass this to our lawyers",
            "passing this to our lawyers", "pass this on to our legal team", "passing this on to our legal team",
            "refer this to our lawyers", "referring this to our lawyers", "refer this to our legal team",
            "forward this to our lawyers", "forwarding this to our lawyers", "escalate this to our legal team",
            "escalating this to our legal team", "escalate this to our lawyers", "escalating this to our lawyers",
            "take legal action", "taking legal action", "pursue legal", "pursuing legal",
            "lawyers will be contacting", "lawyer will be contacting", "attorneys will be contacting",
            "attorney will be contacting", "legal team will be contacting", "lawyers will contact",
            "attorneys will contact", "lawyer will contact", "legal team will contact", "lawyers will be in contact",
            "attorneys will be in contact", "seek legal advice", "seeking legal advice", "legal recourse",
            "see you in court",
        ],
    },
    "churn": {
        "weight": 30.0,
        "hard": False,
        "team": "",
        "tier": "",
        "phrases": [
            "cancelling our subscription", "canceling our subscription", "cancelling our contract",
            "canceling our contract", "cancelling our account", "canceling our account", "not renewing",
            "won't be renewing", "will not be renewing", "not going to renew", "do not intend to renew",
            "don't intend to renew", "reconsidering our renewal", "reconsider our renewal",
            "terminate our subscription", "end our contract", "ending our contract", "switch providers",
            "switching providers", "switch vendors", "switching vendors", "find another vendor",
            "find another provider", "looking elsewhere", "look elsewhere", "moving to a competitor",
            "move to a competitor", "leave your platform", "leaving your platform", "take our business",
            "cancel our subscription", "cancel my subscription", "cancel our contract", "cancel the contract",
            "cancel our account", "cancel my account", "terminate our contract", "terminate the contract",
            "switch to a competitor", "switching to another", "moving to another provider",
            "looking at alternatives", "evaluating alternatives", "not renew", "won't renew", "will not renew",
            "leave your service", "take our business elsewhere", "moving to your competitor",
            "switching to your competitor", "switch to your competitor", "move to your competitor",
            "going with your competitor", "going with a competitor", "go with your competitor",
            "signed with your competitor", "signed with a competitor", "signed with another",
            "moving our business to", "taking our business to", "moving our account to", "moving away from you",
            "moving away from your", "we're moving to", "we are moving to", "we will be moving to",
            "we'll be moving to", "we're switching to", "we are switching to", "we will be switching to",
            "we'll be switching to", "decided to move to", "decided to switch", "decided to leave",
            "decided to cancel", "we're leaving", "we are leaving", "we will be leaving", "we'll be leaving",
            "cancelling with you", "canceling with you", "cancel our plan", "cancelling our plan",
            "canceling our plan", "cancel the subscription",
        ],
    },
    "outage": {
        "weight": 30.0,
        "hard": False,
        "team": "Technical",
        "tier": "tier2",
        "phrases": [
            "outage", "is down", "are down", "went down", "service down", "site down", "production down",
            "production is down", "not loading", "cannot log in", "can't log in", "unable to log in", "nobody can log in",
            "no one can log in", "502", "503", "500 error", "bad gateway", "service unavailable",
            "completely broken", "stopped working", "not responding", "data loss", "lost data",
        ],
    },
    "refund": {
        "weight": 20.0,
        "hard": False,
        "team": "Billing",
        "tier": "tier2",
        "phrases": [
            "refund", "refunded", "money back", "chargeback", "charged twice", "double charged", "double charge",
            "duplicate charge", "charged double", "billed twice", "double billed", "overcharged", "overcharge",
            "credit note", "service credit", "account credit", "sla credit", "goodwill credit", "a credit of",
            "credit us", "credit our account", "dispute the charge", "billing error", "policy exception",
            "make an exception", "compensation", "reimburse", "charge back", "charged back", "charging back",
            "charge it back", "reimbursed", "reimbursement", "reimbursing", "refunding", "pay us back", "paid back",
            "we never used", "we've never used", "we have never used", "we never ordered", "never signed up for",
            "never authorized", "never authorised", "unauthorized charge", "unauthorised charge",
            "charged after we cancelled", "charged after we canceled", "billed after we cancelled",
            "billed after we canceled", "still being charged", "still being billed", "wrongly charged",
            "wrongful charge", "wrongfully charged", "incorrectly charged", "charged by mistake",
        ],
    },
    "technical": {
        "weight": 15.0,
        "hard": False,
        "team": "Technical",
        "tier": "tier2",
        "phrases": [
            "api", "webhook", "sso", "saml", "oauth", "integration", "stack trace", "exception thrown", "error code",
            "database", "migration", "latency", "rate limit", "certificate", "dns", "memory leak", "crash",
            "timeout", "race condition", "regression", "sdk", "endpoint",
        ],
    },
    "urgency": {
        "weight": 10.0,
        "hard": False,
        "team": "",
        "tier": "",
        "phrases": ["urgent", "urgently", "asap", "as soon as possible", "emergency", "critical", "immediately", "blocker"],
    },
}

DEFAULT_FAILURE_PHRASES = [
    "didn't work", "did not work", "doesn't work", "does not work", "still broken", "still not working",
    "still doesn't", "still does not", "still failing", "still happening", "still the same", "same error",
    "same problem", "same issue", "no change", "not fixed", "didn't help", "did not help", "doesn't help",
    "tried that", "already tried", "still get", "still getting", "still seeing",
]

DEFAULT_IMPACT_PHRASES = [
    "all our users", "all of our users", "all users", "all our customers", "all of our customers",
    "affects everyone", "everyone in our", "everyone at our", "for everyone", "whole team", "entire team", "whole company", "entire company", "company-wide", "all employees",
    "nobody can", "no one can", "none of our users", "none of our customers", "all locations", "all stores",
]

DEFAULTS: dict[str, Any] = {
    "saturation": 50.0,
    "review_below": 0.6,
    "hard_recommendation": "immediate",
    "default_team": "Support",
    "top_reasons": 4,
    "weights": {
        "sentiment": 15.0,
        "trajectory": 10.0,
        "repeat_contact": 25.0,
        "loop": 20.0,
        "account": 25.0,
        "impact": 35.0,
        "age": 15.0,
        "sla": 35.0,
        "failure": 35.0,
        "data_loss": 40.0,
        "security_incident": 40.0,
    },
    "thresholds": {"monitor": 25.0, "priority": 45.0, "immediate": 70.0},
    "sentiment": {"neutral": 0.05, "trajectory_min_drop": 0.3},
    "repeat": {"window_days": 14, "min_overlap": 0.4},
    "loop": {"min_exchanges": 3, "failure_phrases": list(DEFAULT_FAILURE_PHRASES)},
    "account": {
        "high_value": 100000.0,
        "renewal_days": 60,
        "low_health": 0.5,
        "tiers": {"enterprise": 1.0, "premium": 0.8, "business": 0.6, "professional": 0.4, "pro": 0.4,
                  "standard": 0.2, "starter": 0.1, "free": 0.0},
    },
    "impact": {
        "users_for_max": 100,
        "phrases": list(DEFAULT_IMPACT_PHRASES),
        "phrase_value": 0.7,
        "outage_window_hours": 6.0,
        "outage_orgs_for_max": 3,
        "users_for_incident": 20,
    },
    "levels": {"unresolved_hours": 24.0},
    "management": {
        "refund_limit": 500.0,
        "sla_about_to_breach": 90.0,
        "recommendation": "priority",
        "renewal_days": 60,
    },
    "age": {"hours_for_max": 72.0, "waiting_hours_for_max": 24.0},
    "triggers": {k: {**v, "phrases": list(v["phrases"])} for k, v in DEFAULT_TRIGGERS.items()},
}

# -- cross-ticket incidents (signals/incident.py) ---------------------------------------------
# Kept as one block (defaults, settings, parsing) so it merges apart from the rest of the section.
DEFAULTS["incident"] = {
    "window_minutes": 60,  # the reports of one incident fall within this many minutes
    "min_tickets": 3,  # tickets reporting it, this one included
    "min_organizations": 2,  # distinct organizations (or requesters, without one) among them
    "active_hours": 2.0,  # a report older than this before now is no longer a live incident
    "weight": 65.0,  # points when it fires: alone past the immediate threshold (70) with saturation 50
}


@dataclass(frozen=True)
class IncidentSettings:
    window_minutes: int = 60
    min_tickets: int = 3
    min_organizations: int = 2
    active_hours: float = 2.0
    weight: float = 65.0


def parse_incident(section: Section) -> IncidentSettings:
    """The ``[escalation.incident]`` table; errors name the key."""
    s, d = section.section("incident", DEFAULTS["incident"]), DEFAULTS["incident"]
    out = IncidentSettings(
        window_minutes=s.integer("window_minutes", d["window_minutes"], min=1, max=24 * 60),
        min_tickets=s.integer("min_tickets", d["min_tickets"], min=2),
        min_organizations=s.integer("min_organizations", d["min_organizations"], min=1),
        active_hours=s.number("active_hours", d["active_hours"], min=0),
        weight=s.number("weight", d["weight"], min=0),
    )
    s.check_unknown(d)
    if out.min_organizations > out.min_tickets:
        raise s.error("min_organizations", f"is {out.min_organizations}, more than min_tickets ({out.min_tickets}); "
                                           "each organization needs a ticket, so lower it or raise min_tickets")
    return out


@dataclass(frozen=True)
class TriggerCategory:
    name: str
    phrases: tuple[str, ...]
    weight: float
    hard: bool = False
    team: str | None = None  # team that owns tickets of this category
    tier: str | None = None  # the lowest tier a ticket of this category goes to


@dataclass(frozen=True)
class Weights:
    sentiment: float
    trajectory: float
    repeat_contact: float
    loop: float
    account: float
    impact: float
    age: float
    sla: float
    failure: float
    data_loss: float
    security_incident: float


@dataclass(frozen=True)
class Thresholds:
    monitor: float
    priority: float
    immediate: float

    def recommendation(self, score: float) -> str:
        if score >= self.immediate:
            return "immediate"
        if score >= self.priority:
            return "priority"
        if score >= self.monitor:
            return "monitor"
        return "none"


@dataclass(frozen=True)
class SentimentSettings:
    neutral: float
    trajectory_min_drop: float


@dataclass(frozen=True)
class RepeatSettings:
    window_days: int
    min_overlap: float


@dataclass(frozen=True)
class LoopSettings:
    min_exchanges: int
    failure_phrases: tuple[str, ...]
    matcher: PhraseMatcher = field(compare=False, repr=False, hash=False, default=None)  # type: ignore[assignment]


@dataclass(frozen=True)
class AccountSettings:
    high_value: float
    renewal_days: int
    low_health: float
    tiers: tuple[tuple[str, float], ...]

    def tier_value(self, tier: str | None) -> float | None:
        if not tier:
            return None
        return dict(self.tiers).get(tier.strip().lower())


@dataclass(frozen=True)
class ImpactSettings:
    users_for_max: int
    phrases: tuple[str, ...]
    phrase_value: float
    outage_window_hours: float
    outage_orgs_for_max: int
    users_for_incident: int
    matcher: PhraseMatcher = field(compare=False, repr=False, hash=False, default=None)  # type: ignore[assignment]


@dataclass(frozen=True)
class LevelSettings:
    unresolved_hours: float  # troubleshooting this long without a fix moves a ticket up a level


@dataclass(frozen=True)
class ManagementSettings:
    refund_limit: float  # refunds, credits, discounts above this need a manager (any currency)
    sla_about_to_breach: float  # % of an SLA target used from which management hears about it
    recommendation: str  # the least urgency of a ticket that needs management
    renewal_days: int  # a key account renewing within this many days is "near renewal"


@dataclass(frozen=True)
class AgeSettings:
    hours_for_max: float
    waiting_hours_for_max: float


@dataclass(frozen=True)
class EscalationConfig:
    saturation: float
    review_below: float
    hard_recommendation: str
    default_team: str
    top_reasons: int
    weights: Weights
    thresholds: Thresholds
    sentiment: SentimentSettings
    repeat: RepeatSettings
    loop: LoopSettings
    account: AccountSettings
    impact: ImpactSettings
    age: AgeSettings
    levels: LevelSettings
    management: ManagementSettings
    triggers: tuple[TriggerCategory, ...]
    trigger_matcher: PhraseMatcher = field(compare=False, repr=False, hash=False, default=None)  # type: ignore[assignment]
    incident: IncidentSettings = field(default_factory=IncidentSettings)

    @cached_property
    def routed_categories(self) -> frozenset[str]:
        """Trigger categories that name a team: they say what a ticket is about."""
        return frozenset(c.name for c in self.triggers if c.team)

    @cached_property
    def _categories(self) -> dict[str, TriggerCategory]:
        return {c.name: c for c in reversed(self.triggers)}  # reversed: the first of a name wins

    def category(self, name: str) -> TriggerCategory | None:
        return self._categories.get(name)



def _sub(section: Section, name: str) -> tuple[Section, Mapping[str, Any]]:
    default = DEFAULTS[name]
    return section.section(name, default), default


def parse(section: Section) -> EscalationConfig:
    """Read the ``escalation`` section into an ``EscalationConfig``; errors name the key."""
    d = DEFAULTS
    ws, wd = _sub(section, "weights")
    weights = Weights(**{k: ws.number(k, wd[k], min=0) for k in SIGNAL_WEIGHTS})
    ws.check_unknown(SIGNAL_WEIGHTS)

    ts, td = _sub(section, "thresholds")
    thresholds = Thresholds(*(ts.number(k, td[k], min=0, max=100) for k in ("monitor", "priority", "immediate")))
    ts.check_unknown(td)
    if not thresholds.monitor <= thresholds.priority <= thresholds.immediate:
        raise ts.error("", "thresholds must rise: monitor <= priority <= immediate")

    if section.has("tiers"):
        # Score bands made urgency pick the destination (a late how-to went to tier3); the tier
        # now follows what the ticket is about. Loud, so nobody believes the bands still apply.
        raise section.error(
            "tiers", "score bands were removed: the tier now follows what the ticket is about, not its score; "
            "delete [escalation.tiers] (docs/engine.md#tiers-and-management explains the new model)"
        )

    ss, sd = _sub(section, "sentiment")
    sentiment = SentimentSettings(
        neutral=ss.number("neutral", sd["neutral"], min=0, max=1),
        trajectory_min_drop=ss.number("trajectory_min_drop", sd["trajectory_min_drop"], min=0, max=2),
    )
    ss.check_unknown(sd)

    rs, rd = _sub(section, "repeat")
    repeat = RepeatSettings(
        window_days=rs.integer("window_days", rd["window_days"], min=1),
        min_overlap=rs.number("min_overlap", rd["min_overlap"], min=0, max=1),
    )
    rs.check_unknown(rd)

    ls, ld = _sub(section, "loop")
    failure = ls.strings("failure_phrases", ld["failure_phrases"])
    loop = LoopSettings(
        min_exchanges=ls.integer("min_exchanges", ld["min_exchanges"], min=1),
        failure_phrases=failure,
        matcher=PhraseMatcher({"failure": failure}, negation=False, plural=False),
    )
    ls.check_unknown(ld)

    acs, acd = _sub(section, "account")
    at = acs.section("tiers", acd["tiers"])
    account = AccountSettings(
        high_value=acs.number("high_value", acd["high_value"], min=1),
        renewal_days=acs.integer("renewal_days", acd["renewal_days"], min=0),
        low_health=acs.number("low_health", acd["low_health"], min=0, max=1),
        tiers=tuple(sorted((k.lower(), at.number(k, min=0, max=1)) for k in at.keys())),
    )
    acs.check_unknown(acd)

    ims, imd = _sub(section, "impact")
    impact_phrases = ims.strings("phrases", imd["phrases"])
    impact = ImpactSettings(
        users_for_max=ims.integer("users_for_max", imd["users_for_max"], min=2),
        phrases=impact_phrases,
        phrase_value=ims.number("phrase_value", imd["phrase_value"], min=0, max=1),
        outage_window_hours=ims.number("outage_window_hours", imd["outage_window_hours"], min=0),
        outage_orgs_for_max=ims.integer("outage_orgs_for_max", imd["outage_orgs_for_max"], min=1),
        users_for_incident=ims.integer("users_for_incident", imd["users_for_incident"], min=2),
        matcher=PhraseMatcher({"impact": impact_phrases}, negation=True, plural=False),
    )
    ims.check_unknown(imd)

    ags, agd = _sub(section, "age")
    age = AgeSettings(
        hours_for_max=ags.number("hours_for_max", agd["hours_for_max"], min=0.1),
        waiting_hours_for_max=ags.number("waiting_hours_for_max", agd["waiting_hours_for_max"], min=0.1),
    )
    ags.check_unknown(agd)

    lvs, lvd = _sub(section, "levels")
    levels = LevelSettings(unresolved_hours=lvs.number("unresolved_hours", lvd["unresolved_hours"], min=0.1))
    lvs.check_unknown(lvd)

    mgs, mgd = _sub(section, "management")
    management = ManagementSettings(
        refund_limit=mgs.number("refund_limit", mgd["refund_limit"], min=0),
        sla_about_to_breach=mgs.number("sla_about_to_breach", mgd["sla_about_to_breach"], min=0, max=100),
        recommendation=mgs.string("recommendation", mgd["recommendation"], choices=RECOMMENDATIONS),
        renewal_days=mgs.integer("renewal_days", mgd["renewal_days"], min=0),
    )
    mgs.check_unknown(mgd)

    triggers = _parse_triggers(section.section("triggers", d["triggers"]))

    cfg = EscalationConfig(
        saturation=section.number("saturation", d["saturation"], min=1),
        review_below=section.number("review_below", d["review_below"], min=0, max=1),
        hard_recommendation=section.string("hard_recommendation", d["hard_recommendation"], choices=RECOMMENDATIONS),
        default_team=section.string("default_team", d["default_team"]),
        top_reasons=section.integer("top_reasons", d["top_reasons"], min=1),
        weights=weights,
        thresholds=thresholds,
        sentiment=sentiment,
        repeat=repeat,
        loop=loop,
        account=account,
        impact=impact,
        age=age,
        levels=levels,
        management=management,
        triggers=triggers,
        trigger_matcher=PhraseMatcher({c.name: c.phrases for c in triggers}),
        incident=parse_incident(section),
    )
    section.check_unknown(d)
    return cfg


_TRIGGER_KEYS = ("phrases", "weight", "hard", "team", "tier", "enabled")


def _parse_triggers(ts: Section) -> tuple[TriggerCategory, ...]:
    names = list(DEFAULT_TRIGGERS) + [k for k in ts.keys() if k not in DEFAULT_TRIGGERS]
    out = []
    for name in names:
        default = DEFAULT_TRIGGERS.get(name, {})
        sub = ts.section(name, {})
        phrases = sub.strings("phrases", default.get("phrases", None)) if (sub.has("phrases") or default) else None
        if phrases is None:
            raise sub.error("phrases", "missing; a trigger category needs a list of phrases")
        tier = sub.string("tier", default.get("tier", "")) or None
        if tier is not None and tier not in TIERS:
            raise sub.error("tier", f'expected one of {", ".join(TIERS)} or "", got "{tier}"')
        cat = TriggerCategory(
            name=name,
            phrases=tuple(p.strip().lower() for p in phrases if p.strip()),
            weight=sub.number("weight", default.get("weight", 20.0), min=0),
            hard=sub.boolean("hard", default.get("hard", False)),
            team=sub.string("team", default.get("team", "")) or None,
            tier=tier,
        )
        enabled = sub.boolean("enabled", True)
        sub.check_unknown(_TRIGGER_KEYS)
        if enabled and cat.phrases and (cat.weight > 0 or cat.hard):
            out.append(cat)
    return tuple(out)
