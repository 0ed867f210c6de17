"""Routing: which team and which person get a ticket, and why.

The ``routing`` config section lives here (``DEFAULTS`` and ``parse``). ``route`` is pure: the
ticket, its score and trigger categories, whether it is business hours, the open-ticket load and
``now`` go in; a ``model.Route`` comes out. ``route`` does not change the load: the caller applies
``load.assign(route.team, route.agent)`` (or uses ``route_and_assign``) once the route is final.

Order of work in ``route``:
1. the first matching rule picks the destination team (by trigger category, tag, priority or
   the functional tier the engine chose; ``by_tier`` rules through ``routing.hierarchy``);
   no match -> ``routing.default_team``;
2. with an escalation state, the chain's current step may move the ticket up a functional level
   (never down); a step at level ``management`` brings management in instead of moving it;
3. a ticket that pages (an incident, or a rule with ``page = true``) goes to whoever is on call
   for the destination team, by day and at night; nothing else pages, however urgent;
4. otherwise the least-loaded available member with the needed skills and room under
   ``max_open`` and the team's ``capacity``; ties go round robin from the team's cursor;
5. when management attention is needed, ``route.management`` names ``routing.management``.

On-call rotations live in ``deskwatch.core.policy.oncall``, escalation chains in
``deskwatch.core.policy.chains``; both are re-exported here.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Mapping, Sequence

from deskwatch.core.policy.chains import (
    ChainStep,
    EscalationChain,
    EscalationState,
    EscalationStep,
    chain_step,
)
from deskwatch.core.model import MANAGEMENT, TIERS, AuditRecord, Decision, Route, Signal, Ticket, route_to_dict
from deskwatch.core.policy.oncall import Override, Rotation, on_call_for
from deskwatch.core.policy.routing_config import DEFAULTS, Agent, RoutingConfig, Rule, Team, parse

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
    tier: str  # the functional tier the engine chose (tier0..tier3)
    categories: frozenset[str] = frozenset()  # fired trigger categories, e.g. {"security"}
    in_business_hours: bool = True
    page: bool = False  # an incident: the on-call person is interrupted now
    page_reason: str | None = None
    management: bool = False  # management attention is needed (hierarchical escalation)
    # (team, why) from a learned router that is sure of itself: used where the rules only give
    # the default team, or send frontline work down the tier ladder
    suggested_team: tuple[str, str] | None = None

    @classmethod
    def from_decision(cls, ticket: Ticket, decision: Decision, in_business_hours: bool) -> "RouteRequest":
        """Build a request from the engine's decision: categories of the trigger signals that fired."""
        cats = fired_categories(decision.signals)
        return cls(ticket, decision.score, decision.recommendation, decision.tier, cats, in_business_hours,
                   page=decision.page, page_reason=decision.page_reason, management=decision.management is not None)


FRONTLINE = ("tier0", "tier1")


def fired_categories(signals: Sequence[Signal]) -> frozenset[str]:
    """The trigger categories among the signals that fired: what routing rules match on."""
    return frozenset(s.category for s in signals if s.category and s.value > 0)


def _destination(req: RouteRequest, cfg: RoutingConfig) -> tuple[Team, Rule | None, str]:
    """The first matching rule's team (else the default team), the rule, and why.

    It depends on the request's categories, tags, priority and tier only, and tickets repeat
    a few combinations, so the answers are kept on the (frozen) config.
    """
    key = ("destination", req.categories, req.ticket.tags, req.ticket.priority, req.tier, req.suggested_team)
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
        if rule.by_tier and tier in FRONTLINE and req.suggested_team:
            break  # the tier ladder says only "frontline": the learned team says which one
        why = _why(rule, req, cats, tags)
        team = cfg.team_for_tier(tier) if rule.by_tier else cfg.team(rule.team or "")
        assert team is not None  # parse() checked every rule's team
        return team, rule, f"{why} -> {team.name} (rule '{rule.name}')"
    if req.suggested_team and cfg.team(req.suggested_team[0]) is not None:
        name, why = req.suggested_team
        return cfg.team(name), None, f"{why} -> {name} (learned)"  # type: ignore[return-value]
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
        why.append(f"level {req.tier}")
    if rule.by_tier and not rule.tiers:
        why.append(f"level {req.tier}")
    return ", ".join(why)


_RANK = {t: i for i, t in enumerate(TIERS)}


def _higher(a: str, b: str) -> str:
    """The higher functional tier; a management team's level is not a tier and never raises one."""
    if b == MANAGEMENT:
        return a
    try:
        return b if _RANK[b] > _RANK[a] else a
    except KeyError:
        return max(a, b, key=TIERS.index)  # raises ValueError naming the unknown tier


def _management_target(step: ChainStep, cfg: RoutingConfig) -> str | None:
    """Whom a step brings in as management: a step at level management, or aimed at a management team."""
    s = step.step
    if s.level == MANAGEMENT:
        return cfg.management or next((t.name for t in cfg.teams if t.tier == MANAGEMENT), None)
    if s.team:
        t = cfg.team(s.team)
        if t is not None and t.tier == MANAGEMENT:
            return t.name
    return None


def _apply_chain(
    team: Team, agent: str | None, tier: str, step: ChainStep, cfg: RoutingConfig
) -> tuple[Team, str | None, str]:
    """Move the destination up for an ``assign`` step; chains only escalate, never lower a route.
    Management steps do not move the ticket (``_management_target``)."""
    s = step.step
    if s.action != "assign" or _management_target(step, cfg) is not None:
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


def route(
    request: RouteRequest,
    config: RoutingConfig,
    load: LoadSnapshot,
    now: datetime,
    chain_state: EscalationState | None = None,
) -> Route:
    """Where ``request`` goes at ``now``: tier, team, agent (or None), on_call, chain step,
    management, page, reason. Pure and deterministic; apply ``load.assign(route.team,
    route.agent)`` afterwards to count it."""
    team, rule, why = _destination(request, config)
    # Self-service stays tier0 on the frontline team (it sends the help-center answer); other
    # tickets take at least their team's level.
    self_service = request.tier == "tier0" and team.tier == "tier1" and (rule is None or rule.by_tier)
    tier = request.tier if self_service else _higher(request.tier, team.tier)
    # The rule's skills describe work for the rule's team; once a chain moves the ticket they no longer apply.
    skills = rule.skills if rule else frozenset()
    agent: str | None = None
    step_index: int | None = None
    running: str | None = None
    management = config.management if request.management else None
    parts = [why]

    chain_name = (rule.chain if rule and rule.chain else None) or config.default_chain
    chain = config.chain(chain_name) if chain_name and chain_state is not None else None
    if chain_state is not None and chain is not None:
        st = chain_step(chain, chain_state, now)
        step_index, running = st.index, chain.name
        brought = _management_target(st, config)
        applied = st
        if brought is not None:
            # A management step adds management; the ticket keeps the level earlier steps gave it.
            earlier = [x for x in chain.steps[: st.index] if x.action == "assign"]
            if earlier:
                applied = replace(st, step=earlier[-1])
        moved, agent, tier = _apply_chain(team, None, tier, applied, config)
        parts.append(_describe_step(chain, st) + (f" -> {moved.name}" if moved is not team else ""))
        if moved is not team:
            team, skills = moved, frozenset()
        if agent is not None:
            parts.append(f"assigned to {agent} by the chain")
        if brought is not None and management is None:
            management = brought

    page = request.page or (rule is not None and rule.page)
    if page and rule is not None and rule.page and not request.page:
        parts.append(f"rule '{rule.name}' marks it pageable")
    on_call = False
    if agent is None and page:
        rotation = config.rotation_for(team.name)
        if rotation is not None:
            agent, on_call = on_call_for(rotation, now), True
            if rotation.team == team.name:
                parts.append(f"pages now: {agent} is on call for {team.name}")
            else:
                # The page goes to the fallback rotation's team so the assignee belongs to the group.
                fallback = config.team(rotation.team)
                assert fallback is not None
                parts.append(
                    f"pages now, {team.name} has no rotation: {agent} is on call "
                    f"for {fallback.name} (fallback rotation '{rotation.name}')"
                )
                team, tier = fallback, _higher(tier, fallback.tier)
        else:
            parts.append(f"should page but {team.name} has no on-call rotation; the team queue gets it")
    if agent is None:
        agent, who = pick_agent(team, skills, config, load)
        if not request.in_business_hours and not page:
            who = f"outside business hours, not an incident: no page; {who}"
        parts.append(who)
    if management is not None:
        parts.append(f"management attention: {management}")
    reason = "; ".join(parts)
    return Route(tier=tier, team=team.name, agent=agent, on_call=on_call, chain_step=step_index, reason=reason,
                 chain=running, management=management, page=page)


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
        fix = " (management is not a tier: it is brought in beside the team)" if new.tier == MANAGEMENT else ""
        raise RouteOverrideError(f"unknown tier '{new.tier}'; use one of {', '.join(TIERS)}{fix}")
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
    final = replace(new, on_call=False, page=False, reason=f"override by {actor.strip()}: {text}")
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

