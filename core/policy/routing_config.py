"""The ``routing`` config section: teams, agents, rules, rotations, chains (``DEFAULTS`` and
``parse``), and ``RoutingConfig``, the frozen config with its lookups by name."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

from deskwatch.core.model import LEVELS, MANAGEMENT, TIERS
from deskwatch.core.model.settings import Section
from deskwatch.core.policy.chains import EscalationChain, parse_chain
from deskwatch.core.policy.oncall import Rotation, parse_rotation

@dataclass(frozen=True)
class Agent:
    name: str
    skills: frozenset[str] = frozenset()
    max_open: int = 10  # open tickets this person can hold; 0 = takes no new work
    available: bool = True  # false while on leave: the agent gets no new tickets


@dataclass(frozen=True)
class Team:
    name: str
    tier: str  # one of model.LEVELS: a functional tier, or "management" for a management team
    skills: frozenset[str] = frozenset()
    members: tuple[str, ...] = ()  # in round-robin order
    capacity: int = 0  # open tickets the team can hold in all; 0 = no team-wide limit


@dataclass(frozen=True)
class Rule:
    """Conditions (all given kinds must match; each list matches any of its items) and a target."""

    name: str
    categories: frozenset[str] = frozenset()  # fired trigger categories
    tags: frozenset[str] = frozenset()  # ticket tags (how helpdesks mark skills: api, billing…)
    priorities: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()  # the functional tier the engine chose (tier0..tier3)
    team: str | None = None  # target team, or
    by_tier: bool = False  # target: the hierarchy team for the functional tier
    skills: frozenset[str] = frozenset()  # skills the chosen agent needs
    chain: str | None = None  # escalation chain for tickets this rule routes
    page: bool = False  # tickets this rule routes page the team's on-call person, like incidents


@dataclass(frozen=True)
class RoutingConfig:
    teams: tuple[Team, ...]
    agents: tuple[Agent, ...]
    rules: tuple[Rule, ...]
    rotations: tuple[Rotation, ...]
    chains: tuple[EscalationChain, ...]
    hierarchy: tuple[str, ...]  # team names from the lowest functional tier to the highest
    default_team: str
    default_chain: str | None
    fallback_rotation: str | None  # on call for teams without a rotation of their own
    management: str | None = None  # the team or person management attention goes to

    # Lookups by name. The config is frozen, so the indexes are built once, on first use
    # (cached_property stores them in the instance's __dict__; they are not fields, so equality,
    # hashing and dataclasses.replace ignore them). The first of equal names wins, as a scan would.

    @cached_property
    def _teams(self) -> dict[str, Team]:
        return _first_by_name(self.teams)

    @cached_property
    def _agents(self) -> dict[str, Agent]:
        return _first_by_name(self.agents)

    @cached_property
    def _chains(self) -> dict[str, EscalationChain]:
        return _first_by_name(self.chains)

    @cached_property
    def _answers(self) -> dict[tuple[Any, ...], Any]:
        """Memo for rotation_for, team_for_tier and _destination: answers that depend on the
        config and a few plain values only."""
        return {}

    @cached_property
    def team_names(self) -> frozenset[str]:
        return frozenset(t.name for t in self.teams)

    def team(self, name: str) -> Team | None:
        return self._teams.get(name)

    def agent(self, name: str) -> Agent | None:
        return self._agents.get(name)

    def chain(self, name: str) -> EscalationChain | None:
        return self._chains.get(name)

    def rotation_for(self, team: str) -> Rotation | None:
        """The team's own rotation, else the fallback rotation when it covers the team, else None.

        The fallback covers teams at or below its own team's tier: paging an engineer for a
        billing question at night is right, handing a management escalation down is not.
        """
        return self._remember(("rotation", team), lambda: self._rotation_for(team))

    def _rotation_for(self, team: str) -> Rotation | None:
        own = next((r for r in self.rotations if r.team == team), None)
        if own is not None or not self.fallback_rotation:
            return own
        fallback = next((r for r in self.rotations if r.name == self.fallback_rotation), None)
        mine, theirs = self.team(team), self.team(fallback.team) if fallback else None
        if fallback is None or mine is None or theirs is None or LEVELS.index(theirs.tier) < LEVELS.index(mine.tier):
            return None
        return fallback

    def team_for_tier(self, tier: str) -> Team:
        """The first hierarchy team whose tier is at or above ``tier`` (the top one if none is)."""
        return self._remember(("tier", tier), lambda: self._team_for_tier(tier))

    def _team_for_tier(self, tier: str) -> Team:
        rank = LEVELS.index(tier)
        ladder = [self.team(n) for n in self.hierarchy]
        for t in ladder:
            if t is not None and LEVELS.index(t.tier) >= rank:
                return t
        return ladder[-1]  # type: ignore[return-value]

    def _remember(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """``compute()``, kept by ``key``: for answers that depend on this (frozen) config and
        the key alone. A key holding a set or list (a caller's choice) is computed every time."""
        answers = self._answers
        try:
            return answers[key]
        except KeyError:
            pass
        except TypeError:
            return compute()
        found = compute()
        if len(answers) >= _MAX_ANSWERS:  # bound memory: tags and skills can make many keys
            answers.clear()
        answers[key] = found
        return found


_MAX_ANSWERS = 4096


def _first_by_name(items: tuple[Any, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for x in items:
        out.setdefault(x.name, x)
    return out


# ---------------------------------------------------------------------------------------------
# config

DEFAULTS: dict[str, Any] = {
    "default_team": "Support",
    "hierarchy": ["Support", "Technical", "Engineering"],
    "management": "Management",
    "default_chain": "default",
    "fallback_rotation": "Engineering on call",
    "teams": [
        {"name": "Support", "tier": "tier1", "skills": [], "members": ["Ana", "Ben", "Chloe"], "capacity": 0},
        {
            "name": "Technical",
            "tier": "tier2",
            "skills": ["api", "integration", "technical"],
            "members": ["Dev", "Elif"],
            "capacity": 0,
        },
        {
            "name": "Engineering",
            "tier": "tier3",
            "skills": ["technical", "outage"],
            "members": ["Farah", "Gus"],
            "capacity": 0,
        },
        {"name": "Security", "tier": "tier2", "skills": ["security"], "members": ["Hana", "Gus"], "capacity": 0},
        {"name": "Billing", "tier": "tier1", "skills": ["billing", "refund"], "members": ["Ivan", "Jo"], "capacity": 0},
        {"name": "Compliance", "tier": "tier2", "skills": ["gdpr", "legal"], "members": ["Kim"], "capacity": 0},
        {"name": "Management", "tier": "management", "skills": [], "members": ["Lee"], "capacity": 0},
    ],
    "agents": [
        {"name": "Ana", "skills": ["billing"], "max_open": 12, "available": True},
        {"name": "Ben", "skills": ["api"], "max_open": 12, "available": True},
        {"name": "Chloe", "skills": [], "max_open": 12, "available": True},
        {"name": "Dev", "skills": ["api", "integration", "technical"], "max_open": 8, "available": True},
        {"name": "Elif", "skills": ["api", "integration", "technical"], "max_open": 8, "available": True},
        {"name": "Farah", "skills": ["technical", "outage"], "max_open": 6, "available": True},
        {"name": "Gus", "skills": ["technical", "outage", "security"], "max_open": 6, "available": True},
        {"name": "Hana", "skills": ["security"], "max_open": 6, "available": True},
        {"name": "Ivan", "skills": ["billing", "refund"], "max_open": 10, "available": True},
        {"name": "Jo", "skills": ["billing", "refund"], "max_open": 10, "available": True},
        {"name": "Kim", "skills": ["gdpr", "legal"], "max_open": 8, "available": True},
        {"name": "Lee", "skills": [], "max_open": 5, "available": True},
    ],
    "rotations": [
        {
            "name": "Engineering on call",
            "team": "Engineering",
            "members": ["Farah", "Gus", "Dev", "Elif"],
            "period": "weekly",
            "handoff": "09:00",
            "timezone": "Europe/Berlin",
            "start": "2026-01-05",
            "overrides": [],
        },
        {
            "name": "Security on call",
            "team": "Security",
            "members": ["Hana", "Gus"],
            "period": "weekly",
            "handoff": "09:00",
            "timezone": "Europe/Berlin",
            "start": "2026-01-05",
            "overrides": [],
        },
    ],
    "rules": [
        {"name": "security", "categories": ["security"], "team": "Security", "skills": ["security"]},
        {"name": "compliance", "categories": ["compliance", "gdpr"], "team": "Compliance"},
        {"name": "engineering", "tiers": ["tier3"], "team": "Engineering", "skills": ["technical"]},
        {
            "name": "billing",
            "categories": ["refund", "billing"],
            "team": "Billing",
            "skills": ["billing"],
        },
        {"name": "billing tags", "tags": ["billing", "refund", "invoice"], "team": "Billing", "skills": ["billing"]},
        {
            "name": "technical",
            "categories": ["technical", "outage"],
            "team": "Technical",
            "skills": ["technical"],
        },
        {"name": "api tags", "tags": ["api", "integration"], "team": "Technical", "skills": ["api"]},
        {"name": "level", "by_tier": True},
    ],
    "chains": [
        {
            "name": "default",
            "repeat": 1,
            "steps": [
                {"action": "notify", "level": "tier1", "wait_minutes": 15},
                {"action": "assign", "level": "tier2", "wait_minutes": 30},
                {"action": "assign", "level": "management", "wait_minutes": 60},
            ],
        }
    ],
}

_TOP_KEYS = tuple(DEFAULTS)
# Keys that no longer exist, and what to do instead.
_REMOVED = {
    "on_call_recommendations": "was removed: paging no longer follows urgency; incidents page (decision.page), "
    "and a rule with page = true pages for the tickets it routes; delete this key",
    "on_call_priorities": "was removed: a helpdesk priority no longer pages; add a rule with "
    'priorities = ["urgent"] and page = true if you want that; delete this key',
}


def _lower_set(s: Section, name: str) -> frozenset[str]:
    return frozenset(x.strip().lower() for x in s.strings(name, ()))


def _parse_team(s: Section) -> Team:
    team = Team(
        name=s.string("name"),
        tier=s.string("tier", choices=LEVELS),
        skills=_lower_set(s, "skills"),
        members=s.strings("members", ()),
        capacity=s.integer("capacity", 0, min=0),
    )
    if len(set(team.members)) != len(team.members):
        raise s.error("members", "lists someone twice; keep each agent once")
    s.check_unknown(("name", "tier", "skills", "members", "capacity"))
    return team


def _parse_agent(s: Section) -> Agent:
    agent = Agent(
        name=s.string("name"),
        skills=_lower_set(s, "skills"),
        max_open=s.integer("max_open", 10, min=0),
        available=s.boolean("available", True),
    )
    s.check_unknown(("name", "skills", "max_open", "available"))
    return agent


def _parse_rule(s: Section, i: int) -> Rule:
    tiers = _lower_set(s, "tiers")
    for t in sorted(tiers - set(TIERS)):
        fix = " (management is not a tier: route.management names whom management attention goes to)" if t == MANAGEMENT else ""
        raise s.error("tiers", f'unknown tier "{t}"; use {", ".join(TIERS)}{fix}')
    rule = Rule(
        name=s.string("name", f"rule {i + 1}"),
        categories=_lower_set(s, "categories"),
        tags=_lower_set(s, "tags"),
        priorities=_lower_set(s, "priorities"),
        tiers=tiers,
        team=s.string("team", None) or None,
        by_tier=s.boolean("by_tier", False),
        skills=_lower_set(s, "skills"),
        chain=s.string("chain", None) or None,
        page=s.boolean("page", False),
    )
    s.check_unknown(("name", "categories", "tags", "priorities", "tiers", "team", "by_tier", "skills", "chain", "page"))
    if rule.by_tier == (rule.team is not None):
        raise s.error("", "a rule needs exactly one target: team = \"<name>\" or by_tier = true")
    if not (rule.categories or rule.tags or rule.priorities or rule.tiers or rule.by_tier):
        raise s.error("", "a rule needs a condition (categories, tags, priorities or tiers); "
                      "for a catch-all set routing.default_team instead")
    return rule


def _known(s: Section, key: str, name: str, kind: str, known: list[str]) -> None:
    if name in known:
        return
    hint = difflib.get_close_matches(name, known, n=1)
    fix = f"did you mean \"{hint[0]}\"?" if hint else f"known {kind}s: {', '.join(known) or '(none)'}"
    raise s.error(key, f"unknown {kind} \"{name}\"; {fix}")


def parse(section: Section) -> RoutingConfig:
    """Validate the ``routing`` section; every cross-reference (team, agent, chain) is checked."""
    d = DEFAULTS
    team_secs = section.sections("teams", d["teams"])
    agent_secs = section.sections("agents", d["agents"])
    rule_secs = section.sections("rules", d["rules"])
    rot_secs = section.sections("rotations", d["rotations"])
    chain_secs = section.sections("chains", d["chains"])
    teams = tuple(_parse_team(s) for s in team_secs)
    agents = tuple(_parse_agent(s) for s in agent_secs)
    rules = tuple(_parse_rule(s, i) for i, s in enumerate(rule_secs))
    rotations = tuple(parse_rotation(s) for s in rot_secs)
    chains = tuple(parse_chain(s) for s in chain_secs)

    team_names = [t.name for t in teams]
    agent_names = [a.name for a in agents]
    chain_names = [c.name for c in chains]
    for kind, names, secs in (("team", team_names, team_secs), ("agent", agent_names, agent_secs),
                              ("chain", chain_names, chain_secs), ("rotation", [r.name for r in rotations], rot_secs)):
        seen: set[str] = set()
        for n, s in zip(names, secs):
            if n in seen:
                raise s.error("name", f"another {kind} is already called \"{n}\"; names must be unique")
            seen.add(n)

    for t, s in zip(teams, team_secs):
        for m in t.members:
            _known(s, "members", m, "agent", agent_names)
    for r, s in zip(rules, rule_secs):
        if r.team is not None:
            _known(s, "team", r.team, "team", team_names)
        if r.chain is not None:
            _known(s, "chain", r.chain, "chain", chain_names)
    for r, s in zip(rotations, rot_secs):
        _known(s, "team", r.team, "team", team_names)
        for m in r.members:
            _known(s, "members", m, "agent", agent_names)
        for o, os_ in zip(r.overrides, s.sections("overrides")):
            _known(os_, "agent", o.agent, "agent", agent_names)
            if o.replaces is not None:
                _known(os_, "replaces", o.replaces, "agent", agent_names)
    for c, s in zip(chains, chain_secs):
        for st, ss in zip(c.steps, s.sections("steps")):
            if st.team:
                _known(ss, "team", st.team, "team", team_names)
            if st.agent:
                _known(ss, "agent", st.agent, "agent", agent_names)

    for key in _REMOVED:
        if section.has(key):
            raise section.error(key, _REMOVED[key])
    hierarchy = section.strings("hierarchy", d["hierarchy"])
    if not hierarchy:
        raise section.error("hierarchy", "is empty; list team names from tier1 up to tier3")
    for name in hierarchy:
        _known(section, "hierarchy", name, "team", team_names)
    levels = [next(t for t in teams if t.name == n).tier for n in hierarchy]
    for name, level in zip(hierarchy, levels):
        if level == MANAGEMENT:
            raise section.error(
                "hierarchy", f'"{name}" is a management team; management is not a functional tier: remove it from '
                f'the hierarchy and set routing.management = "{name}"'
            )
    ranks = [TIERS.index(level) for level in levels]
    if ranks != sorted(ranks):
        raise section.error(
            "hierarchy", "must go from the lowest tier to the highest (e.g. Support, Technical, Engineering)"
        )
    default_team = section.string("default_team", d["default_team"])
    _known(section, "default_team", default_team, "team", team_names)
    default_chain = section.string("default_chain", d["default_chain"]) or None
    if default_chain is not None:
        _known(section, "default_chain", default_chain, "chain", chain_names)
    fallback = section.string("fallback_rotation", d["fallback_rotation"]) or None
    if fallback is not None:
        _known(section, "fallback_rotation", fallback, "rotation", [r.name for r in rotations])
    management = section.string("management", d["management"]) or None
    if management is not None and (management != d["management"] or management in team_names + agent_names):
        _known(section, "management", management, "team or agent", team_names + agent_names)
    elif management is not None:
        management = None  # the default "Management" team was replaced away: nobody to name
    section.check_unknown(_TOP_KEYS)
    return RoutingConfig(
        teams=teams,
        agents=agents,
        rules=rules,
        rotations=rotations,
        chains=chains,
        hierarchy=hierarchy,
        default_team=default_team,
        default_chain=default_chain,
        fallback_rotation=fallback,
        management=management,
    )
