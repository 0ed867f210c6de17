"""`deskwatch store copy`: a SQLite installation moved to PostgreSQL answers the same."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from deskwatch.core.cli import main
from deskwatch.core.model import AuditRecord, TicketUpdate
from deskwatch.core.store import QueueFilter, Store
from tests.store.factory import NOW, decision, ticket
from tests.store.pg import pg_url  # noqa: F401  (a fixture)


def _installation(path):
    """A SQLite store with something in every kind of table."""
    with Store(path) as s:
        s.save_page("zendesk", [ticket("zendesk:1"), ticket("zendesk:2", subject="Card declined abroad", status="solved",
                                                           body="My card got declined while travelling abroad.")],
                    (), {"cursor": "abc"}, now=NOW)
        s.save_page("freshdesk", [ticket("freshdesk:7", email="x@y.example", org="Other", group="Support")], (), {"page": 3}, now=NOW)
        s.record_decision(decision("zendesk:1", score=81.0, recommendation="immediate"))
        s.record_decision(decision("freshdesk:7", score=20.0, recommendation="monitor", team="support"))
        s.append_audit(AuditRecord("zendesk:1", "note", "ana", NOW, {"text": "called ? the customer % 100"}))
        s.enqueue(TicketUpdate("zendesk:1", "zendesk", "key-1", priority="urgent"), NOW)
        s.enqueue(TicketUpdate("zendesk:1", "zendesk", "key-2", private_note="handoff"), NOW)
        s.mark_applied("key-1", {"outcome": "applied"}, NOW)
        s.start_escalation("zendesk:1", NOW)
        s.set_acknowledged("zendesk:1", "ana", NOW, expires_at=NOW + timedelta(hours=1))
        s.record_rate_limit("zendesk", {"remaining": 80}, NOW)
        s.heartbeat(1234, NOW, 5.0)
        s.save_model("tone", b"\x00\x01binary\xff", trained_on={"n": 3}, figures={"f1": 0.8}, now=NOW, activate=True)
        s.enqueue_notification("n-1", "zendesk:1", "page", "ops[0]", "Page", "zendesk:1 needs you", NOW, NOW)
        return s.current_version()


def _views(s: Store) -> dict:
    return {
        "queue": [(r.ticket_id, r.score, r.recommendation, r.acknowledged) for r in s.queue(now=NOW)],
        "billing": [r.ticket_id for r in s.queue(QueueFilter(team="BILLING"), now=NOW)],
        "detail": s.ticket_detail("zendesk:1"),
        "bookmarks": (s.get_bookmark("zendesk"), s.get_bookmark("freshdesk")),
        "status": s.status(NOW),
        "models": [(m.version, m.active) for m in s.models()],
        "model_data": s.model_data(1),
        "notifications": s.notifications_for("zendesk:1"),
        "similar": [c.ticket_id for c in s.similar(ticket("zendesk:9", subject="Card declined", body="declined abroad"), now=NOW)],
        "version": s.current_version(),
    }


def test_copy_round_trip_gives_the_same_answers(tmp_path, pg_url, capsys):
    path = tmp_path / "dw.db"
    _installation(path)
    assert main(["store", "copy", "--from", str(path), "--to", pg_url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and "options" not in out["to"]
    counts = {t["table"]: t["target_rows"] for t in out["tables"]}
    assert counts["tickets"] == 3 and counts["audit"] >= 3 and counts["outbox"] == 2 and counts["models"] == 1
    assert all(t["source_checksum"] == t["target_checksum"] for t in out["tables"])
    with Store(path) as a, Store(url=pg_url) as b:
        assert _views(a) == _views(b)
        assert _views(b)["similar"] == ["zendesk:2"]
        # New rows continue the copied numbering, and the outbox keeps its order.
        b.append_audit(AuditRecord("zendesk:1", "note", "bo", NOW, {}))
        assert [r.actor for r in b.audit_for("zendesk:1")][-1] == "bo"
        assert [i.key for i in b.outbox_for("zendesk:1")] == ["key-1", "key-2"]


def test_copy_refuses_a_non_empty_target_and_prints_a_table(tmp_path, pg_url, capsys):
    path = tmp_path / "dw.db"
    _installation(path)
    assert main(["store", "copy", "--from", str(path), "--to", pg_url]) == 0
    out = capsys.readouterr().out
    assert "tickets" in out and "counts and checksums match" in out and "\r" not in out
    assert main(["store", "copy", "--from", str(path), "--to", pg_url]) == 2
    err = capsys.readouterr().err
    assert "already holds deskwatch data" in err and "copy into an empty database or schema" in err


def test_copy_checks_its_arguments(tmp_path, capsys):
    assert main(["store", "copy", "--from", str(tmp_path / "none.db"), "--to", "postgresql://h/db"]) == 2
    assert "no such SQLite store" in capsys.readouterr().err
    (tmp_path / "x.db").write_bytes(b"")
    assert main(["store", "copy", "--from", str(tmp_path / "x.db"), "--to", "mysql://u:pw@h/db"]) == 2
    err = capsys.readouterr().err
    assert "expects a postgresql:// URL" in err and "pw" not in err


def test_a_changed_row_changes_the_checksum():
    from deskwatch.core.store.copy import checksum

    rows = [("a", 1, 2.5, b"\x00"), ("b", None, 0.0, b"")]
    assert checksum(rows) == checksum(list(reversed(rows)))
    assert checksum(rows)[1] != checksum([("a", 1, 2.5, b"\x01"), rows[1]])[1]
    assert checksum(rows)[1] != checksum(rows + [rows[0]])[1]
