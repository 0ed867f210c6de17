"""What a ticket is about, read from the customer's words: the markers behind the decision model.

Trigger phrases (core/engine/escalation.py) are fixed word lists; the markers here are patterns
for kinds of tickets that customers describe in countless ways: an incident ("checkout fails for
all our shoppers", "every record we created yesterday is gone"), a security incident in progress
("we can see another company's invoices"), a regression after a release, a reproducible defect,
a data or export problem, a how-to question, a request for a manager, repeated contact, and the
money a refund or credit is about ("$24,000", "24k", "EUR 1.200,50").

Every pattern is whole-word and case-insensitive, allows inflections ("fail", "fails", "failing"),
and skips hits that are negated ("nothing is missing", "no data was lost") or hypothetical ("what
happens if the site is down?"). Each pattern runs only when its key words occur in the ticket's
word set, so a ticket that mentions none of them costs a few set look-ups.

Pure: text in, ``Markers`` out. ``TicketText.markers`` computes them once per ticket.
"""

from __future__ import annotations

import re
from typing import Iterable

from deskwatch.core.engine.lazy import Recent, lazy
from deskwatch.core.engine.text import is_negated, word_set
from deskwatch.core.engine.marker_words import (  # noqa: F401
    _BROAD,
    _PAYMENTS_FAIL,
    _OUTAGE,
    _DATA_LOSS,
    _LOSS_WORDS,
    _SELF_INFLICTED,
    _RESOLVED,
    _RESOLVED_WORDS,
    _STILL_FAILING,
    _OTHER_PARTY,
    _OTHER_WORDS,
    _SEE,
    _TAKEOVER,
    _REGRESSION,
    _REGRESSION_WORDS,
    _REPRO,
    _REPRO_WORDS,
    _DATA_PROBLEM,
    _DATA_WORDS,
    _HOWTO,
    _MANAGER,
    _MANAGER_WORDS,
    _REPEATED,
    _HYPOTHETICAL,
)
from deskwatch.core.engine.money import (  # noqa: F401  (amounts: part of the markers' API)
    _DIGIT,
    _SENTENCE,
    _sentences,
    _EXCEPTION,
    _EXCEPTION_WORDS,
    Amount,
    amounts,
)

# -- the markers -------------------------------------------------------------------------------

# Anchor words: every match of a pattern contains one of its anchors, so a pattern runs only on
# the sentences that hold an anchor present in the ticket's word set, never over the whole text. Most tickets have no anchor of most patterns and cost a set intersection.
_A_OUTAGE = frozenset(
    "outage down unavailable unreachable offline loading responding timing crashing can't cannot unable couldn't "
    "500 502 503 504 gateway internal nobody none server blank white empty spins spinning load crashes crash crashed "
    "delivered sent arriving working reachable available opening".split()
)
_A_FAIL = frozenset(
    "fail fails failed failing failure failures broken break breaks breaking broke crash crashes crashed crashing "
    "down outage unavailable unreachable offline working loading responding available reachable saving syncing "
    "opening work load open respond connect sync save submit process complete stopped longer error errors timed "
    "timeout times declined declines declining rejected stuck hang hangs hanging freezes freezing froze "
    "500 502 503 504 through".split()
)
_FAIL_STRONG = frozenset(
    "fail fails failed failing failure failures broken breaks breaking broke crash crashes crashed crashing "
    "outage unavailable unreachable offline stopped error errors timeout declined rejected stuck hangs hanging "
    "freezes freezing froze 500 502 503 504 bug".split()
)
_A_PAYMENT = frozenset(
    "checkout checkouts check check-out payment payments transaction transactions purchase purchases order orders "
    "billing pay paying card cart payout payouts".split()
)
_A_TAKEOVER = frozenset(
    "takeover taken hijack hijacked hijacking hacked compromised breached breach ransomware credentials credential "
    "unauthorized unauthorised leaked locked logged signed".split()
)
_A_BROAD_WORDS = frozenset(
    "all every each none most half nobody no-one everyone everybody whole entire company-wide site-wide board "
    "production any both".split()
)
_A_HOWTO = frozenset("how where possible way can reset forgot docs documentation guide tutorial article point quick wondering".split())
_A_REPEATED = frozenset(
    "third 3rd fourth 4th fifth 5th sixth 6th seventh tenth umpteenth nth times emails messages calls tickets requests "
    "reminders again over many still nobody ignored keep".split()
)


# Anchors that are common words count only beside a companion word (any of them): "since" is an
# anchor of a regression only in a ticket that also names an update, a release or a migration.
_UPDATE = frozenset(
    "update updates upgrade upgrades release releases deploy deployment migration migrations version versions patch "
    "rollout rollouts changes hotfix maintenance redesign rebuild go-live updated upgraded released deployed migrated "
    "patched changed moved upgrading updating migrating".split()
)
_REPEAT_NOUNS = frozenset("time email message call ticket request attempt follow-up followup reminder".split())
_COUNTS = frozenset("three four five six several many multiple countless numerous".split()) | frozenset(map(str, range(2, 21)))
_ASKING = frozenset("speak talk escalate escalating put connect demand insist request want need like let ask asking get "
                    "complaint who who's".split())
_COMPANIONS: dict[str, dict[str, frozenset[str]]] = {
    "regression": {
        **{w: _UPDATE for w in ("since", "after", "following", "with")},
        **{w: frozenset("fine perfectly great well yesterday before until last morning".split()) for w in ("worked", "working")},
        "used": frozenset(["work"]),
        "longer": frozenset(["no"]),
        "stopped": frozenset(["after", "since", "when"]),
        **{w: frozenset("after since with by".split()) for w in ("broke", "broken")},
        "version": frozenset("broke breaks broken".split()),
    },
    "outage": {
        **{w: frozenset("reach access load open log login sign connect get into".split())
           for w in ("can't", "cannot", "unable", "couldn't")},
        **{w: frozenset("can could able".split()) for w in ("none", "nobody")},
        "down": frozenset("is are was went goes gone for site app service platform system website server servers "
                          "production workspace dashboard instance login".split()),
    },
    "repro": {
        "every": frozenset(["time"]),
        "each": frozenset(["time"]),
        "always": frozenset("fails crashes returns throws errors breaks shows".split()),
        "happens": frozenset("every each always".split()),
        "steps": frozenset(["reproduce"]),
        "exception": frozenset("thrown in at throws throw".split()),
    },
    "repeated": {
        **{w: _REPEAT_NOUNS for w in ("third", "3rd", "fourth", "4th", "fifth", "5th", "sixth", "6th", "seventh", "tenth",
                                       "umpteenth", "nth")},
        **{w: _COUNTS for w in ("times", "emails", "messages", "calls", "tickets", "requests", "reminders")},
        "again": frozenset("and yet time".split()),
        "over": frozenset(["and"]),
        "many": frozenset(["times"]),
        "still": frozenset("not unresolved no".split()),
        "keep": frozenset("having asking telling writing chasing getting being".split()),
        "nobody": frozenset("replied responded answered back".split()),
    },
    "manager": {w: _ASKING for w in ("manager", "supervisor", "management", "senior", "charge", "boss", "lead", "leader",
                                     "head", "ceo", "director", "superior", "higher")},
    "exception": {
        **{w: frozenset(["refund"]) for w in ("past", "after")},
        **{w: frozenset("policy window terms period".split()) for w in ("outside", "beyond")},
        "exception": frozenset("to policy make making grant granting".split()),
    },
}


# Support text repeats (macros quoted back, "Any update on this?", form submissions, the same
# complaint sent to three helpdesks), and a pattern's hits in a sentence depend on that sentence
# alone: negation and hypotheticals never reach across a sentence end. So hits are kept by
# (pattern, sentence), bounded like routing's remembered answers.
_MAX_HITS = 8192
_HITS: Recent = Recent(_MAX_HITS)


def _sentence_hits(pattern: re.Pattern[str], sentence: str, hypothetical_ok: bool) -> tuple[str, ...]:
    key = (id(pattern), hypothetical_ok, sentence)
    hits = _HITS.get(key)
    if hits is None:
        hits = _HITS.recall(key)
    if hits is None:
        out = []
        for m in pattern.finditer(sentence):
            if is_negated(sentence, m.start()) if hypothetical_ok else not _real(sentence, m.start()):
                continue
            out.append(" ".join(m.group(0).split()))
        hits = tuple(out)
        _HITS.put(key, hits)
    return hits


_NONE: dict[str, frozenset[str]] = {}


class Markers:
    """Evidence (the words as written) for each kind of marker in one sentence, each kind
    computed on first use (``TicketMarkers`` holds a ticket's, sentence by sentence)."""

    def __init__(self, text: str, words: frozenset[str]):
        self.text = text
        self.words = words

    @lazy
    def found(self) -> dict[str, tuple]:
        """Every kind with something found in this sentence (read once per distinct sentence)."""
        return {k: v for k in _KIND_NAMES if (v := getattr(self, k))}

    @lazy
    def relevant(self) -> bool:
        """Whether any marker can be found here at all: one of their anchor words, or a digit."""
        return not self.words.isdisjoint(_ALL_ANCHORS) or _DIGIT.search(self.text) is not None

    @lazy
    def sentences(self) -> tuple[tuple[str, str], ...]:
        """(sentence, lower-cased) pairs: patterns never reach across a sentence end."""
        return tuple((x, x.lower()) for x in _SENTENCE.findall(self.text))

    def _find(self, pattern: re.Pattern[str], anchors: frozenset[str], *, limit: int = 3,
              hypothetical_ok: bool = False, kind: str = "") -> tuple[str, ...]:
        words = self.words
        present = words & anchors
        if not present:
            return ()
        companions = _COMPANIONS.get(kind)
        if companions is not None:
            present = [a for a in present if (c := companions.get(a)) is None or not words.isdisjoint(c)]
            if not present:
                return ()
        found: list[str] = []
        for sentence, low in self.sentences:
            for a in present:
                if a in low:
                    break
            else:
                continue
            for hit in _sentence_hits(pattern, sentence, hypothetical_ok):
                if hit.lower() not in (f.lower() for f in found):
                    found.append(hit)
                    if len(found) >= limit:
                        return tuple(found)
        return tuple(found)

    @lazy
    def outage(self) -> tuple[str, ...]:
        """The service down or failing (500s, can't reach the app)."""
        return self._find(_OUTAGE, _A_OUTAGE, kind="outage")

    @lazy
    def failure(self) -> tuple[str, ...]:
        """Words saying something fails, errors or is broken (a word-set check: it only ever
        qualifies other markers, which do their own negation checks)."""
        return tuple(sorted(self.words & _FAIL_STRONG))

    @lazy
    def payments(self) -> tuple[str, ...]:
        """Checkout or payments failing."""
        if self.words.isdisjoint(_A_PAYMENT) or not self.failure:
            return ()
        return self._find(_PAYMENTS_FAIL, _A_PAYMENT | {"can't", "cannot", "unable", "couldn't"})

    @lazy
    def broad(self) -> tuple[str, ...]:
        """Many people affected ("all our shoppers", "40 people", "nobody can")."""
        anchors = set(self.words & _A_BROAD_WORDS)
        if "no" in self.words and "one" in self.words:
            anchors.add("no")
        if not anchors and not _DIGIT.search(self.text):
            return ()
        anchors.update(w for w in self.words if w[:1].isdigit() and len(w) > 1)
        return self._find(_BROAD, frozenset(anchors), hypothetical_ok=True)

    @lazy
    def data_loss(self) -> tuple[str, ...]:
        """Data gone, deleted, wiped: several records, or data as a whole (one missing item is
        a data problem, not an incident). Not what the customer deleted by mistake."""
        if self.words.isdisjoint(_LOSS_WORDS):
            return ()
        return tuple(f for f in self._find(_DATA_LOSS, _LOSS_WORDS) if _many(f))

    @lazy
    def exposure(self) -> tuple[str, ...]:
        """Someone sees another party's data."""
        if self.words.isdisjoint(_OTHER_WORDS):
            return ()
        return _exposure(self.text)

    @lazy
    def takeover(self) -> tuple[str, ...]:
        """An account taken over, a breach."""
        return self._find(_TAKEOVER, _A_TAKEOVER)

    @lazy
    def regression(self) -> tuple[str, ...]:
        """Broke after a release, update or migration."""
        return self._find(_REGRESSION, _REGRESSION_WORDS, kind="regression")

    @lazy
    def repro(self) -> tuple[str, ...]:
        """A reproducible defect."""
        return self._find(_REPRO, _REPRO_WORDS, kind="repro")

    @lazy
    def data_problem(self) -> tuple[str, ...]:
        """Exports, imports, syncs, integrations failing; wrong data."""
        if self.words.isdisjoint(_DATA_WORDS):
            return ()
        return self._find(_DATA_PROBLEM, _DATA_WORDS)

    @lazy
    def howto(self) -> tuple[str, ...]:
        """A how-to question."""
        return self._find(_HOWTO, _A_HOWTO, hypothetical_ok=True)

    @lazy
    def manager(self) -> tuple[str, ...]:
        """The customer asks for a manager or files a complaint."""
        return self._find(_MANAGER, _MANAGER_WORDS, hypothetical_ok=True, kind="manager")

    @lazy
    def repeated(self) -> tuple[str, ...]:
        """ "third time", "how many times", "still no answer"."""
        return self._find(_REPEATED, _A_REPEATED, hypothetical_ok=True, kind="repeated")

    @lazy
    def exception(self) -> tuple[str, ...]:
        """Asks for a policy exception."""
        return self._find(_EXCEPTION, _EXCEPTION_WORDS, hypothetical_ok=True, kind="exception")

    @lazy
    def money(self) -> tuple[Amount, ...]:
        """Amounts in sentences about refunds, credits, discounts, charges."""
        if self.words.isdisjoint(_MONEY_WORDS) or not _DIGIT.search(self.text):
            return ()
        return tuple(amounts(self.text))

    @property
    def incident(self) -> bool:
        """An incident by the customer's own words: data loss, a security incident in
        progress, or an outage or payment failure that reaches many people."""
        return bool(self.data_loss or self.exposure or self.takeover or ((self.outage or self.payments) and self.broad))


# Data loss is an incident when it is plural or whole ("records are gone", "all our data", "lost a
# day's work"); one missing invoice is a data problem for the experts, not a reason to wake anyone.
_QUANTIFIERS = frozenset("all every everything entire whole any none most".split())
_MASS = frozenset("data work history database content inventory stock everything configuration settings".split())
_NOT_PLURAL = frozenset("is was has this its does goes".split())


def _many(found: str) -> bool:
    words = [w.strip("'\".,") for w in found.lower().split()]
    if any(w in _QUANTIFIERS or w.isdigit() for w in words) or "loss" in words:
        return True
    return any(n in _MASS or (n.endswith("s") and len(n) > 3 and n not in _NOT_PLURAL) for n in (words[0], words[-1]))


# A sentence ends at . ! ? or a line break, but not at the point of "1.200,50" or "v2.3".
def _real(text: str, start: int) -> bool:
    """Not negated, and not inside a hypothetical or a question about what could happen."""
    if is_negated(text, start):
        return False
    begin = max(text.rfind(c, 0, start) for c in ".!?\n") + 1
    return _HYPOTHETICAL.search(text, begin, start) is None


# What exposed data is: another user's *comment* on a shared board is collaboration, another
# company's *invoices* are a breach.
_EXPOSED = re.compile(
    r"(?<![\w'])(?:data|records?|invoices?|orders?|files?|documents?|details|information|info|payslips?|salar(?:y|ies)|"
    r"emails?|messages?|tickets?|contacts?|customers?|accounts?|address(?:es)?|reports?|dashboards?|transactions?|"
    r"payments?|statements?|receipts?|patients?|profiles?|names|numbers|bookings?|appointments?|photos?|attachments?|"
    r"credit\s+cards?|cards?|bills?|billing|projects?|workspaces?|leads?|deals?|inbox|chats?|conversations?)(?![\w'])",
    re.IGNORECASE,
)


def _exposure(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for sentence in _sentences(text):
        m = _OTHER_PARTY.search(sentence)
        if m is None or not _SEE.search(sentence) or not _EXPOSED.search(sentence) or not _real(sentence, m.start()):
            continue
        # The words around the other party, cut at word boundaries: "I see another company's invoices".
        a = sentence.rfind(" ", 0, max(0, m.start() - 30)) + 1
        b = sentence.find(" ", m.end() + 12)
        found.append(" ".join(sentence[a : b if b >= 0 else len(sentence)].split()).strip(" ,.;"))
    return tuple(found[:2])


_KIND_NAMES = ("outage", "failure", "payments", "broad", "data_loss", "exposure", "takeover", "regression", "repro",
          "data_problem", "howto", "manager", "repeated", "exception", "money")
# Markers by sentence text: support text repeats (macros quoted back, "Any update on this?", form
# submissions, the same complaint sent to three helpdesks) and no pattern reaches across a sentence
# end, so a sentence read once is read for every ticket that contains it. Bounded, like routing's
# remembered answers.
_MAX_SENTENCES = 8192
_BY_SENTENCE: Recent = Recent(_MAX_SENTENCES)  # sentence -> its found kinds ({} when none)
_BY_PIECE: Recent = Recent(_MAX_SENTENCES)
_NOTHING: dict[str, tuple] = {}


def _sentence_found(sentence: str) -> dict[str, tuple]:
    """What one sentence holds (``Markers.found``, each kind without repeats), kept by sentence
    text. Only the found kinds are kept: nothing else of a sentence's ``Markers`` is read again."""
    found = _BY_SENTENCE.get(sentence)
    if found is None:
        found = _BY_SENTENCE.recall(sentence)
    if found is None:
        words = word_set(sentence)
        found = _NOTHING
        # No anchor word and no digit (``Markers.relevant``): nothing to find, no Markers to build.
        if not words.isdisjoint(_ALL_ANCHORS) or _DIGIT.search(sentence) is not None:
            found = {k: _distinct(v) for k, v in Markers(sentence, words).found.items()}
        _BY_SENTENCE.put(sentence, found)
    return found


def _distinct(hits: tuple) -> tuple:
    out: list = []
    out.extend(h for h in hits if h not in out)
    return tuple(out)


def _piece_found(piece: str) -> dict[str, tuple]:
    """Kind -> what one piece (a subject, a message) holds, its sentences' hits merged in order
    without repeats. Kept by piece: a piece read once costs one look-up for every ticket that
    contains it, instead of a merge over its sentences each time."""
    found = _BY_PIECE.get(piece)
    if found is None:
        found = _BY_PIECE.recall(piece)
    if found is None:
        parts = [p for p in map(_sentence_found, _SENTENCE.findall(piece)) if p]
        if len(parts) <= 1:
            # Most sentences hold nothing; one that does is its piece's answer as it stands.
            found = parts[0] if parts else _NOTHING
        else:
            merged: dict[str, list] = {}
            for part in parts:
                for kind, hits in part.items():
                    have = merged.setdefault(kind, [])
                    have.extend(h for h in hits if h not in have)
            found = {k: tuple(v) for k, v in merged.items()}
        _BY_PIECE.put(piece, found)
    return found


class TicketMarkers:
    """A ticket's markers: each kind is the union of its sentences' (``Markers``). ``pieces`` are
    the subject and what the customer newly wrote in each message."""

    def __init__(self, pieces: tuple[str, ...], words: tuple[frozenset[str] | None, ...] = ()):
        self.pieces = pieces
        self.words = words  # word_set of each piece, where the caller has it (None: not known)

    @lazy
    def text(self) -> str:
        return "\n".join(self.pieces)

    @lazy
    def found(self) -> dict[str, tuple]:
        """Kind -> what was found, in order, without repeats (three at most, all amounts)."""
        merged: dict[str, list] = {}
        for piece in self.pieces:
            for kind, hits in _piece_found(piece).items():
                have = merged.get(kind)
                if have is None:
                    merged[kind] = list(hits)  # a piece's hits are already distinct
                else:
                    have.extend(h for h in hits if h not in have)
        found = {k: tuple(v) if k == "money" else tuple(v[:3]) for k, v in merged.items()}
        # Every kind goes into the instance dict now, so the signals and levels that read ten or
        # more kinds per ticket find plain attributes instead of a lazy property call each.
        kinds = dict.fromkeys(_KIND_NAMES, ())
        kinds.update(found)
        if kinds["data_loss"] and _SELF_INFLICTED.search(self.text):
            kinds["data_loss"] = ()  # "we accidentally deleted a project": a restore request, not an incident
        if (kinds["outage"] or kinds["payments"] or kinds["failure"]) and self.resolved:
            # "last week's outage, all fine now, just asking for the RCA": a question, not a failure.
            kinds["outage"] = kinds["payments"] = kinds["failure"] = kinds["data_problem"] = ()
        vars(self).update(kinds)
        return found

    @lazy
    def resolved(self) -> bool:
        """Whether the customer's latest words say the failure is over (and nothing still fails)."""
        i = next((i for i in range(len(self.pieces) - 1, 0, -1) if self.pieces[i].strip()), 0)
        if not i:
            return False
        latest = self.pieces[i]
        if latest.isascii():
            # Every match of _RESOLVED holds one of these as a whole word (non-ASCII text can
            # case-fold into one, so it always gets the regex): most texts skip the costly search.
            words = self.words[i] if i < len(self.words) and self.words[i] is not None else word_set(latest)
            if words.isdisjoint(_RESOLVED_WORDS):
                return False
        return _RESOLVED.search(latest) is not None and _STILL_FAILING.search(latest) is None

    @property
    def incident(self) -> bool:
        """An incident by the customer's own words: data loss, a security incident in
        progress, or an outage or payment failure that reaches many people."""
        return bool(self.data_loss or self.exposure or self.takeover or ((self.outage or self.payments) and self.broad))


def _kind_property(kind: str) -> lazy:
    def get(self: TicketMarkers) -> tuple:
        self.found  # noqa: B018 - reading ``found`` stores every kind on the instance
        return vars(self)[kind]

    get.__name__ = kind
    get.__doc__ = getattr(Markers, kind).__doc__
    prop = lazy(get)
    prop.__set_name__(TicketMarkers, kind)
    return prop


for _k in _KIND_NAMES:
    setattr(TicketMarkers, _k, _kind_property(_k))


def find_markers(pieces: tuple[str, ...], words: tuple[frozenset[str] | None, ...] = ()) -> TicketMarkers:
    """The markers of a ticket's ``pieces``: its subject and what the customer newly wrote.
    ``words``: the pieces' ``word_set``s where the caller already has them (None where not)."""
    return TicketMarkers(pieces, words)



_MONEY_WORDS = frozenset(
    "refund refunds refunded refunding credit credits credited discount discounts reimburse reimbursed "
    "reimbursement compensation compensate charge charges charged charging chargeback money waive waived overcharged "
    "overbilled billed paid payment invoice invoices invoiced fee fees goodwill rebate price much overpaid overpaying "
    "overpay".split()
)


def flatten(groups: Iterable[tuple[str, ...]]) -> list[str]:
    out: list[str] = []
    for g in groups:
        for e in g:
            if e not in out:
                out.append(e)
    return out


# The anchors of the markers management reads (core/engine/levels.py checks them all at once).
MANAGEMENT_WORDS = _MANAGER_WORDS | _A_REPEATED | _MONEY_WORDS | _EXCEPTION_WORDS
_ALL_ANCHORS = (
    MANAGEMENT_WORDS | _A_OUTAGE | _FAIL_STRONG | _A_PAYMENT | _A_BROAD_WORDS | _LOSS_WORDS | _OTHER_WORDS | _A_TAKEOVER
    | _REGRESSION_WORDS | _REPRO_WORDS | _DATA_WORDS | _A_HOWTO | frozenset(["one", "can't", "cannot", "unable", "couldn't"])
)
