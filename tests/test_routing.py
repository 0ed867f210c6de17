"""Routing: rules in order, hierarchy, on-call after hours, capacity, round robin, chains, overrides."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from deskwatch.core import config as config_mod
from deskwatch.core.model import Decision, Message, Route, Signal, Ticket
from deskwatch.core.policy.routing import (
    DEFAULTS,
    EscalationState,
    LoadSnapshot,
    RouteOverrideError,
    RouteRequest,
    RoutingConfig,
    override_route,
    parse,
    route,
    route_and_assign,
)
from deskwatch.core.model.settings import ConfigError, Section

from .conftest import NOW

# Monday 2026-11-23 03:00 UTC = 04:00 Berlin: outside business hours.
NIGHT = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def ticket(tags: tuple[str, ...] = (), priority: str | None = "normal", tid: str = "zendesk:1") -> Ticket:
    t0 = NOW - timedelta(hours=2)
    return Ticket(
        id=tid,
        source="zendesk",
        channel="email",
        subject="Webhook deliveries failing since this morning",
        status="open",
        priority=priority,
        created_at=t0,
        updated_at=t0,
        messages=(Message("customer", t0, "Our webhook deliveries fail with 500 since 08:00."),),
        tags=tags,
    )


def req(
    categories: tuple[str, ...] = (),
    tier: str = "tier1",
    recommendation: str = "priority",
    tags: tuple[str, ...] = (),
    priority: str | None = "normal",
    business: bool = True,
    page: bool = False,
    management: bool = False,
) -> RouteRequest:
    return RouteRequest(
        ticket=ticket(tags, priority),
        score=55.0,
        recommendation=recommendation,
        tier=tier,
        categories=frozenset(categories),
        in_business_hours=business,
        page=page,
        page_reason="incident: test" if page else None,
        management=management,
    )


@pytest.fixture
def cfg() -> RoutingConfig:
    return parse(Section(DEFAULTS, "routing", "config.toml"))


def with_data(**over) -> RoutingConfig:
    return parse(Section(config_mod.merge(DEFAULTS, over), "routing", "config.toml"))


EMPTY = LoadSnapshot()


# -- config ------------------------------------------------------------------------------------


def test_defaults_parse_the_same_with_and_without_the_table(cfg):
    assert parse(Section({})) == cfg
    assert config_mod.load(None).routing == cfg
    assert [t.name for t in cfg.teams] == [
        "Support", "Technical", "Engineering", "Security", "Billing", "Compliance", "Management"
    ]


def test_user_file_replaces_a_list_and_is_validated(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text(
        '[routing]\ndefault_team = "Desk"\nhierarchy = ["Desk"]\ndefault_chain = ""\nfallback_rotation = ""\n'
        "rules = []\nrotations = []\nchains = []\n"
        '[[routing.teams]]\nname = "Desk"\ntier = "tier1"\nmembers = ["Zoe"]\n'
        '[[routing.agents]]\nname = "Zoe"\n'
    )
    rc = config_mod.load(f).routing
    r = route(req(["security"]), rc, EMPTY, NOW)
    assert (r.team, r.agent, r.chain_step) == ("Desk", "Zoe", None)
    assert r.reason.startswith("no rule matched -> Desk (default team)")


def _error(**over) -> str:
    with pytest.raises(ConfigError) as e:
        with_data(**over)
    return str(e.value)


def test_unknown_team_in_a_rule_names_the_key_and_suggests():
    rules = [{"name": "sec", "categories": ["security"], "team": "Secrity"}]
    assert _error(rules=rules) == 'config.toml: routing.rules[0].team: unknown team "Secrity"; did you mean "Security"?'


def test_member_not_among_agents():
    teams = [dict(t) for t in DEFAULTS["teams"]]
    teams[0]["members"] = ["Ana", "Zed"]
    assert _error(teams=teams).startswith('config.toml: routing.teams[0].members: unknown agent "Zed"; known agents: Ana')


def test_bad_tier_and_bad_time_zone():
    teams = [dict(t) for t in DEFAULTS["teams"]]
    teams[1]["tier"] = "tier5"
    assert _error(teams=teams) == (
        'config.toml: routing.teams[1].tier: expected one of tier0, tier1, tier2, tier3, management, got "tier5"'
    )
    rots = [dict(r) for r in DEFAULTS["rotations"]]
    rots[0]["timezone"] = "Berlin"
    assert "routing.rotations[0].timezone: unknown time zone \"Berlin\"" in _error(rotations=rots)


def test_rule_shape_errors():
    assert "routing.rules[0]: a rule needs exactly one target" in _error(rules=[{"categories": ["x"]}])
    assert "routing.rules[0]: a rule needs a condition" in _error(rules=[{"team": "Support"}])
    assert "routing.rules[0].tiers: unknown tier \"tier7\"" in _error(rules=[{"tiers": ["tier7"], "team": "Support"}])
    assert "routing.rules[0].chain: unknown chain \"fast\"" in _error(
        rules=[{"categories": ["x"], "team": "Support", "chain": "fast"}]
    )
    assert "routing.rules[0].catgories: unknown key; did you mean 'categories'?" in _error(
        rules=[{"catgories": ["x"], "tags": ["y"], "team": "Support"}]
    )


def test_cross_reference_errors():
    assert "routing.hierarchy: must go from the lowest tier to the highest" in _error(hierarchy=["Technical", "Support"])
    assert 'routing.default_team: unknown team "Nobody"' in _error(default_team="Nobody")
    assert 'routing.fallback_rotation: unknown rotation "x"' in _error(fallback_rotation="x")
    agents = DEFAULTS["agents"] + [{"name": "Ana"}]
    assert 'routing.agents[12].name: another agent is already called "Ana"' in _error(agents=agents)
    assert 'routing.on_call_priorities: was removed' in _error(on_call_priorities=["urgent"])
    assert 'routing.on_call_recommendations: was removed: paging no longer follows urgency' in _error(
        on_call_recommendations=["immediate"])


# -- rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "categories, tags, tier, team",
    [
        (["security"], (), "tier1", "Security"),  # category rule
        (["compliance"], (), "tier1", "Compliance"),
        (["refund"], (), "tier1", "Billing"),
        ([], ("invoice",), "tier1", "Billing"),  # tag (skill) rule
        (["technical"], (), "tier1", "Technical"),
        ([], ("API",), "tier1", "Technical"),  # tags compare case-insensitively
        (["outage"], (), "tier1", "Technical"),  # an outage report the engine kept below tier3: technical
        (["outage"], (), "tier3", "Engineering"),  # an incident (tier3): engineering
        (["technical"], (), "tier3", "Engineering"),  # a regression or defect (tier3): engineering
        (["security", "refund"], (), "tier1", "Security"),  # first matching rule wins
    ],
)
def test_functional_rules(cfg, categories, tags, tier, team):
    r = route(req(categories, tier=tier, tags=tags), cfg, EMPTY, NOW)
    assert r.team == team
    assert r.agent in cfg.team(team).members
    assert "\n" not in r.reason


@pytest.mark.parametrize(
    "tier, team, route_tier",
    [("tier0", "Support", "tier0"), ("tier1", "Support", "tier1"), ("tier2", "Technical", "tier2"),
     ("tier3", "Engineering", "tier3")],
)
def test_functional_level_routes_up_the_hierarchy(cfg, tier, team, route_tier):
    r = route(req(tier=tier), cfg, EMPTY, NOW)
    assert (r.team, r.tier) == (team, route_tier)
    rule = "engineering" if tier == "tier3" else "level"
    assert f"level {tier} -> {team} (rule '{rule}')" in r.reason
    assert r.management is None and not r.page


def test_management_is_not_a_tier_and_goes_beside_the_team(cfg):
    with pytest.raises(ValueError):
        route(req(tier="management"), cfg, EMPTY, NOW)
    r = route(req(["refund"], management=True), cfg, EMPTY, NOW)
    assert (r.team, r.management) == ("Billing", "Management")
    assert r.reason.endswith("management attention: Management")
    assert "management is not a tier" in _error(rules=[{"tiers": ["management"], "team": "Support"}])
    assert 'set routing.management = "Management"' in _error(hierarchy=["Support", "Technical", "Management"])
    assert 'routing.management: unknown team or agent "Boss"' in _error(management="Boss")
    assert with_data(management="Lee").management == "Lee"  # a person works too


def test_route_tier_is_the_higher_of_severity_and_team(cfg):
    assert route(req(["security"], tier="tier1"), cfg, EMPTY, NOW).tier == "tier2"
    assert route(req(["refund"], tier="tier3"), cfg, EMPTY, NOW).tier == "tier3"


def test_priority_rule():
    rules = [{"name": "vip", "priorities": ["urgent"], "team": "Engineering"}, {"name": "severity", "by_tier": True}]
    rc = with_data(rules=rules)
    assert route(req(priority="urgent"), rc, EMPTY, NOW).team == "Engineering"
    assert route(req(priority="high"), rc, EMPTY, NOW).team == "Support"


def test_reason_says_why_this_destination(cfg):
    r = route(req(["security"]), cfg, EMPTY, NOW)
    assert r.reason == "security trigger -> Security (rule 'security'); Hana: round robin among equally loaded (0 open)"
    r = route(req(tags=("api",)), cfg, EMPTY, NOW)
    assert r.reason.startswith("tag api -> Technical (rule 'api tags'); ")


def test_skills_are_required_of_the_agent(cfg):
    # Security's members are Hana and Gus; both have "security". Take it from Gus: only Hana is left.
    agents = [dict(a) for a in DEFAULTS["agents"]]
    next(a for a in agents if a["name"] == "Gus")["skills"] = ["technical"]
    rc = with_data(agents=agents)
    picks = {route(req(["security"]), rc, LoadSnapshot(by_agent={"Hana": n}), NOW).agent for n in range(5)}
    assert picks == {"Hana"}
    next(a for a in agents if a["name"] == "Hana")["skills"] = []
    r = route(req(["security"]), with_data(agents=agents), EMPTY, NOW)
    assert r.agent is None and "no available member of Security has skills security" in r.reason


def test_route_is_deterministic(cfg):
    load = LoadSnapshot({"Ana": 3, "Ben": 2, "Chloe": 2}, {}, {"Support": "Ben"})
    assert {route(req(), cfg, load, NOW) for _ in range(20)} == {route(req(), cfg, load, NOW)}


def test_from_decision_uses_fired_trigger_categories(cfg):
    sig = Signal("triggers", 0.8, 30, 24, ("data breach",), "security words", category="security", hard=True)
    quiet = Signal("triggers", 0.0, 30, 0, (), "", category="refund")
    d = Decision("zendesk:1", 81, "immediate", "tier2", "Security", 0.9, False, (sig, quiet), (), NOW)
    rq = RouteRequest.from_decision(ticket(), d, in_business_hours=True)
    assert rq.categories == frozenset({"security"}) and rq.tier == "tier2"
    assert route(rq, cfg, EMPTY, NOW).team == "Security"


# -- after hours -------------------------------------------------------------------------------


def test_an_incident_pages_the_on_call_person_at_night(cfg):
    # Week of 2026-11-16 09:00 Berlin (shift 45): Security rotation [Hana, Gus] -> 45 % 2 = 1 -> Gus.
    r = route(req(["security"], recommendation="immediate", business=False, page=True), cfg, EMPTY, NIGHT)
    assert (r.team, r.agent, r.on_call, r.page) == ("Security", "Gus", True, True)
    assert "pages now: Gus is on call for Security" in r.reason


def test_an_incident_pages_by_day_too_and_load_does_not_block_it(cfg):
    full = LoadSnapshot(by_agent={"Gus": 99, "Hana": 99})
    r = route(req(["security"], recommendation="immediate", business=True, page=True), cfg, full, NIGHT)
    assert (r.agent, r.on_call, r.page) == ("Gus", True, True)


@pytest.mark.parametrize("business", [True, False])
def test_urgency_alone_never_pages(cfg, business):
    # Immediate, helpdesk priority urgent, at night: still no incident, so nobody is woken.
    r = route(req(["refund"], recommendation="immediate", priority="urgent", business=business), cfg, EMPTY, NIGHT)
    assert r.on_call is False and r.page is False and r.agent in ("Ivan", "Jo")
    assert ("outside business hours, not an incident: no page; " in r.reason) is (not business)


def test_a_rule_can_mark_tickets_pageable():
    rules = [{"name": "vip outage", "tags": ["vip"], "team": "Engineering", "page": True}, {"name": "level", "by_tier": True}]
    rc = with_data(rules=rules)
    r = route(req(tags=("vip",), recommendation="monitor", business=False), rc, EMPTY, NIGHT)
    assert (r.team, r.on_call, r.page) == ("Engineering", True, True)
    assert "rule 'vip outage' marks it pageable" in r.reason
    assert route(req(business=False), rc, EMPTY, NIGHT).page is False


def test_team_without_rotation_uses_the_fallback_rotation(cfg):
    # Billing has no rotation: the Engineering rotation (shift 45 -> 45 % 4 = 1 -> Gus) takes it.
    r = route(req(["refund"], recommendation="immediate", business=False, page=True), cfg, EMPTY, NIGHT)
    assert (r.team, r.agent, r.on_call, r.tier) == ("Engineering", "Gus", True, "tier3")
    assert "Billing has no rotation" in r.reason and "fallback rotation 'Engineering on call'" in r.reason


def test_chain_management_step_brings_management_in_without_moving_the_ticket(cfg):
    st = EscalationState(started_at=NIGHT - timedelta(minutes=50))
    r = route(req(recommendation="immediate", business=False), cfg, EMPTY, NIGHT, st)
    assert (r.team, r.on_call, r.chain_step, r.management) == ("Technical", False, 2, "Management")
    assert r.tier == "tier2"  # the tier2 step moved it; the management step does not


def test_no_rotation_and_no_fallback_says_so():
    rc = with_data(fallback_rotation="")
    r = route(req(["refund"], recommendation="immediate", business=False, page=True), rc, EMPTY, NIGHT)
    assert r.on_call is False and r.team == "Billing" and r.agent in ("Ivan", "Jo")
    assert "should page but Billing has no on-call rotation" in r.reason


def test_on_call_override_applies_to_routing():
    rots = [dict(r) for r in DEFAULTS["rotations"]]
    rots[1] = dict(rots[1], overrides=[{"agent": "Hana", "from": "2026-11-23", "to": "2026-11-23"}])
    r = route(req(["security"], recommendation="immediate", business=False, page=True), with_data(rotations=rots), EMPTY, NIGHT)
    assert (r.agent, r.on_call) == ("Hana", True)


# -- load, capacity, availability -------------------------------------------------------------


def test_least_loaded_member_wins(cfg):
    r = route(req(), cfg, LoadSnapshot(by_agent={"Ana": 4, "Ben": 1, "Chloe": 2}), NOW)
    assert r.agent == "Ben"
    assert r.reason.endswith("Ben: least loaded (1 open)")


def test_agents_at_max_open_are_skipped_and_all_full_means_nobody(cfg):
    # Support agents hold at most 12 each by default.
    r = route(req(), cfg, LoadSnapshot(by_agent={"Ana": 12, "Ben": 12, "Chloe": 11}), NOW)
    assert r.agent == "Chloe"
    r = route(req(), cfg, LoadSnapshot(by_agent={"Ana": 12, "Ben": 12, "Chloe": 12}), NOW)
    assert (r.team, r.agent) == ("Support", None)
    assert "everyone eligible in Support is at max_open (Ana 12/12, Ben 12/12, Chloe 12/12); nobody assigned" in r.reason


def test_team_capacity_limits_the_whole_team():
    teams = [dict(t) for t in DEFAULTS["teams"]]
    teams[0]["capacity"] = 20
    rc = with_data(teams=teams)
    assert route(req(), rc, LoadSnapshot(by_team={"Support": 19}), NOW).agent is not None
    r = route(req(), rc, LoadSnapshot(by_team={"Support": 20}), NOW)
    assert r.agent is None and "Support is at capacity (20/20 open)" in r.reason


def test_unavailable_agents_get_nothing():
    agents = [dict(a, available=False) if a["name"] in ("Ana", "Ben") else dict(a) for a in DEFAULTS["agents"]]
    rc = with_data(agents=agents)
    load = LoadSnapshot(by_agent={"Chloe": 11})  # busier than the absent two, still the only one
    assert route(req(), rc, load, NOW).agent == "Chloe"
    agents = [dict(a, available=False) if a["name"] == "Chloe" else a for a in agents]
    r = route(req(), with_data(agents=agents), EMPTY, NOW)
    assert r.agent is None and "no member of Support is available" in r.reason


def test_round_robin_is_fair_over_1000_assignments(cfg):
    rc = with_data(agents=[dict(a, max_open=10_000) for a in DEFAULTS["agents"]])
    load, counts = EMPTY, Counter()
    for _ in range(1000):
        r, load = route_and_assign(req(), rc, load, NOW)
        counts[r.agent] += 1
        assert max(counts.values()) - min(counts[m] for m in ("Ana", "Ben", "Chloe")) <= 1
    assert sum(counts.values()) == 1000 and set(counts) == {"Ana", "Ben", "Chloe"}
    assert load.by_team["Support"] == 1000


def test_round_robin_rotates_even_when_load_does_not_change(cfg):
    # Tickets get solved as fast as they arrive: loads stay equal, only the cursor moves.
    load, counts, order = LoadSnapshot(by_agent={"Ana": 2, "Ben": 2, "Chloe": 2}), Counter(), []
    for _ in range(1000):
        r = route(req(), cfg, load, NOW)
        load = replace(load, last_assigned={"Support": r.agent})
        counts[r.agent] += 1
        order.append(r.agent)
    assert order[:4] == ["Ana", "Ben", "Chloe", "Ana"]
    assert max(counts.values()) - min(counts.values()) <= 1


def test_least_loaded_catches_up_before_round_robin(cfg):
    load = LoadSnapshot(by_agent={"Ana": 5, "Ben": 0, "Chloe": 3})
    got = []
    for _ in range(8):
        r, load = route_and_assign(req(), cfg, load, NOW)
        got.append(r.agent)
    # Ben catches up first; from 3 each, ties alternate from the cursor (Ben -> Chloe next).
    assert got == ["Ben", "Ben", "Ben", "Chloe", "Ben", "Chloe", "Ben", "Chloe"]
    assert dict(load.by_agent) == {"Ana": 5, "Ben": 5, "Chloe": 6}


# -- chains ------------------------------------------------------------------------------------


def test_chain_step_moves_the_route_up_without_acknowledgment(cfg):
    started = NOW - timedelta(minutes=20)  # past tier1's 15 min: step 2 assigns tier2
    r = route(req(tier="tier1"), cfg, EMPTY, NOW, EscalationState(started_at=started))
    assert (r.chain_step, r.team, r.tier) == (1, "Technical", "tier2")
    assert "chain 'default' step 2/3 (assign tier2, waiting for acknowledgment) -> Technical" in r.reason
    r = route(req(tier="tier1"), cfg, EMPTY, NOW, EscalationState(started_at=NOW - timedelta(minutes=50)))
    # The management step brings management in; the ticket stays with Technical.
    assert (r.chain_step, r.team, r.tier, r.management) == (2, "Technical", "tier2", "Management")


def test_chain_first_step_notifies_without_moving(cfg):
    r = route(req(tier="tier1"), cfg, EMPTY, NOW, EscalationState(started_at=NOW - timedelta(minutes=5)))
    assert (r.chain_step, r.team) == (0, "Support")


def test_chain_never_lowers_a_route(cfg):
    # Security is already tier2: the tier2 step leaves it there; management still takes over later.
    st = EscalationState(started_at=NOW - timedelta(minutes=20))
    assert route(req(["security"]), cfg, EMPTY, NOW, st).team == "Security"
    st = EscalationState(started_at=NOW - timedelta(minutes=50))
    r = route(req(["security"]), cfg, EMPTY, NOW, st)
    # Management is brought in beside Security; the ticket stays where the expertise is.
    assert (r.team, r.management) == ("Security", "Management")


def test_a_rule_picks_its_chain_and_steps_can_target_teams_and_agents():
    chains = DEFAULTS["chains"] + [
        {
            "name": "security",
            "steps": [
                {"action": "notify", "agent": "Hana", "wait_minutes": 10},
                {"action": "assign", "team": "Engineering", "wait_minutes": 20},
                {"action": "assign", "agent": "Lee", "wait_minutes": 30},
            ],
        }
    ]
    rules = [dict(DEFAULTS["rules"][0], chain="security")] + DEFAULTS["rules"][1:]
    rc = with_data(chains=chains, rules=rules)

    def at(minutes: int) -> Route:
        return route(req(["security"]), rc, EMPTY, NOW, EscalationState(started_at=NOW - timedelta(minutes=minutes)))

    assert (at(5).chain_step, at(5).team) == (0, "Security")
    assert (at(15).chain_step, at(15).team, at(15).tier) == (1, "Engineering", "tier3")
    r = at(35)
    assert (r.chain_step, r.team, r.agent, r.tier) == (2, "Management", "Lee", "tier2")
    assert "chain 'security' step 3/3 (assign agent Lee, waiting for acknowledgment)" in r.reason
    assert "assigned to Lee by the chain" in r.reason
    # Tickets of other rules keep the default chain.
    other = route(req(tier="tier1"), rc, EMPTY, NOW, EscalationState(started_at=NOW - timedelta(minutes=20)))
    assert other.team == "Technical"


def test_acknowledged_chain_holds(cfg):
    st = EscalationState(started_at=NOW - timedelta(minutes=300), acknowledged_at=NOW - timedelta(minutes=290))
    r = route(req(tier="tier1"), cfg, EMPTY, NOW, st)
    assert (r.chain_step, r.team) == (0, "Support")
    assert "acknowledged" in r.reason


def test_no_chain_state_means_no_chain_step(cfg):
    assert route(req(), cfg, EMPTY, NOW).chain_step is None


# -- human override ----------------------------------------------------------------------------


def test_override_returns_route_and_audit_record(cfg):
    before = route(req(), cfg, EMPTY, NOW)
    new = Route(tier="tier3", team="Engineering", agent="Farah", on_call=False, chain_step=None, reason="")
    final, rec = override_route("zendesk:1", before, new, "maria@example.com", " customer is a\npilot account ", NOW, cfg)
    assert final == replace(new, reason="override by maria@example.com: customer is a pilot account")
    assert (rec.ticket_id, rec.kind, rec.actor, rec.at) == ("zendesk:1", "override", "maria@example.com", NOW)
    assert rec.data["previous"]["team"] == "Support" and rec.data["previous"]["agent"] == before.agent
    assert rec.data["new"]["team"] == "Engineering" and rec.data["new"]["agent"] == "Farah"
    assert rec.data["reason"] == "customer is a pilot account"


def test_override_without_previous_route(cfg):
    new = Route("tier2", "Technical", None, False, None, "")
    _, rec = override_route("zendesk:2", None, new, "maria", "needs API expertise", NOW, cfg)
    assert rec.data["previous"] is None


@pytest.mark.parametrize(
    "new, actor, reason, message",
    [
        (Route("tier2", "Technical", None, False, None, ""), "maria", "  ", "an override needs a reason"),
        (Route("tier2", "Technical", None, False, None, ""), "", "x", "an override needs the actor"),
        (Route("tier2", "Tecnical", None, False, None, ""), "maria", "x", "unknown team 'Tecnical'; did you mean 'Technical'?"),
        (Route("tier2", "Technical", "Nobody", False, None, ""), "maria", "x", "unknown agent 'Nobody'; known agents: Ana"),
        (Route("tier2", "Technical", "Ana", False, None, ""), "maria", "x", "Ana is not a member of Technical; pick one of Dev, Elif"),
        (Route("tier9", "Technical", None, False, None, ""), "maria", "x", "unknown tier 'tier9'"),
    ],
)
def test_override_refusals_name_the_fix(cfg, new, actor, reason, message):
    with pytest.raises(RouteOverrideError) as e:
        override_route("zendesk:1", None, new, actor, reason, NOW, cfg)
    assert message in str(e.value)


def test_documented_example_config_loads_and_routes(tmp_path):
    from .conftest import ROOT

    text = (ROOT / "docs" / "routing.md").read_text()
    block = text.split("```toml\n", 1)[1].split("```", 1)[0]
    f = tmp_path / "c.toml"
    f.write_text(block)
    rc = config_mod.load(f).routing
    assert route(req(["security"]), rc, LoadSnapshot(by_agent={"Dev": 0, "Hana": 3}), NOW).agent == "Hana"
    assert route(req(tags=("webhook",)), rc, LoadSnapshot(by_agent={"Hana": 3}), NOW).agent == "Dev"
    # Dev is scheduled on 2026-12-24 (shift 50, even), the override hands it to Hana.
    night = datetime(2026, 12, 24, 2, 0, tzinfo=timezone.utc)
    r = route(req(tags=("api",), recommendation="immediate", business=False, page=True), rc, EMPTY, night)
    assert (r.agent, r.on_call) == ("Hana", True)
    r = route(req(recommendation="immediate", business=False, page=True), rc, EMPTY, night)
    assert (r.team, r.agent, r.on_call) == ("Experts", "Hana", True)  # Desk falls back to Experts nights
    assert route(req(management=True), rc, EMPTY, NOW).management == "Leads"


# -- speed-ups that must not show ------------------------------------------------------------


def test_assign_leaves_the_snapshot_it_came_from_alone():
    s0 = LoadSnapshot({"Ana": 1}, {"Support": 1}, {"Support": "Ana"})
    s1 = s0.assign("Support", "Ben")
    s2 = s1.assign("Billing", None)
    s3 = s2.assign(None, None)
    assert (dict(s0.by_agent), dict(s0.by_team), dict(s0.last_assigned)) == ({"Ana": 1}, {"Support": 1}, {"Support": "Ana"})
    assert (dict(s1.by_agent), dict(s1.by_team), dict(s1.last_assigned)) == (
        {"Ana": 1, "Ben": 1}, {"Support": 2}, {"Support": "Ben"})
    assert (dict(s2.by_agent), dict(s2.by_team), dict(s2.last_assigned)) == (
        {"Ana": 1, "Ben": 1}, {"Support": 2, "Billing": 1}, {"Support": "Ben"})
    assert s3 == s2 and s3 is not s2


def test_lookups_and_remembered_answers_follow_a_replaced_config(cfg):
    assert cfg.team("Support").tier == "tier1" and cfg.agent("Ana") is not None and cfg.chain("default") is not None
    assert route(req(["security"]), cfg, EMPTY, NOW).team == "Security"
    teams = tuple(replace(t, tier="tier2") if t.name == "Support" else t for t in cfg.teams)
    other = replace(cfg, teams=teams, rules=cfg.rules[1:])  # no security rule
    assert other.team("Support").tier == "tier2" and cfg.team("Support").tier == "tier1"
    assert route(req(["security"]), other, EMPTY, NOW).team != "Security"
    assert route(req(["security"]), cfg, EMPTY, NOW).team == "Security"
    assert cfg.team("Nobody") is None and cfg.agent("Nobody") is None and cfg.chain("Nobody") is None


SKILLED_VARIANT = {
    "agents": [
        dict(a, skills=["integration"]) if a["name"] == "Elif"
        else dict(a, available=False) if a["name"] == "Ben"
        else dict(a, skills=["security"]) if a["name"] == "Gus"
        else a
        for a in DEFAULTS["agents"]
    ],
}


@pytest.mark.parametrize("data", [{}, SKILLED_VARIANT])
def test_remembered_answers_match_a_fresh_config_for_any_request(data):
    # The shared config remembers destinations and eligible members; a fresh one per request
    # remembers nothing. Both must route every request the same way.
    import random

    rnd = random.Random(3)
    shared = with_data(**data)
    cats = ["security", "Billing", "refund", "outage", "technical", "gdpr", "legal", "nothing"]
    tags = ["api", "Invoice", "billing", "integration", "vip"]
    load = EMPTY
    for n in range(300):
        r = req(
            tuple(rnd.sample(cats, rnd.randrange(0, 3))),
            rnd.choice(["tier0", "tier1", "tier2", "tier3"]),
            rnd.choice(["none", "monitor", "priority", "immediate"]),
            tuple(rnd.sample(tags, rnd.randrange(0, 3))),
            rnd.choice(["low", "normal", "high", "urgent", None]),
            rnd.random() < 0.6,
            rnd.random() < 0.2,
            rnd.random() < 0.3,
        )
        when = rnd.choice([NOW, NIGHT])
        state = EscalationState(when - timedelta(minutes=rnd.randrange(0, 200))) if rnd.random() < 0.3 else None
        fresh = with_data(**data)
        got = route(r, shared, load, when, state)
        assert got == route(r, fresh, load, when, state), n
        load = load.assign(got.team, got.agent)
