"""Progressive escalation chains: progression with and without acknowledgment, expiring acks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from deskwatch.core.policy.chains import EscalationChain, EscalationState, EscalationStep, chain_step, parse_chain
from deskwatch.core.policy.routing import DEFAULTS, parse
from deskwatch.core.model.settings import ConfigError, Section

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def chain() -> EscalationChain:
    """The default chain: tier1 15 min -> tier2 30 min -> management 60 min."""
    return parse(Section(DEFAULTS)).chain("default")


def test_default_chain_is_tier1_tier2_management(chain):
    assert [(s.action, s.level, s.wait_minutes) for s in chain.steps] == [
        ("notify", "tier1", 15),
        ("assign", "tier2", 30),
        ("assign", "management", 60),
    ]


@pytest.mark.parametrize(
    "minutes, index, due, exhausted",
    [
        (0, 0, 15, False),
        (14.99, 0, 15, False),
        (15, 1, 45, False),  # no ack after 15 min: tier2 is due
        (44, 1, 45, False),
        (45, 2, 105, False),  # no ack after another 30: management
        (104, 2, 105, False),
        (105, 2, None, True),  # the last wait ran out too: exhausted, stays on management
        (10_000, 2, None, True),
    ],
)
def test_without_acknowledgment_the_chain_advances_as_waits_elapse(chain, minutes, index, due, exhausted):
    st = chain_step(chain, EscalationState(started_at=T0), at(minutes))
    assert st.index == index
    assert st.due_at == (at(due) if due is not None else None)
    assert st.exhausted is exhausted
    assert st.acknowledged is False


def test_repeat_runs_the_whole_chain_again_before_exhausting(chain):
    twice = EscalationChain("twice", chain.steps, repeat=2)
    state = EscalationState(started_at=T0)
    st = chain_step(twice, state, at(105))  # first round done: back to tier1, round 2
    assert (st.index, st.round, st.due_at, st.exhausted) == (0, 1, at(120), False)
    st = chain_step(twice, state, at(150))
    assert (st.index, st.round, st.due_at) == (2, 1, at(210))
    assert chain_step(twice, state, at(210)).exhausted
    assert not chain_step(twice, state, at(209)).exhausted


def test_an_acknowledgment_stops_the_chain_on_its_step(chain):
    state = EscalationState(started_at=T0, acknowledged_at=at(20))  # acknowledged while tier2 was paged
    for later in (20, 60, 500, 10_000):
        st = chain_step(chain, state, at(later))
        assert (st.index, st.acknowledged, st.due_at, st.exhausted) == (1, True, None, False)
        assert st.target == "tier2"


def test_an_expired_acknowledgment_resumes_the_chain_with_a_full_wait(chain):
    state = EscalationState(started_at=T0, acknowledged_at=at(20), ack_expires_after=60)
    held = chain_step(chain, state, at(79))
    assert (held.index, held.acknowledged) == (1, True)
    resumed = chain_step(chain, state, at(80))  # ack lapsed at +80: tier2 again, full 30 min
    assert (resumed.index, resumed.acknowledged, resumed.due_at) == (1, False, at(110))
    nxt = chain_step(chain, state, at(110))
    assert (nxt.index, nxt.due_at) == (2, at(170))
    assert chain_step(chain, state, at(170)).exhausted


def test_without_ack_the_same_times_would_already_be_exhausted(chain):
    # The control for the test above: the pause from the acknowledgment is what kept it going.
    assert chain_step(chain, EscalationState(started_at=T0), at(110)).exhausted


def test_an_acknowledgment_after_now_is_not_counted_yet(chain):
    state = EscalationState(started_at=T0, acknowledged_at=at(50))
    st = chain_step(chain, state, at(20))
    assert (st.index, st.acknowledged, st.due_at) == (1, False, at(45))


def test_acknowledged_on_the_first_step_holds_there(chain):
    st = chain_step(chain, EscalationState(started_at=T0, acknowledged_at=at(3)), at(300))
    assert (st.index, st.acknowledged) == (0, True)


def test_team_and_agent_targets_are_labelled():
    c = EscalationChain("c", (EscalationStep("notify", 10, agent="Hana"), EscalationStep("assign", 10, team="Security")))
    assert chain_step(c, EscalationState(T0), at(0)).target == "agent Hana"
    assert chain_step(c, EscalationState(T0), at(10)).target == "team Security"


def _chain_error(data: dict) -> str:
    with pytest.raises(ConfigError) as e:
        parse_chain(Section(data, "routing.chains[0]", "config.toml"))
    return str(e.value)


def test_step_with_two_targets_is_refused():
    msg = _chain_error({"name": "x", "steps": [{"level": "tier1", "team": "Support", "wait_minutes": 5}]})
    assert msg == (
        "config.toml: routing.chains[0].steps[0]: a step targets exactly one of level, team or agent "
        "but has level and team; keep one"
    )


def test_step_errors_name_the_key():
    assert "routing.chains[0].steps[0].wait_minutes: must be at least 1, got 0" in _chain_error(
        {"name": "x", "steps": [{"level": "tier1", "wait_minutes": 0}]}
    )
    assert "steps[0].level: expected one of tier0" in _chain_error(
        {"name": "x", "steps": [{"level": "tier9", "wait_minutes": 5}]}
    )
    assert "steps[0].action: expected one of notify, assign" in _chain_error(
        {"name": "x", "steps": [{"action": "page", "level": "tier1", "wait_minutes": 5}]}
    )
    assert "routing.chains[0].steps: is empty" in _chain_error({"name": "x", "steps": []})
