"""Similar solved tickets: full-text search (SQLite FTS5, BM25; PostgreSQL tsvector, ts_rank)
over solved and closed tickets.

Only solved and closed tickets are indexed (``similar_fts``: subject and the customer's own
words; ``similar_docs``: one row per indexed ticket with what the ranking and the answer need).
``index_ticket`` keeps both in step with the ``tickets`` table on every upsert; a ticket that
is reopened leaves the index, one that is solved again comes back with its new resolution.

A search asks FTS5 for the best BM25 matches (subject weighs twice the body), then re-ranks a
small pool in Python, preferring the same organization, a shared trigger category and recent
tickets, so an equally good match from the same customer or from last month comes first.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from deskwatch.core.engine.history import organization_key
from deskwatch.core.engine.text import new_text
from deskwatch.core.model import CLOSED_STATUSES, Decision, Ticket
from deskwatch.core.model.timeutil import format_time, parse_time
from deskwatch.core.policy.htmltext import first_sentences, readable
from deskwatch.core.store.dialect import dialect_of

MAX_QUERY_TERMS = 32  # candidate words read from a ticket, before the rarest are chosen
MAX_FTS_TERMS = 10  # words a query asks FTS5 for: more add little and cost postings
POSTINGS_BUDGET = 12_000  # tickets the chosen words may hold together (keeps a query fast at 100k)
MAX_BODY_CHARS = 4000  # of customer text indexed per ticket: the opening carries the ask
POOL = 50  # BM25 candidates re-ranked in Python
SAME_ORG_BOOST = 0.25
CATEGORY_BOOST = 0.25
RECENCY_HALF_LIFE_DAYS = 180.0
RECENCY_WEIGHT = 0.25  # the oldest ticket keeps 75% of its text score

# Words that say nothing about what a ticket is about; everything else may be a query term.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between both
    but by can could did do does doing done don down during each few for from further get got had has have having he her
    here hers him his how i if in into is it its itself just let me more most my myself no nor not now of off on once
    only or other our ours out over own please same she should so some still such than thank thanks that the their them
    then there these they this those through to too under until up us very was we were what when where which while who
    whom why will with would you your yours hi hello hey dear regards best team ok okay also yet why can't cannot im ive
    i'm i've it's that's there's what's don't doesn't didn't isn't wasn't won't""".split()
)
_WORD = re.compile(r"\w+(?:'\w+)?", re.UNICODE)
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_VOWEL = re.compile(r"[aeiouy]")


@dataclass(frozen=True)
class SimilarCase:
    """One solved ticket like the one asked about, and how it was resolved."""

    ticket_id: str
    subject: str
    resolution: str  # the last public agent reply before it was solved, its first sentences
    created_at: datetime
    solved_at: datetime
    score: float  # relevance after the boosts; only comparable within one search
    organization: str | None = None
    same_organization: bool = False
    shared_categories: tuple[str, ...] = ()

    @property
    def took(self) -> timedelta:
        """How long the ticket took, created to solved."""
        return self.solved_at - self.created_at


# -- indexing --------------------------------------------------------------------------------------


def solved_at(ticket: Ticket) -> datetime:
    """When the ticket was last solved: the latest move into solved/closed from another status
    in its history, else its last update."""
    at = None
    previous = None
    for change in sorted(ticket.status_history, key=lambda c: c.at):
        if change.status in CLOSED_STATUSES and previous not in CLOSED_STATUSES:
            at = change.at
        previous = change.status
    return at or ticket.updated_at


def customer_text(ticket: Ticket, max_chars: int = MAX_BODY_CHARS) -> str:
    """What the customer newly wrote in public messages, HTML turned into text, quotes dropped."""
    parts = [new_text(readable(m.body)) for m in ticket.messages if m.author == "customer" and m.public]
    return "\n".join(p for p in parts if p)[:max_chars]


def resolution(ticket: Ticket, until: datetime | None = None) -> str:
    """The first sentences of the last public agent reply sent before the ticket was solved."""
    until = until or solved_at(ticket)
    replies = [m for m in ticket.messages if m.author == "agent" and m.public and m.created_at <= until]
    for m in reversed(replies):
        text = new_text(readable(m.body))
        if text:
            return first_sentences(text)
    return ""


def trigger_categories(decision: Decision | None) -> tuple[str, ...]:
    """The trigger categories that fired in ``decision``, sorted."""
    if decision is None:
        return ()
    return tuple(sorted({s.category for s in decision.signals if s.category and s.value > 0}))


def _stored_categories(conn: sqlite3.Connection, ticket_id: str) -> tuple[str, ...]:
    row = conn.execute("SELECT data FROM decisions WHERE ticket_id = ? ORDER BY id DESC LIMIT 1", (ticket_id,)).fetchone()
    if row is None:
        return ()
    signals = json.loads(row[0]).get("signals") or ()
    return tuple(sorted({s["category"] for s in signals if s.get("category") and (s.get("value") or 0) > 0}))


def index_ticket(conn: sqlite3.Connection, ticket: Ticket, categories: Sequence[str] | None = None) -> None:
    """Bring the search index in line with ``ticket`` (inside the caller's transaction): index
    it when solved or closed, drop it otherwise. ``categories`` default to the trigger
    categories of its latest stored decision."""
    pg = dialect_of(conn).postgresql
    old = conn.execute("SELECT doc FROM similar_docs WHERE id = ?", (ticket.id,)).fetchone()
    if old is not None:
        if pg:
            conn.execute(_PG_UNCOUNT, (old[0],))
        else:
            conn.execute("DELETE FROM similar_fts WHERE rowid = ?", (old[0],))
        conn.execute("DELETE FROM similar_docs WHERE doc = ?", (old[0],))
    if ticket.status not in CLOSED_STATUSES:
        return
    done = solved_at(ticket)
    cats = tuple(categories) if categories is not None else _stored_categories(conn, ticket.id)
    row = (ticket.id, organization_key(ticket), " ".join(cats), format_time(ticket.created_at), format_time(done),
           resolution(ticket, done))
    subject, body = index_text(ticket.subject or ""), index_text(customer_text(ticket))
    if pg:
        doc = conn.execute(
            "INSERT INTO similar_docs (id, org_key, categories, created_at, solved_at, resolution, fts) "
            f"VALUES (?, ?, ?, ?, ?, ?, {_PG_TSVECTOR}) RETURNING doc", (*row, subject, body),
        ).fetchone()[0]
        conn.execute(_PG_COUNT, (doc,))
        return
    doc = conn.execute(
        "INSERT INTO similar_docs (id, org_key, categories, created_at, solved_at, resolution) VALUES (?, ?, ?, ?, ?, ?) "
        "RETURNING doc", row,
    ).fetchone()[0]
    conn.execute("INSERT INTO similar_fts (rowid, subject, body) VALUES (?, ?, ?)", (doc, subject, body))


# PostgreSQL: the text is stemmed already (``words``), so the 'simple' configuration only splits
# it. Subject words weigh A, body words B (ranked 1.0 and 0.5, as BM25 weighs them 2:1 on SQLite).
_PG_TSVECTOR = "setweight(to_tsvector('simple', ?), 'A') || setweight(to_tsvector('simple', ?), 'B')"
_PG_WEIGHTS = "'{0.1, 0.2, 0.5, 1.0}'"
# similar_vocab counts the documents holding each word; terms are taken in order so two
# writers lock the same rows in the same order.
_PG_COUNT = (
    "INSERT INTO similar_vocab (term, doc) SELECT w, 1 FROM similar_docs, unnest(tsvector_to_array(fts)) AS w "
    "WHERE similar_docs.doc = ? ORDER BY w ON CONFLICT (term) DO UPDATE SET doc = similar_vocab.doc + 1"
)
_PG_UNCOUNT = (
    "UPDATE similar_vocab SET doc = similar_vocab.doc - 1 FROM ("
    "SELECT w FROM similar_docs, unnest(tsvector_to_array(fts)) AS w WHERE similar_docs.doc = ? ORDER BY w) gone "
    "WHERE similar_vocab.term = gone.w"
)


def index_all(conn: sqlite3.Connection, tickets: Iterable[Ticket]) -> int:
    """Index many tickets (the migration's backfill); returns how many were solved or closed."""
    n = 0
    for t in tickets:
        index_ticket(conn, t)
        n += t.status in CLOSED_STATUSES
    return n


# -- querying --------------------------------------------------------------------------------------


def stem(word: str) -> str:
    """A light English stemmer (plurals, -ed, -ing, final e), the same for index and query:
    "refunds", "refunded", "refunding" all become "refund"; "charge", "charged" become "charg"."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        base = word[: -len(suffix)]
        if word.endswith(suffix) and len(base) >= 3 and _VOWEL.search(base):
            word = base
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz" and word[-1] not in "aeiou":
                word = word[:-1]  # "topped" -> "top"
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower-cased, accent-free, stemmed words of ``text``: what the index holds and a query asks.

    Done here rather than by an FTS5 tokenizer so that a query can look its own terms up in
    the index's vocabulary (how many tickets hold each) and keep the informative ones.
    """
    folded = unicodedata.normalize("NFKD", (text or "").casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return [stem(w) for w in _TOKEN.findall(folded.replace("\u2019", "'"))]


def index_text(text: str) -> str:
    """``text`` as the index stores it (its ``words`` joined by spaces)."""
    return " ".join(words(text))


def query_terms(text: str, max_terms: int = MAX_QUERY_TERMS) -> list[str]:
    """Candidate query words of ``text``: stemmed, no stop words, no negated contractions
    ("hasn't"), no one-letter or pure-number tokens, each once, in the order of the text."""
    folded = (text or "").casefold().replace("\u2019", "'")
    kept = []
    for raw in _WORD.findall(folded):
        if raw in STOPWORDS or raw.endswith("n't") or raw.split("'")[0] in STOPWORDS:
            continue
        for w in words(raw.split("'")[0]):
            if len(w) >= 2 and not w.isdigit() and w not in STOPWORDS and w not in kept:
                kept.append(w)
    return kept[:max_terms]


def informative(conn: sqlite3.Connection, terms: Sequence[str], budget: int = POSTINGS_BUDGET,
                max_terms: int = MAX_FTS_TERMS) -> list[str]:
    """The rarest ``terms`` by how many indexed tickets hold them, while their postings stay
    within ``budget`` (the work of one query grows with them); at least two terms stay.
    Terms no indexed ticket holds are dropped: they cannot match."""
    if not terms:
        return []
    marks = ",".join("?" * len(terms))
    # Both stores keep a similar_vocab (term, doc): fts5vocab on SQLite, a counted table on PostgreSQL.
    df = dict(conn.execute(f"SELECT term, doc FROM similar_vocab WHERE term IN ({marks}) AND doc > 0", list(terms)).fetchall())
    chosen, total = [], 0
    for t in sorted((t for t in terms if t in df), key=lambda t: (df[t], terms.index(t))):
        if len(chosen) >= max_terms or (total + df[t] > budget and len(chosen) >= 2):
            break
        chosen.append(t)
        total += df[t]
    return chosen


def fts_query(terms: Sequence[str]) -> str:
    """An FTS5 MATCH expression that ORs ``terms`` as quoted strings: whatever a term holds
    (quotes, ``NEAR``, ``*``, ``:``, ``^``), FTS5 reads it as text, never as syntax."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms if t.strip())


def _recency(solved: datetime, now: datetime) -> float:
    age_days = max(0.0, (now - solved).total_seconds() / 86400)
    return (1 - RECENCY_WEIGHT) + RECENCY_WEIGHT * math.exp(-age_days * math.log(2) / RECENCY_HALF_LIFE_DAYS)


def search_text_similar(
    conn: sqlite3.Connection, text: str, *, now: datetime, limit: int = 5, exclude: str | None = None,
    org_key: str | None = None, categories: Sequence[str] = (),
) -> list[SimilarCase]:
    """Solved tickets matching ``text`` best, boosted for ``org_key``, ``categories`` and recency."""
    terms = informative(conn, query_terms(text))
    if not terms or limit <= 0:
        return []
    pg = dialect_of(conn).postgresql
    if pg:
        tsquery = " | ".join("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in terms)
        pool = conn.execute(
            f"SELECT doc, ts_rank({_PG_WEIGHTS}, fts, q) AS r FROM similar_docs, to_tsquery('simple', ?) AS q "
            "WHERE fts @@ q ORDER BY r DESC, doc LIMIT ?", (tsquery, POOL + limit),
        ).fetchall()
    else:
        pool = conn.execute(
            "SELECT rowid, -rank FROM similar_fts WHERE similar_fts MATCH ? ORDER BY rank LIMIT ?", (fts_query(terms), POOL + limit)
        ).fetchall()
    if not pool:
        return []
    relevance = {r[0]: r[1] for r in pool}
    marks = ",".join("?" * len(relevance))
    # CROSS JOIN keeps this join order on SQLite (the pool's docs, then each ticket by id): left
    # to itself the planner may walk a tickets index instead, hundreds of times slower.
    # PostgreSQL's planner needs no such hint (and its CROSS JOIN takes no ON).
    rows = conn.execute(
        "SELECT d.doc, d.id, d.org_key, d.categories, d.created_at, d.solved_at, d.resolution, t.subject, t.organization "
        f"FROM similar_docs d {'JOIN' if pg else 'CROSS JOIN'} tickets t ON t.id = d.id "
        f"WHERE d.doc IN ({marks}) AND t.deleted = 0 AND t.is_open = 0",
        list(relevance),
    ).fetchall()
    wanted = set(categories)
    found = []
    for doc, tid, okey, cats, created, solved, res, subject, org in rows:
        if tid == exclude:
            continue
        shared = tuple(sorted(wanted & set(cats.split()))) if cats else ()
        same_org = bool(org_key) and okey == org_key
        solved_dt = parse_time(solved)
        boost = 1 + SAME_ORG_BOOST * same_org + CATEGORY_BOOST * bool(shared)
        score = relevance[doc] * boost * _recency(solved_dt, now)
        found.append(SimilarCase(tid, subject, res, parse_time(created), solved_dt, float(f"{score:.6g}"), org, same_org, shared))
    found.sort(key=lambda c: (-c.score, -c.solved_at.timestamp(), c.ticket_id))
    return found[:limit]


def similar_to(
    conn: sqlite3.Connection, ticket: Ticket, *, now: datetime, limit: int = 5, decision: Decision | None = None,
) -> list[SimilarCase]:
    """Solved tickets like ``ticket`` (by its subject and the customer's words), never itself."""
    text = f"{ticket.subject or ''}\n{customer_text(ticket)}"
    return search_text_similar(
        conn, text, now=now, limit=limit, exclude=ticket.id, org_key=organization_key(ticket),
        categories=trigger_categories(decision),
    )

