"""Routing: which team and which person get a ticket, and why.

The ``routing`` config section lives here (``DEFAULTS`` and ``parse``). ``route`` is pure: the
ticket, its score and trigger categories, whether it is business hours, the open-ticket load and
``now`` go in; a ``model.Route`` comes out. ``route`` does not change the load: the caller applies
``load.assign(route.team, route.agent)`` (or uses ``route_and_assign``) once the route is final.

Order of work in ``route``:
1. the first matching rule picks the destination team (functional rules by trigger category,
   tag or priority; hierarchical rules by the severity tier through ``routing.hierarchy``);
   no match -> ``routing.default_team``;
2. with an escalation state, the chain's current step may move the ticket up (never down);
3. outside business hours, urgent work goes to whoever is on call for the destination team;
4. otherwise the least-loaded available member with the needed skills and room under
   ``max_open`` and the team's ``capacity``; ties go round robin from the team's cursor.

On-call rotations live in ``deskwatch.core.policy.oncall``, escalation chains in
``deskwatch.core.policy.chains``; both are re-exported here.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any, Callable, Mapping, Sequence

from deskwatch.core.policy.chains import (
    ChainStep,
    EscalationChain,
    EscalationState,
    EscalationStep,
    chain_step,
    parse_chain,
)
from deskwatch.core.model import PRIORITIES, RECOMMENDATIONS, TIERS, AuditRecord, Decision, Route, Signal, Ticket, route_to_dict
from deskwatch.core.policy.oncall import Override, Rotation, on_call_for, parse_rotation
from deskwatch.core.model.settings import Section

__all__ = [
    "Agent",
    "ChainStep",
    "EscalationChain",
    "EscalationState",
    "EscalationStep",
    "LoadSnapshot",
    "Override",
    "Rotation",
    "RouteOverrideError",
    "RouteRequest",
    "RoutingConfig",
    "Rule",
    "Team",
    "DEFAULTS",
    "chain_step",
    "on_call_for",
    "override_route",
    "check_route",
    "parse",
    "pick_agent",
    "route",
    "route_and_assign",
]


class RouteOverrideError(ValueError):
    """A human override that cannot be applied; the message says what to change."""


@dataclass(frozen=True)
class Agent:
    name: str
    skills: frozenset[str] = frozenset()
    max_open: int = 10  # open tickets this person can hold; 0 = takes no new work
    available: bool = True  # false while on leave: the agent gets no new tickets


@dataclass(frozen=True)
class Team:
    name: str
    tier: str  # one of model.TIERS
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
    tiers: frozenset[str] = frozenset()  # the severity tier from the score band
    team: str | None = None  # target team, or
    by_tier: bool = False  # target: the hierarchy team for the severity tier
    skills: frozenset[str] = frozenset()  # skills the chosen agent needs
    chain: str | None = None  # escalation chain for tickets this rule routes


@dataclass(frozen=True)
class RoutingConfig:
    teams: tuple[Team, ...]
    agents: tuple[Agent, ...]
    rules: tuple[Rule, ...]
    rotations: tuple[Rotation, ...]
    chains: tuple[EscalationChain, ...]
    hierarchy: tuple[str, ...]  # team names from the lowest tier to the highest
    default_team: str
    default_chain: str | None
    fallback_rotation: str | None  # on call for teams without a rotation of their own
    on_call_recommendations: frozenset[str]
    on_call_priorities: frozenset[str]

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
        if fallback is None or mine is None or theirs is None or TIERS.index(theirs.tier) < TIERS.index(mine.tier):
            return None
        return fallback

    def team_for_tier(self, tier: str) -> Team:
        """The first hierarchy team whose tier is at or above ``tier`` (the top one if none is)."""
        return self._remember(("tier", tier), lambda: self._team_for_tier(tier))

    def _team_for_tier(self, tier: str) -> Team:
        rank = TIERS.index(tier)
        ladder = [self.team(n) for n in self.hierarchy]
        for t in ladder:
            if t is not None and TIERS.index(t.tier) >= rank:
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
# load


@dataclass(frozen=True)
class LoadSnapshot:
    """Open tickets per agent and per team, and each team's round-robin cursor (last assignee).

    Frozen: ``assign`` returns a new snapshot. The store builds it from its open tickets.
    """

    by_agent: Mapping[str, int] = field(default_factory=dict)
    by_team: Mapping[str, int] = field(default_factory=dict)
    last_assigned: Mapping[str, str] = field(default_factory=dict)  # team -> agent

    def agent_load(self, agent: str) -> int:
        return self.by_agent.get(agent, 0)

    def team_load(self, team: str) -> int:
        return self.by_team.get(team, 0)

    def assign(self, team: str | None, agent: str | None) -> "LoadSnapshot":
        """The snapshot after one more open ticket goes to ``team``/``agent`` (None: not counted)."""
        # Only the mappings that change are copied; the others are shared with this snapshot,
        # which is fine because no snapshot ever changes its mappings.
        by_agent, by_team, last = self.by_agent, self.by_team, self.last_assigned
        if team is not None:
            by_team = dict(by_team)
            by_team[team] = by_team.get(team, 0) + 1
        if agent is not None:
            by_agent = dict(by_agent)
            by_agent[agent] = by_agent.get(agent, 0) + 1
            if team is not None:
                last = dict(last)
                last[team] = agent
        return LoadSnapshot(by_agent, by_team, last)


# ---------------------------------------------------------------------------------------------
# routing


@dataclass(frozen=True)
class RouteRequest:
    ticket: Ticket
    score: float
    recommendation: str  # one of model.RECOMMENDATIONS
    tier: str  # severity tier from the score band
    categories: frozenset[str] = frozenset()  # fired trigger categories, e.g. {"security"}
    in_business_hours: bool = True

    @classmethod
    def from_decision(cls, ticket: Ticket, decision: Decision, in_business_hours: bool) -> "RouteRequest":
        """Build a request from the engine's decision: categories of the trigger signals that fired."""
        cats = fired_categories(decision.signals)
        return cls(ticket, decision.score, decision.recommendation, decision.tier, cats, in_business_hours)


def fired_categories(signals: Sequence[Signal]) -> frozenset[str]:
    """The trigger categories among the signals that fired: what routing rules match on."""
    return frozenset(s.category for s in signals if s.category and s.value > 0)


def _destination(req: RouteRequest, cfg: RoutingConfig) -> tuple[Team, Rule | None, str]:
    """The first matching rule's team (else the default team), the rule, and why.

    It depends on the request's categories, tags, priority and tier only, and tickets repeat
    a few combinations, so the answers are kept on the (frozen) config.
    """
    key = ("destination", req.categories, req.ticket.tags, req.ticket.priority, req.tier)
    return cfg._remember(key, lambda: _first_rule(req, cfg))


def _first_rule(req: RouteRequest, cfg: RoutingConfig) -> tuple[Team, Rule | None, str]:
    # The request's categories and tags, lower-cased once for all rules (and only if a rule
    # asks); the phrase saying why is built for the matching rule only.
    cats: set[str] | None = None
    tags: set[str] | None = None
    priority, tier = req.ticket.priority, req.tier
    for rule in cfg.rules:
        if rule.categories:
            if cats is None:
                cats = {c.lower() for c in req.categories}
            if rule.categories.isdisjoint(cats):
                continue
        if rule.tags:
            if tags is None:
                tags = {t.lower() for t in req.ticket.tags}
            if rule.tags.isdisjoint(tags):
                continue
        if rule.priorities and priority not in rule.priorities:
            continue
        if rule.tiers and tier not in rule.tiers:
            continue
        why = _why(rule, req, cats, tags)
        team = cfg.team_for_tier(tier) if rule.by_tier else cfg.team(rule.team or "")
        assert team is not None  # parse() checked every rule's team
        return team, rule, f"{why} -> {team.name} (rule '{rule.name}')"
    team = cfg.team(cfg.default_team)
    assert team is not None
    return team, None, f"no rule matched -> {team.name} (default team)"


def _why(rule: Rule, req: RouteRequest, cats: set[str] | None, tags: set[str] | None) -> str:
    """Why ``rule`` matches ``req``, a short phrase (the sets are the lower-cased categories and
    tags, filled in when the rule has such conditions)."""
    why: list[str] = []
    if rule.categories:
        why.append(f"{'/'.join(sorted(rule.categories & cats))} trigger")  # type: ignore[operator]
    if rule.tags:
        why.append(f"tag {'/'.join(sorted(rule.tags & tags))}")  # type: ignore[operator]
    if rule.priorities:
        why.append(f"priority {req.ticket.priority}")
    if rule.tiers:
        why.append(f"severity {req.tier}")
    if rule.by_tier and not rule.tiers:
        why.append(f"severity {req.tier}")
    return ", ".join(why)


_RANK = {t: i for i, t in enumerate(TIERS)}


def _higher(a: str, b: str) -> str:
    try:
        return b if _RANK[b] > _RANK[a] else a
    except KeyError:
        return max(a, b, key=TIERS.index)  # raises ValueError naming the unknown tier


def _apply_chain(
    team: Team, agent: str | None, tier: str, step: ChainStep, cfg: RoutingConfig
) -> tuple[Team, str | None, str]:
    """Move the destination up for an ``assign`` step; chains only escalate, never lower a route."""
    s = step.step
    if s.action != "assign":
        return team, agent, tier
    if s.agent:
        holder = next((t for t in cfg.teams if s.agent in t.members), team)
        return holder, s.agent, _higher(tier, holder.tier)
    if s.team:
        t = cfg.team(s.team)
        assert t is not None
        return t, None, _higher(tier, t.tier)
    assert s.level is not None
    if TIERS.index(s.level) <= TIERS.index(tier):
        return team, agent, tier
    t = cfg.team_for_tier(s.level)
    return t, None, _higher(s.level, t.tier)


def _describe_step(chain: EscalationChain, st: ChainStep) -> str:
    n = len(chain.steps)
    state = "acknowledged" if st.acknowledged else "exhausted" if st.exhausted else "waiting for acknowledgment"
    rnd = f", round {st.round + 1}/{chain.repeat}" if chain.repeat > 1 else ""
    return f"chain '{chain.name}' step {st.index + 1}/{n}{rnd} ({st.step.action} {st.target}, {state})"


def pick_agent(team: Team, skills: frozenset[str], cfg: RoutingConfig, load: LoadSnapshot) -> tuple[str | None, str]:
    """The least-loaded available member of ``team`` with ``skills`` and room for one more ticket.

    Ties go round robin: the first tied member after the team's cursor in member order.
    Returns (agent or None, a phrase saying why).
    """
    if not team.members:
        return None, f"{team.name} has no members; the ticket waits in the team queue"
    if team.capacity and load.team_load(team.name) >= team.capacity:
        return None, f"{team.name} is at capacity ({load.team_load(team.name)}/{team.capacity} open); nobody assigned"
    available, skilled = _eligible(team.members, skills, cfg)
    if not available:
        return None, f"no member of {team.name} is available; nobody assigned"
    if not skilled:
        return None, f"no available member of {team.name} has skills {', '.join(sorted(skills))}; nobody assigned"
    open_tickets = load.by_agent.get
    loads = [open_tickets(a.name, 0) for a in skilled]
    room = [(a.name, n) for a, n in zip(skilled, loads) if n < a.max_open]
    if not room:
        full = ", ".join(f"{a.name} {n}/{a.max_open}" for a, n in zip(skilled, loads))
        return None, f"everyone eligible in {team.name} is at max_open ({full}); nobody assigned"
    least = min(n for _, n in room)
    tied = {name for name, n in room if n == least}
    cursor = load.last_assigned.get(team.name)
    start = team.members.index(cursor) + 1 if cursor in team.members else 0
    order = team.members[start:] + team.members[:start]
    chosen = next(n for n in order if n in tied)
    how = "round robin among equally loaded" if len(tied) > 1 else "least loaded"
    return chosen, f"{chosen}: {how} ({least} open)"


def _eligible(members: tuple[str, ...], skills: frozenset[str], cfg: RoutingConfig) -> tuple[bool, tuple[Agent, ...]]:
    """(whether any member is available, the available members with ``skills``, in member
    order); it depends on the config alone, so the answers are kept on it."""
    def compute() -> tuple[bool, tuple[Agent, ...]]:
        available = [a for a in map(cfg._agents.get, members) if a is not None and a.available]
        return bool(available), tuple(a for a in available if skills <= a.skills)

    return cfg._remember(("eligible", members, skills), compute)


def _is_urgent(req: RouteRequest, cfg: RoutingConfig) -> bool:
    return req.recommendation in cfg.on_call_recommendations or (req.ticket.priority in cfg.on_call_priorities)


def route(
    request: RouteRequest,
    config: RoutingConfig,
    load: LoadSnapshot,
    now: datetime,
    chain_state: EscalationState | None = None,
) -> Route:
    """Where ``request`` goes at ``now``: tier, team, agent (or None), on_call, chain step, reason.

    Pure and deterministic; apply ``load.assign(route.team, route.agent)`` afterwards to count it.
    """
    team, rule, why = _destination(request, config)
    tier = _higher(request.tier, team.tier)
    # The rule's skills describe work for the rule's team; once a chain moves the ticket they no longer apply.
    skills = rule.skills if rule else frozenset()
    agent: str | None = None
    step_index: int | None = None
    running: str | None = None
    parts = [why]

    chain_name = (rule.chain if rule and rule.chain else None) or config.default_chain
    chain = config.chain(chain_name) if chain_name and chain_state is not None else None
    if chain_state is not None and chain is not None:
        st = chain_step(chain, chain_state, now)
        step_index, running = st.index, chain.name
        moved, agent, tier = _apply_chain(team, None, tier, st, config)
        parts.append(_describe_step(chain, st) + (f" -> {moved.name}" if moved is not team else ""))
        if moved is not team:
            team, skills = moved, frozenset()
        if agent is not None:
            parts.append(f"assigned to {agent} by the chain")

    on_call = False
    urgent_after_hours = not request.in_business_hours and _is_urgent(request, config)
    if agent is None and urgent_after_hours:
        rotation = config.rotation_for(team.name)
        if rotation is not None:
            agent, on_call = on_call_for(rotation, now), True
            if rotation.team == team.name:
                parts.append(f"after hours and urgent: {agent} is on call for {team.name}")
            else:
                # The page goes to the fallback rotation's team so the assignee belongs to the group.
                fallback = config.team(rotation.team)
                assert fallback is not None
                parts.append(
                    f"after hours and urgent, {team.name} has no rotation: {agent} is on call "
                    f"for {fallback.name} (fallback rotation '{rotation.name}')"
                )
                team, tier = fallback, _higher(tier, fallback.tier)
        else:
            parts.append(f"after hours and urgent but {team.name} has no on-call rotation")
    if agent is None:
        agent, who = pick_agent(team, skills, config, load)
        if not request.in_business_hours and not urgent_after_hours:
            who = f"outside business hours and not urgent, no page; {who}"
        parts.append(who)
    reason = "; ".join(parts)
    return Route(tier=tier, team=team.name, agent=agent, on_call=on_call, chain_step=step_index, reason=reason,
                 chain=running)


def route_and_assign(
    request: RouteRequest,
    config: RoutingConfig,
    load: LoadSnapshot,
    now: datetime,
    chain_state: EscalationState | None = None,
) -> tuple[Route, LoadSnapshot]:
    """``route`` plus the snapshot with this ticket counted, for routing a batch in order."""
    r = route(request, config, load, now, chain_state)
    return r, load.assign(r.team, r.agent)


# ---------------------------------------------------------------------------------------------
# human override


def _unknown(kind: str, name: str, known: list[str]) -> RouteOverrideError:
    hint = difflib.get_close_matches(name, known, n=1)
    fix = f"did you mean '{hint[0]}'?" if hint else f"known {kind}s: {', '.join(known)}"
    return RouteOverrideError(f"unknown {kind} '{name}'; {fix} (or add it to [[routing.{kind}s]] in the config)")


def check_route(new: Route, config: RoutingConfig) -> None:
    """Raise RouteOverrideError (the message names the fix) for an unknown tier, team or agent,
    or an agent who is not a member of the chosen team."""
    if new.tier not in TIERS:
        raise RouteOverrideError(f"unknown tier '{new.tier}'; use one of {', '.join(TIERS)}")
    team = None
    if new.team is not None:
        team = config.team(new.team)
        if team is None:
            raise _unknown("team", new.team, [t.name for t in config.teams])
    if new.agent is not None:
        if config.agent(new.agent) is None:
            raise _unknown("agent", new.agent, [a.name for a in config.agents])
        if team is not None and new.agent not in team.members:
            raise RouteOverrideError(
                f"{new.agent} is not a member of {team.name}; pick one of {', '.join(team.members) or '(no members)'} "
                f"or set the team to one {new.agent} belongs to"
            )


def override_route(
    ticket_id: str,
    previous: Route | None,
    new: Route,
    actor: str,
    reason: str,
    now: datetime,
    config: RoutingConfig,
) -> tuple[Route, AuditRecord]:
    """A person re-routes a ticket: validate, and return the route plus the audit record to keep.

    Raises RouteOverrideError (message names the fix) for an empty actor or reason, an unknown
    tier, team or agent, or an agent who is not a member of the chosen team.
    """
    if not actor or not actor.strip():
        raise RouteOverrideError("an override needs the actor: who is making it (set tui.actor or pass --actor)")
    if not reason or not reason.strip():
        raise RouteOverrideError("an override needs a reason: say in a few words why the ticket goes there")
    check_route(new, config)
    text = " ".join(reason.split())
    final = replace(new, on_call=False, reason=f"override by {actor.strip()}: {text}")
    record = AuditRecord(
        ticket_id=ticket_id,
        kind="override",
        actor=actor.strip(),
        at=now,
        data={
            "previous": route_to_dict(previous) if previous else None,
            "new": route_to_dict(final),
            "reason": text,
        },
    )
    return final, record


# ---------------------------------------------------------------------------------------------
# config

DEFAULTS: dict[str, Any] = {
    "default_team": "Support",
    "hierarchy": ["Support", "Technical", "Engineering", "Management"],
    "default_chain": "default",
    "fallback_rotation": "Engineering on call",
    "on_call_recommendations": ["immediate"],
    "on_call_priorities": ["urgent"],
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
        {"name": "compliance", "categories": ["compliance", "gdpr", "legal"], "team": "Compliance"},
        {
            "name": "billing",
            "categories": ["refund", "billing"],
            "team": "Billing",
            "skills": ["billing"],
        },
        {"name": "billing tags", "tags": ["billing", "refund", "invoice"], "team": "Billing", "skills": ["billing"]},
        {"name": "outage", "categories": ["outage"], "tiers": ["tier3", "management"], "team": "Engineering"},
        {
            "name": "technical",
            "categories": ["technical", "outage"],
            "team": "Technical",
            "skills": ["technical"],
        },
        {"name": "api tags", "tags": ["api", "integration"], "team": "Technical", "skills": ["api"]},
        {"name": "severity", "by_tier": True},
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


def _lower_set(s: Section, name: str) -> frozenset[str]:
    return frozenset(x.strip().lower() for x in s.strings(name, ()))


def _parse_team(s: Section) -> Team:
    team = Team(
        name=s.string("name"),
        tier=s.string("tier", choices=TIERS),
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
        raise s.error("tiers", f'unknown tier "{t}"; use {", ".join(TIERS)}')
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
    )
    s.check_unknown(("name", "categories", "tags", "priorities", "tiers", "team", "by_tier", "skills", "chain"))
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

    hierarchy = section.strings("hierarchy", d["hierarchy"])
    if not hierarchy:
        raise section.error("hierarchy", "is empty; list team names from tier1 up to management")
    for name in hierarchy:
        _known(section, "hierarchy", name, "team", team_names)
    ranks = [TIERS.index(next(t for t in teams if t.name == n).tier) for n in hierarchy]
    if ranks != sorted(ranks):
        raise section.error(
            "hierarchy", "must go from the lowest tier to the highest (e.g. Support, Technical, Engineering, Management)"
        )
    default_team = section.string("default_team", d["default_team"])
    _known(section, "default_team", default_team, "team", team_names)
    default_chain = section.string("default_chain", d["default_chain"]) or None
    if default_chain is not None:
        _known(section, "default_chain", default_chain, "chain", chain_names)
    fallback = section.string("fallback_rotation", d["fallback_rotation"]) or None
    if fallback is not None:
        _known(section, "fallback_rotation", fallback, "rotation", [r.name for r in rotations])
    recs = frozenset(section.strings("on_call_recommendations", d["on_call_recommendations"]))
    for r in sorted(recs - set(RECOMMENDATIONS)):
        raise section.error(
            "on_call_recommendations", f'unknown recommendation "{r}"; use {", ".join(RECOMMENDATIONS)}'
        )
    prios = frozenset(section.strings("on_call_priorities", d["on_call_priorities"]))
    for p in sorted(prios - set(PRIORITIES)):
        raise section.error("on_call_priorities", f'unknown priority "{p}"; use {", ".join(PRIORITIES)}')
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
        on_call_recommendations=recs,
        on_call_priorities=prios,
    )

