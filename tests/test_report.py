"""`deskwatch report`: each figure from a store with a realistic history of decisions and
people's actions (recorded through core/daemon/operations.py, as the console records them)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from deskwatch.core.cli import main
from deskwatch.core.daemon import operations as ops
from deskwatch.core.model import Message, Route, SlaStatus, SlaTarget, StatusChange
from deskwatch.core.report import Period, build, load
from deskwatch.core.report.render import sparkline
from deskwatch.core.store import Store
from tests.store.pg import STORE_KINDS, open_test_store, pg_url  # noqa: F401  (pg_url: a fixture)

from .store.factory import decision, ticket

# Monday 16 November 2026, 08:00 UTC: two weeks of history follow.
T0 = datetime(2026, 11, 16, 8, 0, tzinfo=timezone.utc)


def msg(at: datetime, body: str = "Still broken, please help") -> Message:
    return Message("customer", at, body, True, "cust-1")


def dec(tid: str, at: datetime, rec: str, *, team: str = "billing", agent: str | None = None, on_call: bool = False,
        sla_state: str = "ok", policy: str = "enterprise"):
    d = decision(tid, recommendation=rec, team=team, agent=agent, at=at, sla_state=sla_state)
    return replace(d, route=Route(d.tier, team, agent, on_call, 0, "rule"),
                   sla=SlaStatus(policy, (SlaTarget("first_response", at + timedelta(hours=1), 40.0, sla_state, True, 60),)))


def business(t: datetime) -> bool:
    return t.weekday() < 5 and 9 <= t.hour < 17


def night_of(t: datetime) -> date:
    return (t - timedelta(hours=12)).date()


@pytest.fixture(params=STORE_KINDS)
def history(request, tmp_path):
    """Six tickets, each telling one story (on SQLite and on PostgreSQL)."""
    s = Store(tmp_path / "deskwatch.db") if request.param == "sqlite" else open_test_store(request.param, request, tmp_path)
    day2 = T0 + timedelta(days=1)
    w2 = T0 + timedelta(days=7)
    tickets = [
        # 1: escalated 10 min after the customer's second message, acknowledged 30 min later, solved in 5 h
        replace(ticket("zendesk:1", created=T0, extra_messages=(msg(T0 + timedelta(hours=1)),), status="solved"),
                status_history=(StatusChange("solved", T0 + timedelta(hours=5)),)),
        # 2: escalated, overridden down by a person (a false escalation)
        ticket("freshdesk:2", created=T0 + timedelta(hours=2), channel="chat", email="b@other.example", org="Other"),
        # 3: deskwatch said none, a person escalated (a miss)
        replace(ticket("zendesk:3", created=day2, email="c@third.example", org="Third"), status="closed",
                status_history=(StatusChange("closed", day2 + timedelta(hours=10)),)),
        # 4: escalated to billing, a person moved it to technical (re-routed); SLA breached
        ticket("salesforce:4", created=w2, email="d@fourth.example", org="Fourth"),
        # 5: escalated, calmed down, escalated again (a re-escalation); paged at night
        ticket("zendesk:5", created=w2 + timedelta(hours=1), email="e@fifth.example", org="Fifth"),
        # 6: escalated, rejected in review (a false escalation)
        ticket("zendesk:6", created=w2 + timedelta(hours=2), email="f@sixth.example", org="Sixth"),
    ]
    s.save_page("zendesk", [t for t in tickets if t.source == "zendesk"], (), None)
    s.save_page("freshdesk", [t for t in tickets if t.source == "freshdesk"], (), None)
    s.save_page("salesforce", [t for t in tickets if t.source == "salesforce"], (), None)

    s.record_decision(dec("zendesk:1", T0 + timedelta(minutes=5), "monitor"))
    s.record_decision(dec("zendesk:1", T0 + timedelta(hours=1, minutes=10), "priority", agent="ana"))
    ops.acknowledge(s, "zendesk:1", "ana", T0 + timedelta(hours=1, minutes=40))
    ops.review(s, "zendesk:1", True, "lead", T0 + timedelta(hours=2))

    s.record_decision(dec("freshdesk:2", T0 + timedelta(hours=2, minutes=20), "immediate"))
    ops.override(s, "freshdesk:2", "monitor", "customer is just testing", "ana", T0 + timedelta(hours=3))

    s.record_decision(dec("zendesk:3", day2 + timedelta(minutes=1), "none", team="support"))
    ops.escalate(s, "zendesk:3", tier="tier2", team="technical", actor="bo", reason="outage", now=day2 + timedelta(hours=1))

    s.record_decision(dec("salesforce:4", w2 + timedelta(minutes=3), "priority", sla_state="breached"))
    ops.escalate(s, "salesforce:4", team="technical", actor="bo", reason="not billing", now=w2 + timedelta(hours=1))

    night = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # Tuesday 02:00
    s.record_decision(dec("zendesk:5", w2 + timedelta(hours=1, minutes=2), "priority", agent="cy", on_call=True))
    s.record_decision(dec("zendesk:5", w2 + timedelta(hours=4), "none"))
    s.record_decision(dec("zendesk:5", night, "immediate", agent="cy", on_call=True))

    s.record_decision(dec("zendesk:6", w2 + timedelta(hours=2, minutes=5), "priority", agent="cy", on_call=True,
                          policy="standard"))
    s.record_decision(dec("zendesk:6", night + timedelta(minutes=30), "priority", agent="cy", on_call=True, policy="standard"))
    ops.review(s, "zendesk:6", False, "lead", w2 + timedelta(hours=3))
    yield s
    s.close()


def report_of(store, since=None, until=None, by=None):
    return build(load(store, Period(since, until)), since=None, until=None, is_business=business, night_of=night_of, by=by)


def fig(rep, key):
    f = {f.key: f for f in rep.figures}[key]
    return f.value, f.n


def test_headline_figures(history):
    rep = report_of(history)
    assert rep.tickets == 6
    assert fig(rep, "escalation_rate") == (round(100 * 5 / 6, 1), 6)  # all but zendesk:3
    # minutes from the last customer message to the escalating decision: 10, 20, 3, 2, 5
    assert fig(rep, "time_to_escalation") == (5.0, 5)
    assert fig(rep, "time_to_acknowledgment") == (30.0, 1)
    assert fig(rep, "false_escalation_rate") == (40.0, 5)  # freshdesk:2 overridden, zendesk:6 rejected
    # people escalated zendesk:3 (deskwatch had not: a miss) and salesforce:4 (after deskwatch: a re-route)
    assert fig(rep, "misses") == (50.0, 2)
    assert fig(rep, "routing_accuracy") == (80.0, 5)  # salesforce:4 moved to technical
    assert fig(rep, "re_escalations") == (round(100 * 1 / 6, 1), 6)  # zendesk:5; zendesk:3 went up once (by hand)
    assert fig(rep, "resolution_escalated") == (5.0, 1)
    assert fig(rep, "resolution_other") == (10.0, 1)


def test_misses_only_count_people_who_were_first(history):
    # salesforce:4 was escalated by deskwatch before the person's escalate: not a miss
    rep = report_of(history, since=T0 + timedelta(days=7))
    assert fig(rep, "misses") == (0.0, 1)


def test_breakdowns_trends_sla_and_alarm_load(history):
    rep = report_of(history)
    by_channel = {p.label: (p.value, p.n) for p in rep.breakdowns["escalation rate by channel"]}
    assert by_channel == {"chat": (100.0, 1), "email": (80.0, 5)}
    by_source = {p.label: p.n for p in rep.breakdowns["escalation rate by source"]}
    assert by_source == {"freshdesk": 1, "salesforce": 1, "zendesk": 4}
    kinds = {p.label: p.n for p in rep.breakdowns["escalations: functional vs management"]}
    assert kinds == {"functional": 5, "management": 0}
    weeks = {name: [(p.label, p.value, p.n) for p in pts] for name, pts in rep.trends.items()}
    assert weeks["escalation rate"] == [("2026-11-16", round(200 / 3, 1), 3), ("2026-11-23", 100.0, 3)]
    assert weeks["false escalations"] == [("2026-11-16", 50.0, 2), ("2026-11-23", round(100 / 3, 1), 3)]
    assert weeks["agreement with reviews"] == [("2026-11-16", 100.0, 1), ("2026-11-23", 0.0, 1)]
    sla = {p.label: (p.value, p.n) for p in rep.sla}
    assert sla["enterprise / first response"] == (80.0, 5)  # salesforce:4 breached
    assert sla["standard / first response"] == (100.0, 1)
    # cy was paged at night for zendesk:5 and zendesk:6 (once each, though 6 was decided twice);
    # the business-hours decisions do not count
    assert rep.pages == [{"person": "cy", "pages": 2, "nights": 1, "per_night": 2.0, "worst_night": 2,
                          "worst_night_date": "2026-11-23"}]


def test_management_escalations_are_read_from_the_decision(history):
    d = dec("zendesk:3", T0 + timedelta(days=1, minutes=30), "priority")
    history.record_decision(d)
    for r in history.read("SELECT id, data FROM decisions WHERE ticket_id = 'zendesk:3' AND recommendation = 'priority'"):
        with history.transaction() as conn:
            conn.execute("UPDATE decisions SET data = ? WHERE id = ?",
                         (json.dumps({**json.loads(r["data"]), "management": {"reasons": ["x"]}}), r["id"]))
    kinds = {p.label: p.n for p in report_of(history).breakdowns["escalations: functional vs management"]}
    assert kinds == {"functional": 5, "management": 1}


def test_by_team_groups_the_main_figures(history):
    rep = report_of(history, by="team")
    rows = {r["team"]: r for r in rep.groups}
    assert rows["billing"]["tickets"] == 5 and rows["billing"]["escalated"] == 5
    assert rows["support"]["escalation_rate"] == 0.0


def test_sparkline_heights():
    assert sparkline([0, 50, 100, None]) == "▁▅█ "


def _config(tmp_path, store):
    """A config naming ``store``: its PostgreSQL url, or its SQLite file."""
    p = tmp_path / "c.toml"
    p.write_text(f'[store]\nurl = "{store.url}"\n' if store.url else f'[store]\npath = "{store.path}"\n')
    return str(p)


def test_cli_formats(history, tmp_path, capsys):
    cfg = _config(tmp_path, history)
    assert main(["report", "--config", cfg]) == 0
    out = capsys.readouterr().out
    assert "escalation rate" in out and "n=6" in out and "▁" not in out.split("Trends")[0]
    assert any(ch in out.split("Trends")[1] for ch in "▁▂▃▄▅▆▇█")
    assert main(["report", "--config", cfg, "--format", "json", "--by", "week"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["figures"]["routing_accuracy"]["value"] == 80.0 and len(data["groups"]) == 2
    assert main(["report", "--config", cfg, "--format", "csv", "--since", "2026-11-23"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {"section": "figure", "figure": "escalation_rate", "group": "", "value": "100.0", "unit": "%", "n": "3"} in rows


@pytest.mark.parametrize("args, message", [
    (["--since", "2026-12-01", "--until", "2026-11-01"], "is not before --until"),
    (["--since", "2027-01-01"], "no tickets were created"),
    (["--since", "yesterday"], "is not a date"),
])
def test_bad_periods_exit_2(history, tmp_path, capsys, args, message):
    cfg = _config(tmp_path, history)
    assert main(["report", "--config", cfg, *args]) == 2
    assert message in capsys.readouterr().err


def test_store_without_history_exits_2(tmp_path, capsys):
    empty = Store(tmp_path / "empty.db")
    empty.close()
    assert main(["report", "--config", _config(tmp_path, empty)]) == 2
    assert "no decisions yet" in capsys.readouterr().err
