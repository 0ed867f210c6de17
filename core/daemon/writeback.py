"""Write back once: deskwatch does not react to its own write-back.

When deskwatch escalates a ticket it raises the priority, sets group and assignee, adds tags and
posts a private note. The helpdesk then reports the ticket as changed (a new ``updated_at``),
the daemon syncs it again, and without care the engine would decide again from a ticket that
deskwatch itself changed: the raised priority picks a stricter SLA policy that is already
breached, the assignment counts toward the agent's load, the round robin moves on, and a second
handoff note with another team or agent follows the first a few seconds later.

So the pipeline reads a ticket with deskwatch's own writes undone (``OwnWrites.strip``: the
priority, group and assignee from before deskwatch's update, without its tags, markers and
notes), fingerprints those facts with each decision, and ``settle`` keeps the earlier decision
when nothing new came up. New information is a customer message, a person's change (in the
helpdesk or the console), or time passing a threshold (the recommendation rises, a new hard
trigger fires, the escalation chain reaches its next step).
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

from deskwatch.core.connect.contract import idempotency_tag
from deskwatch.core.model import CLOSED_STATUSES, PRIORITIES, RECOMMENDATIONS, Decision, Route, Ticket, TicketUpdate, ticket_to_dict
from deskwatch.core.policy import actions
from deskwatch.core.policy.holds import hard_categories
from deskwatch.core.policy.routing import LoadSnapshot

# Tags connectors write for the escalation flag on helpdesks that have none (Zendesk and
# Freshdesk ``escalation_tag``, default "escalated"). A connector configured with another tag
# makes the echo look like a change; the decision is then taken again from the same facts
# and settles on the same route, so at worst deskwatch decides once more, it does not re-escalate.
ESCALATION_FLAG_TAGS = frozenset({"escalated"})
HANDOFF_PREFIX = "deskwatch escalated this ticket:"
MIN_NOTE_LINE = 24


def basis_of(ticket: Ticket) -> dict[str, Any]:
    """What an update records about the ticket before it (``Store.enqueue(basis=...)``)."""
    return {"priority": ticket.priority, "group": ticket.group, "assignee": ticket.assignee, "tags": list(ticket.tags)}


@dataclass(frozen=True)
class OwnWrites:
    """What deskwatch has written to one ticket (its outbox items), to undo on the echo."""

    # value deskwatch wrote -> the ticket's value before that write
    priority: Mapping[str, str | None] = field(default_factory=dict)
    group: Mapping[str, str | None] = field(default_factory=dict)
    assignee: Mapping[str, str | None] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()  # tags deskwatch added (or connectors added for it)
    markers: frozenset[str] = frozenset()  # the idempotency markers connectors put on tickets and notes
    notes: tuple[str, ...] = ()  # the first line of each note deskwatch posted

    @classmethod
    def from_outbox(cls, items: Iterable[Any]) -> "OwnWrites":
        """From the ticket's outbox items (``Store.outbox_for``), oldest first. A write without
        a recorded basis cannot be undone (its value stays: a change, decided again)."""
        maps: dict[str, dict[str, str | None]] = {"priority": {}, "group": {}, "assignee": {}}
        tags: set[str] = set()
        markers: set[str] = set()
        notes: list[str] = []
        had_tags: set[str] | None = None
        flagged = False
        for item in items:
            u: TicketUpdate = item.update
            basis = item.basis if isinstance(getattr(item, "basis", None), dict) else None
            markers.add(idempotency_tag(u.idempotency_key))
            if basis is not None:
                if had_tags is None:
                    had_tags = set(basis.get("tags") or ())
                for name, m in maps.items():
                    written = getattr(u, name)
                    if written is not None and written != basis.get(name):
                        m.setdefault(written, basis.get(name))  # the first write knows the original value
            tags.update(u.tags_add)
            flagged = flagged or bool(u.escalated)
            if u.private_note and u.private_note.strip():
                notes.append(u.private_note.strip().splitlines()[0])
        if flagged:
            tags |= ESCALATION_FLAG_TAGS
        tags -= had_tags or set()  # a tag the ticket had before deskwatch wrote anything is the ticket's own
        return cls(maps["priority"], maps["group"], maps["assignee"], frozenset(tags), frozenset(markers), tuple(notes))

    def _undo(self, value: str | None, written: Mapping[str, str | None]) -> str | None:
        if value is None and written:
            # A field deskwatch wrote that the helpdesk now reports empty was not emptied by a
            # person: Salesforce keeps the group and the assignee in one owner field, so
            # assigning an agent there leaves no queue to read back.
            return next(iter(written.values()))
        seen: set[str | None] = set()
        while value in written and value not in seen:
            seen.add(value)
            value = written[value]  # type: ignore[index]
        return value

    def _undo_priority(self, value: str | None) -> str | None:
        # Helpdesks with fewer priorities store deskwatch's "urgent" as their highest one
        # (Salesforce: High): a priority above the one before and at most the one written is
        # the echo of that write.
        if value in PRIORITIES and value not in self.priority:
            rank = PRIORITIES.index(value)
            for written, before in self.priority.items():
                low = PRIORITIES.index(before) if before in PRIORITIES else -1
                if written in PRIORITIES and low < rank <= PRIORITIES.index(written):
                    value = written
                    break
        return self._undo(value, self.priority)

    def is_own_note(self, body: str) -> bool:
        """A private note deskwatch posted: it carries an update's marker (the three connectors
        write one), or, from a connector that writes none, the opening line of a note long
        enough not to be mistaken for a person's short remark."""
        text = html.unescape(body)
        return any(m in text for m in self.markers) or any(len(n) >= MIN_NOTE_LINE and n in text for n in self.notes)

    def strip(self, ticket: Ticket) -> Ticket:
        """``ticket`` with deskwatch's own writes undone: what the engine reads."""
        if not (self.markers or self.notes):
            return ticket
        return replace(
            ticket,
            priority=self._undo_priority(ticket.priority),
            group=self._undo(ticket.group, self.group),
            assignee=self._undo(ticket.assignee, self.assignee),
            tags=tuple(t for t in ticket.tags if t not in self.tags and t not in self.markers),
            messages=tuple(m for m in ticket.messages if m.public or not self.is_own_note(m.body)),
        )

    def fingerprint(self, ticket: Ticket) -> str:
        """A hash of the ticket's facts without deskwatch's writes and without ``updated_at``
        (the helpdesk moves it for the echo too)."""
        d = ticket_to_dict(self.strip(ticket))
        d.pop("updated_at", None)
        return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()


def without_own_assignment(load: LoadSnapshot, ticket: Ticket) -> LoadSnapshot:
    """``load`` without ``ticket`` itself: routing a ticket does not count its own current
    assignment (often deskwatch's own write-back) as load on that agent and group."""
    if ticket.status in CLOSED_STATUSES or (ticket.assignee is None and ticket.group is None):
        return load
    by_agent, by_team = load.by_agent, load.by_team
    if ticket.assignee is not None and by_agent.get(ticket.assignee, 0) > 0:
        by_agent = {**by_agent, ticket.assignee: by_agent[ticket.assignee] - 1}
    if ticket.group is not None and by_team.get(ticket.group, 0) > 0:
        by_team = {**by_team, ticket.group: by_team[ticket.group] - 1}
    return LoadSnapshot(by_agent, by_team, load.last_assigned)


def _rank(recommendation: str | None) -> int:
    return RECOMMENDATIONS.index(recommendation) if recommendation in RECOMMENDATIONS else -1


def _step(decision: Decision) -> tuple[str | None, int | None]:
    r = decision.route
    return (r.chain, r.chain_step) if r is not None else (None, None)


def what_is_new(decision: Decision, previous: Decision) -> str | None:
    """What ``decision`` brings that ``previous`` did not, whatever the ticket's facts: the
    recommendation rose, a new hard trigger fired, or the escalation chain reached a step that
    moves the ticket (another tier or team, or to on-call). None when nothing: a chain step
    that leaves the ticket where it is, or the round robin moving on, is not news."""
    if _rank(decision.recommendation) > _rank(previous.recommendation):
        return f"the recommendation rose from {previous.recommendation} to {decision.recommendation}"
    new_hard = sorted(set(hard_categories(decision.signals)) - set(hard_categories(previous.signals)))
    if new_hard:
        return f"a new hard trigger fired: {', '.join(new_hard)}"
    now, before = decision.route, previous.route
    if now is not None and now.chain_step is not None and _step(decision) != _step(previous):
        if (decision.tier, decision.team) != (previous.tier, previous.team):
            return f"the escalation chain moved it to {decision.tier} / {decision.team}"
        if now.on_call and not (before is not None and before.on_call):
            return f"the escalation chain reached on-call ({now.agent})"
    if decision.management is not None and previous.management is None:
        return "management attention: " + "; ".join(decision.management.reasons[:2])
    if decision.page and not previous.page:
        return f"an incident: {decision.page_reason}"
    return None


def _kept_route(route: Route | None, previous: Route | None) -> Route | None:
    """``previous``'s destination on ``route``'s chain step: the ticket stays with whom it was
    escalated to, and the recorded route still says how far its chain has run."""
    if route is None or previous is None:
        return previous or route
    reason = route.reason
    if route.agent != previous.agent and previous.agent is not None:
        reason = f"{reason.rsplit('; ', 1)[0]}; stays with {previous.agent}, to whom it was escalated"
    # who is paged and whom management attention goes to follow the new decision
    return replace(previous, chain=route.chain, chain_step=route.chain_step, reason=reason,
                   on_call=route.on_call and route.agent == previous.agent, management=route.management, page=route.page)


@dataclass(frozen=True)
class Settled:
    """What to do with a fresh engine decision: ``keep`` the previous one (record nothing),
    or record ``decision`` (perhaps on the previous route)."""

    decision: Decision
    keep: bool = False
    why: str = ""


def settle(decision: Decision, previous: Decision | None, *, same_facts: bool, by_engine: bool, held: bool) -> Settled:
    """Whether ``decision`` stands, given the ``previous`` decision and whether the ticket's
    facts are the same as then (``same_facts``: only deskwatch's own write-back, if anything,
    changed the ticket).

    - Something new (``what_is_new``): ``decision`` stands, with its own route.
    - Same facts, same chain step: the previous decision is kept (nothing is recorded).
    - The ticket was escalated by the engine and still is: the previous destination (tier,
      team, agent) stays, so no second handoff note goes out because the load, the round
      robin or the wording moved; the score, signals, SLA and chain step are the new ones.
    - Otherwise (first decision, a person's decision before, a hold) ``decision``.
    """
    if previous is None or not by_engine or held:
        return Settled(decision)
    new = what_is_new(decision, previous)
    if new is not None:
        return Settled(decision, why=new)
    if same_facts and _step(decision) == _step(previous):
        return Settled(previous, keep=True, why="nothing new since the last decision")
    if decision.recommendation in actions.ESCALATING and previous.recommendation in actions.ESCALATING:
        kept = replace(decision, tier=previous.tier, team=previous.team, route=_kept_route(decision.route, previous.route))
        return Settled(kept, why="already escalated; it stays where it was escalated to")
    return Settled(decision)
