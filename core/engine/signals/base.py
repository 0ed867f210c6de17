"""What every signal function receives, and the one way to build a Signal.

A signal is a small pure function ``(ticket, ctx) -> Signal | list[Signal] | None``. ``ctx``
(``SignalContext``) carries the parsed ``escalation`` config, ``now``, the history view, the
SLA status and ``text``: the ticket's text analyzed once (quotes and signatures stripped,
sentiment read, trigger phrases found), shared by every signal so no message is read twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Sequence, Union

from deskwatch.core.engine.escalation import EscalationConfig
from deskwatch.core.engine.history import HistoryView, NoHistory
from deskwatch.core.engine.lazy import lazy
from deskwatch.core.model import SlaStatus, Signal, Ticket
from deskwatch.core.engine.nlp import Analyzer, Reading, SupportLayer, read_messages
from deskwatch.core.engine.symptoms import Report, report as symptom_report
from deskwatch.core.engine.markers import TicketMarkers, find_markers
from deskwatch.core.engine.text import keywords, new_text, unquote, word_set


def clamp(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo if x < lo else hi if x > hi else x


def make_signal(
    name: str,
    value: float,
    weight: float,
    evidence: Sequence[str] = (),
    detail: str = "",
    category: str | None = None,
    hard: bool = False,
) -> Signal:
    """A Signal with value clamped to 0..1 and contribution = value * weight."""
    v = round(clamp(value), 4)
    return Signal(name, v, weight, round(v * weight, 4), tuple(evidence), detail, category, hard)


_MAX_MEMO = 8192  # entries kept per table of a TextCache: a long-lived one (replay) stays small


class _Shared:
    """What a TextCache's tickets share, by text: support text repeats ("Any update on this?", a
    macro quoted back, a form sent twice, the same complaint to two helpdesks), and each of these
    depends on the text alone, so a distinct text is read once per cache."""

    __slots__ = ("readings", "new_text", "words")

    def __init__(self) -> None:
        self.readings: dict[str, Reading] = {}  # sentiment (without read-ahead scores)
        self.new_text: dict[str, str] = {}  # message body -> new_text(body)
        self.words: dict[str, frozenset[str]] = {}  # text -> word_set(text)


def _remember(table: dict, key: str, value: object) -> None:
    if len(table) >= _MAX_MEMO:
        table.clear()
    table[key] = value


class TicketText:
    """A ticket's text, read once: new words per message, readings, trigger hits, keywords.

    Everything is computed on first use, so a ticket seen only as history (for repeat contact)
    never pays for sentiment analysis.
    """

    def __init__(self, ticket: Ticket, config: EscalationConfig, analyzer: Analyzer | None, layer: SupportLayer,
                 shared: _Shared | None = None):
        self.ticket = ticket
        self._config = config
        self._analyzer = analyzer
        self._layer = layer
        self._bases: Sequence[float] | None = None  # analyzer scores of ``customer``, if read ahead
        self._shared = shared if shared is not None else _Shared()

    @property
    def analyzer(self) -> Analyzer | None:
        return self._analyzer

    @lazy
    def bodies(self) -> tuple[str, ...]:
        """``new_text`` of every message (agents' too), index-aligned with ``ticket.messages``."""
        memo = self._shared.new_text
        out = []
        for m in self.ticket.messages:
            if m.author == "system":
                out.append("")
                continue
            text = memo.get(m.body)
            if text is None:
                text = new_text(m.body)
                _remember(memo, m.body, text)
            out.append(text)
        return tuple(out)

    @lazy
    def customer(self) -> tuple[str, ...]:
        """What the customer newly wrote in each of their messages (empty ones dropped)."""
        return tuple(b for m, b in zip(self.ticket.messages, self.bodies) if m.author == "customer" and b)

    @lazy
    def customer_words(self) -> tuple[frozenset[str], ...]:
        """``word_set`` of each entry of ``customer``: computed once, read by every matcher."""
        memo = self._shared.words
        out = []
        for t in self.customer:
            words = memo.get(t)
            if words is None:
                words = word_set(t)
                _remember(memo, t, words)
            out.append(words)
        return tuple(out)

    def words(self, text: str) -> frozenset[str]:
        """``word_set(text)``, reusing the customer messages' sets."""
        for t, w in zip(self.customer, self.customer_words):
            if t is text:
                return w
        return word_set(text)

    @lazy
    def readings(self) -> tuple[Reading, ...]:
        """Sentiment of each entry of ``customer``, in order."""
        if self._analyzer is None:
            return ()
        memo = self._shared.readings
        if self._bases is not None:
            return read_messages(self.customer, self._analyzer, self._layer, self.customer_words, self._bases)
        # A text reads the same in every ticket ("Any update on this?", a form sent twice, the
        # same complaint to two helpdesks): each distinct text is scored once per cache.
        texts = self.customer
        got = [memo.get(t) for t in texts]
        todo = [i for i, r in enumerate(got) if r is None]
        if todo:
            words = self.customer_words
            new = read_messages([texts[i] for i in todo], self._analyzer, self._layer, [words[i] for i in todo])
            for i, r in zip(todo, new):
                got[i] = r
                _remember(memo, texts[i], r)
        return tuple(got)  # type: ignore[arg-type]

    @property
    def scored(self) -> bool:
        """Whether the analyzer has scored ``customer`` (read, or read ahead)."""
        return self._bases is not None or "readings" in vars(self)

    def score_ahead(self, scores: Sequence[float]) -> None:
        """The analyzer's scores of ``customer``, computed for a whole batch at once."""
        if len(scores) != len(self.customer):
            raise ValueError(f"{len(scores)} scores for {len(self.customer)} customer messages")
        self._bases = scores

    @lazy
    def searchable(self) -> str:
        """Subject plus the customer's new words: where triggers and impact phrases are looked for."""
        return "\n".join((unquote(self.ticket.subject), *self.customer))

    @lazy
    def searchable_words(self) -> frozenset[str]:
        # The parts are joined by a newline, which no word contains, so the union is exact.
        return word_set(unquote(self.ticket.subject)).union(*self.customer_words)

    @lazy
    def hits(self) -> dict[str, list[str]]:
        """Trigger category -> distinct phrases found (as written), non-negated."""
        out: dict[str, list[str]] = {}
        for h in self._config.trigger_matcher.find(self.searchable, self.searchable_words):
            seen = out.setdefault(h.category, [])
            if h.text.lower() not in (s.lower() for s in seen):
                seen.append(h.text)
        if "outage" in out and self.markers.resolved:
            del out["outage"]  # a past outage the customer says is over (core/engine/markers.py)
        return out

    @lazy
    def markers(self) -> TicketMarkers:
        """What the ticket is about (core/engine/markers.py): incidents, defects, how-tos, money."""
        return find_markers((unquote(self.ticket.subject), *self.customer), (None, *self.customer_words))

    @lazy
    def keywords(self) -> frozenset[str]:
        """Words that identify the issue: subject and the first customer message."""
        first = self.customer[0] if self.customer else ""
        return keywords(self.ticket.subject + "\n" + first)

    @lazy
    def symptoms(self) -> Report | None:
        """The failures the customer reports and when they last said so (engine/symptoms.py)."""
        t = self.ticket
        said = [m.created_at for m, b in zip(t.messages, self.bodies) if m.author == "customer" and b]
        return symptom_report(t.subject, t.created_at, list(zip(said, self.customer, self.customer_words)))

    @lazy
    def contact(self) -> str:
        """How repeat contact names this ticket in evidence, up to the reason it adds:
        ``"zendesk:12 (email, 2026-11-20, "``. A big account's ticket is named in many decisions."""
        t = self.ticket
        return f"{t.id} ({t.channel}, {t.created_at.date().isoformat()}, "

    @lazy
    def word_count(self) -> int:
        return sum(len(t.split()) for t in self.customer)


class TextCache:
    """TicketText by ticket, shared across a batch so history tickets are read once."""

    def __init__(self, config: EscalationConfig, analyzer: Analyzer | None, layer: SupportLayer):
        self.config, self.analyzer, self.layer = config, analyzer, layer
        self._items: dict[tuple[str, datetime], TicketText] = {}
        self._shared = _Shared()

    def get(self, ticket: Ticket) -> TicketText:
        key = (ticket.id, ticket.updated_at)
        tt = self._items.get(key)
        if tt is None:
            tt = self._items[key] = TicketText(ticket, self.config, self.analyzer, self.layer, self._shared)
        return tt

    def read_ahead(self, tickets: Sequence[Ticket]) -> None:
        """Score the customer messages of ``tickets`` in one analyzer call, for an analyzer that
        says it is faster in bulk (``bulk = True``: a model such as stanza's runs several times
        faster on one large batch than ticket by ticket). The readings are the same either way."""
        if self.analyzer is None or not getattr(self.analyzer, "bulk", False):
            return
        todo = [tt for tt in dict.fromkeys(map(self.get, tickets)) if not tt.scored]
        scores = self.analyzer.score_many([text for tt in todo for text in tt.customer])
        start = 0
        for tt in todo:
            tt.score_ahead(scores[start : start + len(tt.customer)])
            start += len(tt.customer)


@dataclass(frozen=True)
class SignalContext:
    config: EscalationConfig
    now: datetime
    text: TicketText
    texts: TextCache
    history: HistoryView = field(default_factory=NoHistory)
    sla: SlaStatus | None = None
    incidents: object = None  # impact.IncidentIndex, when the caller has one


SignalResult = Union[Signal, Sequence[Signal], None]
SignalFunction = Callable[[Ticket, SignalContext], SignalResult]


def build_context(
    ticket: Ticket,
    config: EscalationConfig,
    now: datetime,
    analyzer: Analyzer | None = None,
    layer: SupportLayer | None = None,
    history: HistoryView | None = None,
    sla: SlaStatus | None = None,
    incidents: object = None,
    texts: TextCache | None = None,
) -> SignalContext:
    """A context for one ticket; pass ``texts`` to share analyzed text across a batch."""
    if texts is None:
        texts = TextCache(config, analyzer, layer or SupportLayer())
    return SignalContext(
        config=config,
        now=now,
        text=texts.get(ticket),
        texts=texts,
        history=history if history is not None else NoHistory(),
        sla=sla,
        incidents=incidents,
    )


def hours(a: datetime, b: datetime) -> float:
    """Hours from a to b (negative if b is earlier)."""
    return (b - a).total_seconds() / 3600.0


def quote(words: Sequence[str]) -> list[str]:
    return [f'"{w}"' for w in words]
