"""Re-deciding history as it unfolded (``deskwatch replay``, docs/replay.md).

For every ticket, at each customer message, the engine decides the ticket as it stood then:
the messages up to that moment, the status it had then (from its status history), the clock at
that moment, the customer's earlier tickets, and the outage reports seen so far. The same
timeline is decided under each config given (the active one and a candidate), so the two can
be compared decision by decision (``replay_compare.py``).

``replay_iter`` hands each ticket's timeline over as soon as its last customer message is
decided, so a comparison can fold it into its counters and drop it: memory then holds the
tickets and the steps of the tickets still open in the replay, not every decision of the
history (about 4.7 GB for 100,000 tickets when all are kept).

What is not replayed: the routing load of the time (every decision sees an empty queue), a
person's hold over the engine (the raw engine verdict is what is compared), and escalation
chains. Earlier tickets are read as they were finally stored.
"""

from __future__ import annotations

import bisect
import heapq
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator, Sequence

from deskwatch.core.engine import DecisionContext, decide, gc_paused
from deskwatch.core.engine.history import MemoryHistory
from deskwatch.core.engine.nlp import SupportLayer, analyzer_for
from deskwatch.core.engine.signals import IncidentIndex, TextCache
from deskwatch.core.engine.signals.impact import OUTAGE, customer_key
from deskwatch.core.model import CLOSED_STATUSES, Decision, Ticket


@dataclass(frozen=True)
class Step:
    """One decision of the timeline: at ``at`` (a customer message), under one config."""

    at: datetime
    decision: Decision


@dataclass
class Timeline:
    ticket: Ticket
    steps: dict[str, list[Step]] = field(default_factory=dict)  # config label -> decisions in time order
    order: int = 0  # the ticket's place in the input: ties in the comparison keep input order


class _Memo:
    """The analyzer, with each text scored once: every step re-reads the earlier messages."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.name = getattr(inner, "name", "memo")
        self._cache: dict[str, float] = {}

    def score(self, text: str) -> float:
        v = self._cache.get(text)
        if v is None:
            v = self._cache[text] = self.inner.score(text)
        return v

    def score_many(self, texts: Sequence[str]) -> list[float]:
        return [self.score(t) for t in texts]


def status_at(ticket: Ticket, at: datetime) -> str:
    """The ticket's status at ``at``: the last observed change up to then; before any, new."""
    if not ticket.status_history:
        # never seen changing: its status now, unless that is closed (it was open before)
        return "open" if ticket.status in CLOSED_STATUSES else ticket.status
    status = "new"
    for change in ticket.status_history:
        if change.at <= at:
            status = change.status
    return status


def as_of(ticket: Ticket, at: datetime) -> Ticket:
    """The ticket as it stood at ``at``."""
    return replace(
        ticket,
        messages=tuple(m for m in ticket.messages if m.created_at <= at),
        updated_at=at,
        status=status_at(ticket, at),
        status_history=tuple(c for c in ticket.status_history if c.at <= at),
    )


def events(tickets: Sequence[Ticket]) -> Iterator[tuple[datetime, int]]:
    """(time, ticket index) of every customer message, in time order (ties: ticket order)."""
    per_ticket = [
        sorted({m.created_at for m in t.messages if m.author == "customer"} or {t.created_at}) for t in tickets
    ]
    heap = [(times[0], i, 0) for i, times in enumerate(per_ticket) if times]
    heapq.heapify(heap)
    while heap:
        at, i, k = heapq.heappop(heap)
        yield at, i
        if k + 1 < len(per_ticket[i]):
            heapq.heappush(heap, (per_ticket[i][k + 1], i, k + 1))


class _Runner:
    """Decides steps under one config, keeping that config's text cache and outage reports."""

    def __init__(self, label: str, config: Any, caches: dict[str, TextCache], history: MemoryHistory):
        self.label, self.config, self.history = label, config, history
        esc, nlp = config.escalation, config.nlp
        # Read text depends on the analyzer settings and the trigger phrases only: a candidate
        # that changes weights, thresholds or rules shares the active config's reading of
        # every message, so the second config costs the signals and scoring alone.
        key = repr((nlp, esc.triggers))
        if key not in caches:
            caches[key] = TextCache(esc, _Memo(analyzer_for(nlp)), SupportLayer(nlp))
        self.texts = caches[key]
        self.window = timedelta(hours=esc.impact.outage_window_hours)
        self.reports: list[tuple[datetime, str, str]] = []  # outage reports seen so far, sorted
        self.reported: set[str] = set()

    def step(self, ticket: Ticket, at: datetime) -> Decision:
        lo = bisect.bisect_left(self.reports, (at - self.window,))
        hi = bisect.bisect_right(self.reports, (at, "\uffff"))
        incidents = IncidentIndex.build(self.reports[lo:hi])
        d = decide(ticket, self.config, at, DecisionContext(history=self.history, incidents=incidents, texts=self.texts))
        if ticket.id not in self.reported and OUTAGE in self.texts.get(ticket).hits:
            self.reported.add(ticket.id)
            bisect.insort(self.reports, (ticket.created_at, customer_key(ticket), ticket.id))
        return d


def replay(
    tickets: Sequence[Ticket], configs: dict[str, Any], progress: Callable[[int, int], None] | None = None,
) -> list[Timeline]:
    """Every ticket's timeline decided under each of ``configs`` (label -> loaded Config), in
    input order. Holds every decision: for a long history use ``replay_iter``."""
    out = list(replay_iter(tickets, configs, progress))
    out.sort(key=lambda tl: tl.order)
    return out


def replay_iter(
    tickets: Sequence[Ticket], configs: dict[str, Any], progress: Callable[[int, int], None] | None = None,
) -> Iterator[Timeline]:
    """Each ticket's timeline under each of ``configs``, yielded as soon as the ticket's last
    customer message is decided (so in the order tickets finish, not input order; ``order``
    gives the input place). The replay keeps no reference to a yielded timeline."""
    history = MemoryHistory(tickets)
    caches: dict[str, TextCache] = {}
    runners = [_Runner(label, cfg, caches, history) for label, cfg in configs.items()]
    todo = list(events(tickets))
    left = [0] * len(tickets)  # steps still to decide, per ticket
    for _, i in todo:
        left[i] += 1
    open_: dict[int, Timeline] = {}
    with gc_paused():
        for n, (at, i) in enumerate(todo, 1):
            tl = open_.get(i)
            if tl is None:
                tl = open_[i] = Timeline(tickets[i], {r.label: [] for r in runners}, i)
            t = as_of(tickets[i], at)
            for r in runners:
                tl.steps[r.label].append(Step(at, r.step(t, at)))
            if progress is not None and (n % 500 == 0 or n == len(todo)):
                progress(n, len(todo))
            # Text of a step is never read again (the next step of the ticket is a new version),
            # except through history, which reads the final ticket: drop it to bound memory.
            for cache in caches.values():
                cache._items.pop((t.id, t.updated_at), None)
            left[i] -= 1
            if not left[i]:
                yield open_.pop(i)
