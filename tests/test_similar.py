"""Similar solved tickets: the FTS5 index kept in step with upserts, ranking, safe queries, CLI."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest

from deskwatch.core.cli import main
from deskwatch.core.model import Message, Organization, Person, Signal, StatusChange, Ticket
from deskwatch.core.store import MIGRATIONS, Store
from deskwatch.core.store.migrations import migrate
from deskwatch.core.store.search import fts_query, query_terms, stem
from tests.store.pg import STORE_KINDS, open_test_store, pg_url  # noqa: F401  (pg_url: a fixture)

from .conftest import NOW
from .store.factory import decision


def solved(tid: str, subject: str, body: str, *, org: str = "Northwind Traders", days_ago: float = 10, status: str = "solved",
           reply: str = "We re-enabled international payments on your card. It works again now.", hours: float = 5) -> Ticket:
    created = NOW - timedelta(days=days_ago)
    done = created + timedelta(hours=hours)
    msgs = (
        Message("customer", created, body, True, "c1"),
        Message("agent", created + timedelta(hours=1), "Could you try the payment again?", True, "a1"),
        Message("agent", done - timedelta(minutes=1), reply, True, "a1"),
        Message("agent", done + timedelta(hours=1), "Internal: customer was happy.", False, "a1"),
    )
    return Ticket(
        id=tid, source=tid.split(":")[0], channel="email", subject=subject, status=status, priority="normal",
        created_at=created, updated_at=done, messages=msgs,
        requester=Person(id="c1", email=f"{tid.split(':')[1]}@{org.split()[0].lower()}.example", name="Sam"),
        organization=Organization(id=org, name=org),
        status_history=(StatusChange("open", created), StatusChange(status, done)),
    )


def query(tid: str = "freshdesk:9", *, org: str = "Northwind Traders", subject: str = "Card declined abroad",
          body: str = "My card was declined when paying in a shop abroad. Please fix this.") -> Ticket:
    return Ticket(
        id=tid, source=tid.split(":")[0], channel="email", subject=subject, status="open", priority="normal",
        created_at=NOW, updated_at=NOW, messages=(Message("customer", NOW, body, True, "c9"),),
        requester=Person(id="c9", email="new@northwind.example"), organization=Organization(id=org, name=org),
    )


CARD = ("Card declined abroad", "My card got declined at a shop while travelling abroad.")


@pytest.fixture(params=STORE_KINDS)
def store(request, tmp_path):
    s = open_test_store(request.param, request, tmp_path)  # FTS5 on SQLite, tsvector on PostgreSQL
    yield s
    s.close()


def test_fts5_is_compiled_in():
    conn = sqlite3.connect(":memory:")
    assert ("ENABLE_FTS5",) in conn.execute("PRAGMA compile_options").fetchall()


def test_finds_the_matching_solved_ticket_with_resolution_and_duration(store):
    store.save_page("zendesk", [
        solved("zendesk:1", *CARD, hours=5),
        solved("zendesk:2", "Cannot log in", "The login page says my password is wrong since this morning."),
        solved("zendesk:3", "Invoice address", "Please change the address on our invoices to the new office."),
    ])
    found = store.similar(query(), now=NOW)
    assert [c.ticket_id for c in found] == ["zendesk:1"]
    case = found[0]
    assert case.subject == "Card declined abroad"
    assert case.resolution == "We re-enabled international payments on your card. It works again now."
    assert case.took == timedelta(hours=5)
    assert case.score > 0


def test_same_organization_and_recent_win_among_equal_text_matches(store):
    store.save_page("zendesk", [
        solved("zendesk:1", *CARD, org="Contoso", days_ago=10),
        solved("zendesk:2", *CARD, org="Northwind Traders", days_ago=10),
        solved("zendesk:3", *CARD, org="Fabrikam", days_ago=300),
    ])
    found = store.similar(query(org="Northwind Traders"), now=NOW)
    assert [c.ticket_id for c in found] == ["zendesk:2", "zendesk:1", "zendesk:3"]
    assert found[0].same_organization and not found[1].same_organization
    # With no organization preference left, the recent one beats the old one.
    found = store.similar(query(org="Globex"), now=NOW)
    assert found[-1].ticket_id == "zendesk:3"


def test_shared_trigger_category_is_preferred(store):
    store.save_page("zendesk", [solved("zendesk:1", *CARD), solved("zendesk:2", *CARD)])
    d = decision("zendesk:2")
    payment = Signal("trigger", 1.0, 30, 30, ("declined",), "payment failure", category="payments")
    store.record_decision(d.__class__(**{**d.__dict__, "signals": (payment,)}))
    store.save_page("zendesk", [solved("zendesk:2", *CARD, reply="We unblocked the card. Fixed.")])  # re-index after the decision
    q = query(org="Globex")
    asked = d.__class__(**{**d.__dict__, "ticket_id": q.id, "signals": (payment,)})
    found = store.similar(q, now=NOW, decision=asked)
    assert found[0].ticket_id == "zendesk:2" and found[0].shared_categories == ("payments",)


def test_a_ticket_never_finds_itself(store):
    store.save_page("zendesk", [solved("zendesk:1", *CARD), solved("zendesk:2", *CARD)])
    me = store.get_ticket("zendesk:1")
    assert [c.ticket_id for c in store.similar(me, now=NOW)] == ["zendesk:2"]


def test_only_solved_and_closed_tickets_are_found_and_reopening_removes_one(store):
    open_one = solved("zendesk:3", *CARD)
    store.save_page("zendesk", [
        solved("zendesk:1", *CARD), solved("zendesk:2", *CARD, status="closed"),
        Ticket(**{**open_one.__dict__, "status": "open", "status_history": ()}),
        Ticket(**{**open_one.__dict__, "id": "zendesk:4", "status": "pending", "status_history": ()}),
    ])
    assert {c.ticket_id for c in store.similar(query(), now=NOW)} == {"zendesk:1", "zendesk:2"}
    reopened = solved("zendesk:1", *CARD)
    reopened = Ticket(**{**reopened.__dict__, "status": "open", "updated_at": NOW})
    store.save_page("zendesk", [reopened])
    assert {c.ticket_id for c in store.similar(query(), now=NOW)} == {"zendesk:2"}
    store.save_page("zendesk", [], deleted_ids=["zendesk:2"])
    assert store.similar(query(), now=NOW) == []


@pytest.mark.parametrize("hostile", [
    'card "declined', 'NEAR(card declined, 2)', "card* OR declined*", '"""', "AND OR NOT", "subject:card", "^card",
    "carte refusée à l'étranger 💳", "卡被拒绝", "", "   ", "-- ; DROP TABLE tickets; --", "card\x00declined",
    "(card", "col:NEAR", "a" * 5000,
])
def test_hostile_text_never_breaks_the_query(store, hostile):
    store.save_page("zendesk", [solved("zendesk:1", *CARD), solved("zendesk:2", "Carte refusée", "Ma carte est refusée à l'étranger.")])
    found = store.similar(query(subject=hostile, body=hostile), now=NOW)
    assert all(c.ticket_id.startswith("zendesk:") for c in found)
    assert store.ticket_count() == 2


def test_quoted_terms_match_as_words_and_accents_fold(store):
    store.save_page("zendesk", [solved("zendesk:1", "Carte refusée", "Ma carte est refusée à l'étranger.")])
    found = store.similar(query(subject='"carte" NEAR refusee*', body="refusée!"), now=NOW)
    assert [c.ticket_id for c in found] == ["zendesk:1"]


def test_query_building_quotes_terms_and_drops_noise():
    terms = query_terms('Hi team, my "card" was DECLINED again!!! NEAR * 2024 I hasn\'t a')
    assert "card" in terms and "declin" in terms
    assert not {"hi", "team", "my", "2024", "a", "hasn", "i"} & set(terms)
    assert fts_query(['ab"c', "near"]) == '"ab""c" OR "near"'
    assert len(query_terms(" ".join(f"word{i}x" for i in range(100)))) <= 32
    assert stem("refunds") == stem("refunded") == stem("refunding") == "refund"


def test_html_bodies_are_indexed_as_text_and_resolution_is_readable(store):
    t = solved("freshdesk:5", "Export stuck", "<div>The CSV export is <b>stuck</b> at 99%&nbsp;since Monday.</div>",
               reply="<div>We cleared the export queue on our side. Please retry &amp; let us know.</div><div>Best, Ana</div>")
    store.save_page("freshdesk", [t])
    found = store.similar(query(subject="export stuck", body="My CSV export hangs at 99 percent"), now=NOW)
    assert found[0].ticket_id == "freshdesk:5"
    assert found[0].resolution == "We cleared the export queue on our side. Please retry & let us know."


def test_migration_indexes_an_existing_store(tmp_path):
    path = tmp_path / "old.db"
    before = [m for m in MIGRATIONS if m[0] != "m005_similar_search"]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    migrate(conn, str(path), before)
    conn.close()
    # Tickets written by a deskwatch from before the search index (rows only, no index upkeep).
    s = _old_store(path)
    s.save_page("zendesk", [solved("zendesk:1", *CARD), solved("zendesk:2", "Login", "Cannot log in"),
                            Ticket(**{**solved("zendesk:3", *CARD).__dict__, "status": "open", "status_history": ()})])
    s.close()
    with Store(path) as s:
        assert s.migrations_applied == ["m005_similar_search"]
        assert [c.ticket_id for c in s.similar(query(), now=NOW)] == ["zendesk:1"]
        assert s.similar(query(), now=NOW)[0].resolution.startswith("We re-enabled")


def _old_store(path):
    """Writes tickets as a deskwatch before the search index did: ticket and message rows only."""
    conn = sqlite3.connect(path, isolation_level=None)

    class Old:
        def save_page(self, source, tickets):
            from deskwatch.core import model
            from deskwatch.core.store.base import ts
            from deskwatch.core.store.tickets import _UPSERT, _row, content_hash

            conn.execute("BEGIN")
            for t in tickets:
                d = model.ticket_to_dict(t)
                conn.execute(_UPSERT, {**_row(t, d, content_hash(d)), "version": 1})
                conn.executemany(
                    "INSERT INTO messages (ticket_id, seq, author, author_id, created_at, public, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(t.id, i, m.author, m.author_id, ts(m.created_at), int(m.public), m.body) for i, m in enumerate(t.messages)],
                )
            conn.execute("COMMIT")

        def close(self):
            conn.close()

    return Old()


# -- CLI -------------------------------------------------------------------------------------------


def _cli_store(tmp_path) -> str:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\npath = "{tmp_path / "cli.db"}"\n')
    with Store(tmp_path / "cli.db") as s:
        s.save_page("zendesk", [solved("zendesk:1", *CARD), solved("zendesk:2", "Login", "Cannot log in at all")])
        s.save_page("freshdesk", [query()])
    return str(cfg)


def test_cli_similar_prints_results_and_json(tmp_path, capsys):
    cfg = _cli_store(tmp_path)
    assert main(["similar", "freshdesk:9", "--config", cfg]) == 0
    out = capsys.readouterr().out
    assert "zendesk:1" in out and "Card declined abroad" in out and "resolved: We re-enabled" in out and "zendesk:2" not in out
    assert main(["similar", "freshdesk:9", "--config", cfg, "--json", "--limit", "1"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 1 and rows[0]["ticket_id"] == "zendesk:1" and rows[0]["took_seconds"] == 5 * 3600


def test_cli_similar_unknown_ticket_and_bad_limit_exit_2(tmp_path, capsys):
    cfg = _cli_store(tmp_path)
    assert main(["similar", "zendesk:404", "--config", cfg]) == 2
    assert "no ticket 'zendesk:404'" in capsys.readouterr().err
    assert main(["similar", "freshdesk:9", "--config", cfg, "--limit", "0"]) == 2
    assert "--limit" in capsys.readouterr().err
