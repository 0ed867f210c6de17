"""Progressive escalation chains: notify or assign a level, wait for an acknowledgment, go up.

A chain is an ordered list of steps. Each step targets a level (a tier), a team or an agent and
waits ``wait_minutes`` for someone to acknowledge; without an acknowledgment the next step is
due. After the last step the chain starts again from the first, ``repeat`` times in all, and
then it is exhausted (it stays on its last step).

An acknowledgment stops the chain on the step it was on. An acknowledgment can expire
(``ack_expires_after`` minutes): the chain then resumes on that same step, which gets its full
wait again from the moment the acknowledgment lapsed, because the people who acknowledged
are the ones who should hear about it first.

Pure: ``now`` is always passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from deskwatch.core.model import LEVELS
from deskwatch.core.model.settings import Section

ACTIONS = ("notify", "assign")


@dataclass(frozen=True)
class EscalationStep:
    action: str  # notify: tell the target; assign: move the ticket to the target
    wait_minutes: int  # how long to wait for an acknowledgment before the next step
    # A tier, resolved to a team through routing.hierarchy; or "management": the step brings
    # management in (routing.management) beside the team, it does not move the ticket.
    level: str | None = None
    team: str | None = None
    agent: str | None = None

    @property
    def target(self) -> str:
        """A short label: "tier2", "team Security" or "agent Hana"."""
        if self.agent:
            return f"agent {self.agent}"
        if self.team:
            return f"team {self.team}"
        return str(self.level)


@dataclass(frozen=True)
class EscalationChain:
    name: str
    steps: tuple[EscalationStep, ...]
    repeat: int = 1  # how many times the whole chain runs before it is exhausted


@dataclass(frozen=True)
class EscalationState:
    """Where a ticket's chain stands: when it started and the latest acknowledgment, if any."""

    started_at: datetime
    acknowledged_at: datetime | None = None
    ack_expires_after: int | None = None  # minutes; None = an acknowledgment never expires


@dataclass(frozen=True)
class ChainStep:
    index: int  # 0-based position of the current step in the chain
    round: int  # 0-based repetition of the chain
    step: EscalationStep
    due_at: datetime | None  # when the next step becomes due; None when stopped or exhausted
    exhausted: bool  # every step of every repetition has run without an acknowledgment
    acknowledged: bool = False  # stopped by a live acknowledgment

    @property
    def target(self) -> str:
        return self.step.target


def _walk(
    chain: EscalationChain, index: int, rnd: int, began: datetime, until: datetime
) -> tuple[int, int, datetime | None, bool]:
    """Advance from step ``index`` (begun at ``began``) while its wait has elapsed by ``until``."""
    last = len(chain.steps) - 1
    while True:
        due = began + timedelta(minutes=chain.steps[index].wait_minutes)
        if until < due:
            return index, rnd, due, False
        if index == last and rnd + 1 >= chain.repeat:
            return index, rnd, None, True
        began = due
        index, rnd = (0, rnd + 1) if index == last else (index + 1, rnd)


def chain_step(chain: EscalationChain, state: EscalationState, now: datetime) -> ChainStep:
    """The step of ``chain`` that applies at ``now`` given the acknowledgment ``state``.

    Without an acknowledgment the chain advances as waits elapse. A live acknowledgment holds it
    on the step it was on (``acknowledged=True``, no due time). An expired one resumes it there.
    """
    start = min(state.started_at, now)
    ack = state.acknowledged_at
    if ack is None or ack > now:
        # An acknowledgment stamped after ``now`` has not happened yet from this point of view.
        i, r, due, done = _walk(chain, 0, 0, start, now)
        return ChainStep(i, r, chain.steps[i], due, done)
    ack = max(ack, start)
    i, r, _, done = _walk(chain, 0, 0, start, ack)
    if state.ack_expires_after is None:
        return ChainStep(i, r, chain.steps[i], None, done, acknowledged=True)
    lapsed = ack + timedelta(minutes=state.ack_expires_after)
    if now < lapsed:
        return ChainStep(i, r, chain.steps[i], None, done, acknowledged=True)
    i, r, due, done = _walk(chain, i, r, lapsed, now)
    return ChainStep(i, r, chain.steps[i], due, done)


# ---------------------------------------------------------------------------------------------
# config


def parse_step(s: Section) -> EscalationStep:
    action = s.string("action", "notify", choices=ACTIONS)
    level = s.string("level", None) or None
    team = s.string("team", None) or None
    agent = s.string("agent", None) or None
    given = [k for k, v in (("level", level), ("team", team), ("agent", agent)) if v]
    if len(given) != 1:
        problem = "has none" if not given else f"has {' and '.join(given)}"
        raise s.error("", f"a step targets exactly one of level, team or agent but {problem}; keep one")
    if level is not None and level not in LEVELS:
        raise s.error("level", f'expected one of {", ".join(LEVELS)}, got "{level}"')
    wait = s.integer("wait_minutes", min=1, max=7 * 24 * 60)
    s.check_unknown(("action", "level", "team", "agent", "wait_minutes"))
    return EscalationStep(action=action, wait_minutes=wait, level=level, team=team, agent=agent)


def parse_chain(s: Section) -> EscalationChain:
    """One ``[[routing.chains]]`` table; team and agent names are checked by the caller."""
    name = s.string("name")
    steps = tuple(parse_step(x) for x in s.sections("steps"))
    if not steps:
        raise s.error("steps", "is empty; add [[routing.chains.steps]] tables with a target and wait_minutes")
    repeat = s.integer("repeat", 1, min=1, max=100)
    s.check_unknown(("name", "steps", "repeat"))
    return EscalationChain(name=name, steps=steps, repeat=repeat)
