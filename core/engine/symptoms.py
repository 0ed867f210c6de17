"""Symptoms: which failures a customer reports, read from what they newly wrote.

Several customers describe one outage in different words: "500 Internal Server Error", "the
app won't load", "we can't reach your site", "API calls keep failing". ``read`` maps such
words to a few symptom keys (``KEYS``) so reports can be compared across tickets
(signals/incident.py), keeping the exact words as evidence. Keys that are views of the same
failure share a family (``family``): a server error, an unreachable site and failing API
calls are one outage seen from three places.

Matching reuses text.py: whole words, any case, plural endings, and negation ("no 500 errors
anymore", "the site is not down" report nothing). Phrases are generated from a subject
("login", "checkout") and a failure ("fails", "is broken", "won't load") so inflections and
synonyms need no list of every sentence. Two more readings drop a symptom: it is resolved
later in the same sentence ("the 502s are gone now", "was down but is back"), or it is
hypothetical or long past ("what happens if the site is down?", "the outage last month").

``report`` reads a whole ticket: the symptoms of the customer's messages and subject, and when
the failure was last reported (a later message saying "works again" clears it).

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Sequence

from deskwatch.core.engine.text import NEGATORS, STOPWORDS, PhraseMatcher, is_negated, word_set

HTTP_5XX = "http-5xx"
UNREACHABLE = "unreachable"
LOGIN = "login"
CHECKOUT = "checkout/payments"
SLOW = "slow/timeouts"
API = "api-errors"
EMAIL = "email-delivery"
DATA = "data-missing"
CRASHES = "crashes"
KEYS = (HTTP_5XX, UNREACHABLE, LOGIN, CHECKOUT, SLOW, API, EMAIL, DATA, CRASHES)

# Keys that describe one failure from different places: an outage shows as server errors to
# one customer, as a site that will not load to another, as failing calls to an integration.
_FAMILIES = {HTTP_5XX: "outage", UNREACHABLE: "outage", API: "outage"}
# Words a person uses for each family (in evidence and reasons).
FAMILY_LABELS = {
    "outage": "server errors / service unreachable",
    LOGIN: "login failures",
    CHECKOUT: "checkout or payments failing",
    SLOW: "slowness / timeouts",
    EMAIL: "e-mails not delivered",
    DATA: "data missing",
    CRASHES: "the app crashing",
}


def family(key: str) -> str:
    """The failure a symptom key is a view of (keys of one family match each other)."""
    return _FAMILIES.get(key, key)


# -- the lexicon -------------------------------------------------------------------------------

# "can't", as people write it; each is followed by what they cannot do.
_CANNOT = (
    "can't", "cant", "cannot", "can not", "unable to", "not able to", "couldn't", "could not",
    "can no longer", "no longer able to", "impossible to",
)
# "nobody can": the negator opens the phrase, so it is part of the report, not a negation of it.
_NOBODY = (
    "nobody can", "no one can", "noone can", "none of us can", "none of our users can", "none of our staff can",
    "none of our agents can", "none of our customers can", "none of our employees can", "none of the users can",
    "nobody is able to", "no one is able to",
)


def _cannot(*verbs: str) -> list[str]:
    return [f"{c} {v}" for c in _CANNOT + _NOBODY for v in verbs]


# What a failing thing does, for "<subject> ... <failure>" ("the login page is broken again").
_BROKEN = (
    "broken", "not working", "isn't working", "aren't working", "doesn't work", "don't work", "does not work",
    "do not work", "stopped working", "failing", "fails", "failed", "fail", "down", "erroring", "throwing errors",
    "throws errors", "throws an error", "throwing an error", "returning errors", "returns errors", "returns an error",
    "returning an error", "giving errors", "gives an error", "dead",
)


@dataclass(frozen=True)
class _Pair:
    """"<subject> <up to 4 words> <failure>": one regex, tried only when a cue word of each
    side occurs in the text. The words between may not negate ("login is not broken")."""

    key: str
    pattern: re.Pattern[str]
    subject_cues: frozenset[str]
    failure_cues: frozenset[str]


# Words too common to tell whether a text may report a failure ("can", "time", "users").
_COMMON = STOPWORDS | {"can't", "cannot", "cant", "time", "users", "never", "work", "open", "none", "nobody",
                       "one", "us", "able", "unable", "longer", "impossible", "keeps", "keep", "going", "goes",
                       "could", "will", "would", "won't", "use", "get", "every", "all", "users", "customers",
                       "staff", "agents", "employees"}


def _cue(phrase: str) -> str:
    """The word a text must contain for ``phrase`` to occur in it: its longest uncommon word."""
    tokens = re.findall(r"[a-z0-9']+", phrase.lower())
    return max(tokens, key=lambda t: (t not in _COMMON, len(t)))


def _pair(key: str, subjects: Sequence[str], failures: Sequence[str]) -> _Pair:
    def alt(phrases: Sequence[str]) -> str:
        ordered = sorted({p for p in phrases}, key=lambda p: (-len(p), p))
        return "|".join(r"[\s-]+".join(re.escape(w) for w in re.split(r"[\s-]+", p)) for p in ordered)

    pattern = re.compile(
        rf"(?<![\w'])(?:{alt(subjects)})(?:e?s)?((?:[ \t]+[\w'-]+){{0,4}}?)[ \t]+(?:{alt(failures)})(?![\w'])",
        re.IGNORECASE,
    )
    plural = {f for c in map(_cue, subjects) for f in (c, c + "s", c + "es")}
    return _Pair(key, pattern, frozenset(plural), frozenset(map(_cue, failures)))


_SITE = (
    "site", "website", "web site", "app", "application", "web app", "webapp", "platform", "service", "portal",
    "dashboard", "workspace", "system", "server", "instance", "product", "environment", "production", "prod",
    "page", "admin panel", "account",
)
_LOGIN_THINGS = (
    "login", "log in", "log-in", "logging in", "sign in", "signing in", "signin", "sign on", "sso",
    "single sign-on", "authentication", "2fa", "mfa", "saml", "oauth",
)
_CHECKOUT_THINGS = (
    "checkout", "check-out", "payment", "card payment", "credit card payment", "transaction", "order placement",
    "purchase", "payment gateway", "payment form", "cart",
)
_SLOW_THINGS = (
    "site", "website", "app", "application", "dashboard", "api", "system", "platform", "everything", "page",
    "loading", "load time", "search", "report", "service", "request", "query", "sync", "response time",
)
_API_THINGS = (
    "api", "api call", "api request", "rest api", "graphql", "endpoint", "webhook", "webhook delivery",
    "integration", "sdk", "every request", "all request", "request", "sync", "syncing",
)
_EMAIL_THINGS = (
    "email", "e-mail", "mail", "notification", "notification email", "password reset email", "reset email",
    "reset link", "invitation", "invite", "verification email", "confirmation email", "otp", "otp code", "sms",
    "magic link",
)
_DATA_THINGS = (
    "data", "record", "entry", "entries", "project", "file", "document", "contact", "order", "ticket", "message",
    "history", "everything", "report", "invoice", "customer", "work", "change",
)

_PHRASES: dict[str, list[str]] = {
    HTTP_5XX: [
        "internal server error", "server error", "bad gateway", "service unavailable", "service temporarily unavailable",
        "gateway timeout", "gateway time-out", "5xx", "5xx error", "5xxs", "error 5xx", "http 5xx",
    ],
    UNREACHABLE: [
        "outage", "service outage", "major outage", "site down", "down for everyone", "down for us", "still down",
        "down again", "is down", "are down", "went down", "goes down", "going down", "keeps going down",
        "won't load", "wont load", "will not load", "doesn't load", "does not load", "isn't loading",
        "not loading", "fails to load", "failed to load", "failing to load", "stopped loading", "never loads",
        "won't open", "will not open", "doesn't open", "does not open", "blank page", "blank screen", "white screen",
        "white page", "unreachable", "not reachable", "inaccessible", "not accessible", "not responding",
        "unresponsive", "connection refused", "connection reset", "connection timed out", "err_connection_refused",
        "err_connection_timed_out", "can't be reached", "cannot be reached", "page can't be displayed",
        "can't connect", "cannot connect", "unable to connect",
        *_cannot("reach", "access", "load", "open", "connect to", "get to", "get into", "get onto", "use the app",
                 "use the site", "use your app", "use your site", "use the platform", "use the dashboard"),
    ],
    LOGIN: [
        "locked out", "login loop", "redirect loop", "login error", "login failure", "login failed",
        "authentication error", "authentication failure", "authentication failed", "sso error", "sso failure",
        *_cannot("log in", "login", "log on", "logon", "sign in", "signin", "sign on", "log into", "sign into",
                 "authenticate", "get past the login", "get past login"),
    ],
    CHECKOUT: [
        "payment failed", "payment failure", "payment error", "checkout error", "checkout failure",
        "checkout failed", "transaction failed", "declined at checkout",
        *_cannot("checkout", "check out", "pay", "place orders", "place an order", "complete checkout",
                 "complete the checkout", "complete purchases", "complete a purchase", "complete orders",
                 "process payments", "take payments", "accept payments", "charge cards", "charge customers", "buy"),
    ],
    SLOW: [
        "timeout", "time out", "timed out", "times out", "timing out", "request timeout", "takes forever",
        "taking forever", "take forever", "takes ages", "taking ages", "loading forever", "spinning forever",
        "keeps spinning", "painfully slow", "unusably slow", "unbearably slow", "incredibly slow", "extremely slow",
        "super slow", "high latency", "latency spike", "slowed down", "slowing down", "slows down", "performance degradation", "degraded performance", "sluggish",
    ],
    API: ["api error", "api failure", "webhook failure", "webhook error"],
    EMAIL: [
        "not receiving emails", "not receiving any emails", "not receiving e-mails", "not getting emails",
        "not getting any emails", "emails bouncing", "emails bounce", "emails bounced", "e-mails bouncing",
    ],
    DATA: [
        "data loss", "lost data", "lost our data", "lost all our data", "lost all of our data", "lost a day's work",
        "lost all our work", "lost our work", "wiped out",
    ],
    CRASHES: ["keeps crashing", "crashes on launch", "crashes on startup", "crash on launch", "crash on startup"],
}
_PAIRS = (
    _pair(UNREACHABLE, _SITE, (
        "offline", "unavailable", "unreachable", "inaccessible", "down", "not working", "stopped working",
        "isn't working", "broken", "not responding", "dead", "not loading", "won't load", "doesn't load",
    )),
    _pair(LOGIN, _LOGIN_THINGS, (*_BROKEN, "impossible", "hangs", "loops", "times out", "timing out", "rejected",
                                 "rejecting")),
    _pair(CHECKOUT, _CHECKOUT_THINGS, (
        *_BROKEN, "declined", "declining", "rejected", "stuck", "hangs", "not going through",
        "aren't going through", "won't go through", "not processing", "not being processed",
    )),
    _pair(SLOW, _SLOW_THINGS, (
        "slow", "crawling", "lagging", "laggy", "hanging", "hangs", "frozen", "freezing", "unusable", "timing out",
        "times out", "timed out", "takes forever", "taking forever",
    )),
    _pair(API, _API_THINGS, (*_BROKEN, "rejecting", "rejected", "stopped firing", "not firing", "no longer firing",
                             "not being delivered", "not delivered", "timing out")),
    _pair(EMAIL, _EMAIL_THINGS, (
        "not arriving", "aren't arriving", "isn't arriving", "never arrive", "never arrives", "never arrived",
        "not delivered", "not being delivered", "not being sent", "not sent", "not going out", "aren't going out",
        "not received", "delayed", "bouncing", "stuck", "stopped arriving", "stopped sending", "stopped going out",
        "missing",
    )),
    _pair(DATA, _DATA_THINGS, (
        "missing", "gone", "disappeared", "vanished", "lost", "wiped", "erased", "deleted", "disappearing",
    )),
    _pair(CRASHES, ("app", "application", "mobile app", "ios app", "android app", "desktop app", "client", "editor",
                    "browser tab", "page"),
          ("crashes", "crashing", "crashed", "force closes", "closes itself")),
)
MATCHER = PhraseMatcher(_PHRASES, negation=True, plural=True)

# HTTP status codes 500-504, only where they read as an error: "HTTP 502", "error: 503",
# "500 Internal Server Error", "getting 500s", "returns a 504 for"; "500 users", "we got 500
# new sign-ups" and "$500" are not errors.
_CODES = frozenset({"500", "501", "502", "503", "504", "500s", "501s", "502s", "503s", "504s"})
_REASONS = r"internal\s+server\s+errors?|bad\s+gateway|service\s+unavailable|gateway\s+time-?outs?|not\s+implemented"
_STATUS = re.compile(
    r"(?<![\w$.,])(?:"
    rf"(?:https?|errors?|status|code|err)\W{{0,3}}(?:code\W{{0,3}})?50[0-4]s?(?:\W{{0,3}}(?:{_REASONS}))?"
    rf"|50[0-4]s?\W{{0,3}}(?:{_REASONS}|errors?|internal|status|responses?|pages?|codes?|server)"
    r"|50[0-4]s"
    r"|(?:getting|get|gets|got|seeing|see|sees|hit|hitting|hits|returns?|returning|returned|throws?|throwing|threw"
    r"|receiving|received|receive|giving|gives|gave|shows?|showing|showed)\s+(?:a\s+|an\s+)?50[0-4]"
    r"(?=\s*(?:[^\w\s]|$)|\s+(?:when|whenever|on|for|from|in|at|since|every|each|again|now|today|all|and|or|with"
    r"|while|after|trying|back|too|as|responses?|codes?|status)\b)"
    r")(?![\w$%])",
    re.IGNORECASE,
)

# Later in the same sentence, the failure is over or long past: "the 502s are gone now",
# "was down but is back", "we had an outage last month".
_RESOLVED = (
    "resolved", "fixed", "back to normal", "working again", "works again", "working now", "works now",
    "went away", "gone away", "cleared up", "is back", "are back", "back up", "back online", "recovered",
    "fine now", "all good now", "stopped happening", "no longer happening",
)
_OVER = PhraseMatcher({
    "resolved": _RESOLVED,
    "over": ("gone", "last week", "last month", "last year", "weeks ago", "months ago", "years ago", "a while ago",
             "in the past"),
}, negation=True, plural=False)
# Earlier in the same clause, the failure is hypothetical, a question about one, or long past.
_NOT_NOW = PhraseMatcher({"not now": [
    "what if", "even if", "in case", "what happens", "how do i", "how do we", "how can i", "how can we", "how to",
    "do you have", "last week", "last month", "last year", "in the past", "earlier this year",
    "status page", "avoid", "prevent",
]}, negation=False, plural=False)
_SENTENCE_END = re.compile(r"[.!?\n]")
_CLAUSE_END = re.compile(r"[.;:!?,\n()]|\b(?:but|however|although|though|because|and then|yet)\b", re.IGNORECASE)

# Product areas a report may name; plural and alternative spellings fold to one word.
_AREAS = {
    "app": "app", "apps": "app", "application": "app", "website": "site", "site": "site", "dashboard": "dashboard",
    "dashboards": "dashboard", "api": "api", "checkout": "checkout", "cart": "checkout", "payments": "payments",
    "payment": "payments", "login": "login", "logins": "login", "sso": "sso", "portal": "portal", "admin": "admin",
    "reports": "reports", "report": "reports", "search": "search", "webhook": "webhooks", "webhooks": "webhooks",
    "integration": "integration", "integrations": "integration", "export": "exports", "exports": "exports",
    "invoices": "invoices", "invoice": "invoices", "billing": "billing", "email": "email", "emails": "email",
    "notifications": "notifications", "mobile": "mobile", "ios": "mobile", "android": "mobile",
    "workspace": "workspace", "editor": "editor", "calendar": "calendar", "sync": "sync", "inbox": "inbox",
    "analytics": "analytics",
}
_AREA_WORDS = frozenset(_AREAS)
_NEGATOR_WORDS = NEGATORS | {"no"}
_SLOWED = frozenset({"slowed", "slowing", "slows", "slow"})
# A text with none of these words reports nothing (the common case, decided by one set test).
def _phrase_cues(phrase: str) -> set[str]:
    cue = _cue(phrase)
    # The plural ending PhraseMatcher allows changes the last word only.
    return {cue, cue + "s", cue + "es"} if phrase.lower().endswith(cue) else {cue}


_CUES = frozenset().union(
    *(_phrase_cues(p) for phrases in _PHRASES.values() for p in phrases), _CODES, *(p.failure_cues for p in _PAIRS),
)


# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Symptom:
    """One failure the customer reports: its key and their exact words."""

    key: str
    words: str


@dataclass(frozen=True)
class Symptoms:
    """The failures one text (or ticket) reports, and the product areas it names."""

    found: tuple[Symptom, ...] = ()
    areas: tuple[str, ...] = ()
    keys: frozenset[str] = field(init=False, compare=False)
    families: frozenset[str] = field(init=False, compare=False)  # read for every other ticket compared

    def __post_init__(self) -> None:
        keys = frozenset(s.key for s in self.found)
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "families", frozenset(map(family, keys)))

    def words(self, fam: str) -> tuple[str, ...]:
        """The customer's words for the failures of family ``fam``, first-seen order, distinct."""
        out: dict[str, str] = {}
        for s in self.found:
            if family(s.key) == fam:
                out.setdefault(s.words.lower(), s.words)
        return tuple(out.values())

    def __bool__(self) -> bool:
        return bool(self.found)


NOTHING = Symptoms()


def read(text: str, words: frozenset[str] | None = None) -> Symptoms:
    """The failure symptoms ``text`` reports, negation-aware, with the words as written.

    ``words`` is ``word_set(text)`` when the caller has it. Most texts name no cue word at all
    and return at once.

    >>> [s.key for s in read("Since 9:00 every page gives a 502 Bad Gateway").found]
    ['http-5xx']
    >>> read("No 500 errors anymore, thanks!").found
    ()
    """
    if not text:
        return NOTHING
    got = _READ.get(text)
    if got is None:
        words = word_set(text) if words is None else words
        if len(_READ) >= _MAX_READ:
            _READ.clear()
        got = _READ[text] = NOTHING if _CUES.isdisjoint(words) else _read(text, words)
    return got


# Symptoms by text: support text repeats (the same complaint sent to three helpdesks, follow-ups
# such as "Same error as before."), a text's symptoms depend on that text alone, and Symptoms is
# immutable, so a text is read once. Bounded, like the markers' sentences.
_READ: dict[str, Symptoms] = {}
_MAX_READ = 8192


def _read(text: str, words: frozenset[str]) -> Symptoms:
    hits: list[tuple[str, int, int]] = []  # (key, start, end)
    for hit in MATCHER.find(text, words):
        hits.append((hit.category, hit.start, hit.start + len(hit.text)))
    for pair in _PAIRS:
        if pair.subject_cues.isdisjoint(words) or pair.failure_cues.isdisjoint(words):
            continue
        for m in pair.pattern.finditer(text):
            between = m.group(1).lower().split()
            if any(w in _NEGATOR_WORDS or w.endswith("n't") for w in between) or is_negated(text, m.start()):
                continue
            if between and between[-1] in _SLOWED:
                continue  # "the site has slowed down" is slowness, read by its own phrase
            hits.append((pair.key, m.start(), m.end()))
    if not _CODES.isdisjoint(words):
        for m in _STATUS.finditer(text):
            if not is_negated(text, m.start()):
                hits.append((HTTP_5XX, m.start(), m.end()))
    found: dict[tuple[str, str], Symptom] = {}
    for key, start, end in hits:
        if _stands(text, start, end):
            said = " ".join(text[start:end].split())
            found.setdefault((key, said.lower()), Symptom(key, said))
    if not found:
        return NOTHING
    # Shorter words inside a longer hit of the same family add nothing ("bad gateway" in
    # "HTTP 502 Bad Gateway").
    seen = list(found.values())
    kept = tuple(s for i, s in enumerate(seen) if not any(
        family(o.key) == family(s.key) and s.words.lower() in o.words.lower() and (len(o.words) > len(s.words) or j < i)
        for j, o in enumerate(seen) if j != i))
    areas = tuple(sorted({_AREAS[w] for w in words & _AREA_WORDS}))
    return Symptoms(kept, areas)


def _stands(text: str, start: int, end: int) -> bool:
    """Whether the failure at ``text[start:end]`` is reported as happening now: not
    hypothetical or long past earlier in its clause, not over later in its sentence."""
    head = max(0, start - 120)
    cut = None
    for cut in _CLAUSE_END.finditer(text, head, start):
        pass
    before = text[cut.end() if cut is not None else head : start]
    if before.strip() and _NOT_NOW.find(before):
        return False
    stop = _SENTENCE_END.search(text, end)
    after = text[end : stop.start() if stop else len(text)]
    return not (after.strip() and _OVER.find(after))


def combine(parts: Iterable[Symptoms]) -> Symptoms:
    """One Symptoms from several (a ticket's subject and messages), duplicates dropped."""
    found: dict[tuple[str, str], Symptom] = {}
    areas: set[str] = set()
    for p in parts:
        for s in p.found:
            found.setdefault((s.key, s.words.lower()), s)
        areas.update(p.areas)
    return Symptoms(tuple(found.values()), tuple(sorted(areas))) if found else NOTHING


def _says_resolved(text: str, words: frozenset[str]) -> bool:
    """A statement (not a question) that the failure is over: "works again, thanks"."""
    for hit in _OVER.find(text, words):
        if hit.category == "resolved":
            stop = _SENTENCE_END.search(text, hit.start)
            if stop is None or text[stop.start()] != "?":
                return True
    return False


@dataclass(frozen=True)
class Report:
    """A ticket's failure report: what it reports and when the customer last said so."""

    at: datetime
    symptoms: Symptoms


def report(subject: str, created_at: datetime, messages: Sequence[tuple[datetime, str, frozenset[str]]]) -> Report | None:
    """What a ticket reports: ``messages`` are the customer's new text (quotes and signatures
    stripped) with its time and ``word_set``, oldest first.

    The report is dated by the latest customer message that names a failure (the subject
    counts from ``created_at``). A later message that names none and says it works again
    ("all good now, thanks") ends the report: the ticket no longer reports a failure.
    """
    parts: list[Symptoms] = []
    at: datetime | None = None
    subject_reads = read(subject)
    if subject_reads:
        parts.append(subject_reads)
        at = created_at
    for when, text, words in messages:
        got = read(text, words)
        if got:
            parts.append(got)
            at = when if at is None or when > at else at
        elif at is not None and when >= at and _says_resolved(text, words):
            parts, at = [], None
    if at is None:
        return None
    return Report(at, combine(parts))
