"""Cross-ticket incidents: one failure reported by several organizations within the hour, on
any helpdesk, makes each of those tickets an incident that escalates on its own."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from deskwatch.core import config
from deskwatch.core.cli import main
from deskwatch.core.config import Config
from deskwatch.core.engine import decide_many
from deskwatch.core.engine.escalation import IncidentSettings
from deskwatch.core.engine.history import MemoryHistory
from deskwatch.core.model import Message, Organization, Person, Ticket, ticket_to_dict
from deskwatch.core.model.settings import ConfigError
from deskwatch.core.store import Store

from .conftest import NOW

CFG = config.load(None)


def ticket(tid: str, org: str | None, email: str, subject: str, body: str, minutes_ago: float,
           *, name: str = "", tier: str | None = None) -> Ticket:
    at = NOW - timedelta(minutes=minutes_ago)
    return Ticket(
        id=tid, source=tid.split(":")[0], channel="email", subject=subject, status="new", priority=None,
        created_at=at, updated_at=at, messages=(Message("customer", at, body, True, "c-" + tid),),
        requester=Person(id="c-" + tid, email=email, name=name or email.split("@")[0].title()),
        organization=Organization(id="o-" + org.lower(), name=org, tier=tier) if org else None,
    )


def outage(minutes=(24, 13, 4)) -> list[Ticket]:
    """Three organizations, three helpdesks, one outage in three wordings."""
    a, b, c = minutes
    return [
        ticket("zendesk:4101", "Acme Freight", "ann.berg@acmefreight.example", "Error when opening reports",
               "Hi,\n\nsince a few minutes every page of the reports gives us a 500 Internal Server Error. "
               "Could you have a look?\n\nThanks,\nAnn Berg\nOps lead, Acme Freight", a),
        ticket("freshdesk:12", "Globex", "bob@globex.example", "App not reachable",
               "Hello, we can't reach the app at all, the browser spins and then shows 502 Bad Gateway.\n\n"
               "Best regards,\nBob\n\nSent from my iPhone", b),
        ticket("salesforce:500X", "Initech", "cy@initech.example", "site won't load",
               "Our site won't load since 09:40, my whole team is waiting.\n\n-- \nCy Lee | Initech", c),
    ]


def signals(decision, name="incident"):
    return [s for s in decision.signals if s.name == name]


def test_three_organizations_on_three_helpdesks_within_twenty_minutes_are_one_incident():
    tickets = outage()
    decisions = decide_many(tickets, CFG, NOW)
    ids = {t.id for t in tickets}
    for t, d in zip(tickets, decisions):
        [s] = signals(d)
        assert s.category == "incident" and s.contribution >= 60
        named = s.evidence[0]
        assert named.startswith("also reported by ")
        # the others, by id and organization; never itself
        for other in ids - {t.id}:
            assert other in named
        assert t.id not in named
        assert "(Globex)" in named or t.id == "freshdesk:12"
        assert any(e.startswith("symptoms: ") for e in s.evidence)
        assert "3 tickets from 3 customers within 20 minutes" in s.evidence
        assert d.recommendation == "immediate"
        assert any(r.startswith("Incident: 3 customers report the same failure") for r in d.reasons)
    # the shared words are the customers' own, each as written
    words = signals(decisions[0])[0].evidence[1]
    assert '"500 Internal Server Error"' in words and '"502 Bad Gateway"' in words and "site won't load" in words


def test_each_report_alone_does_not_escalate_to_immediate():
    for t in outage():
        [d] = decide_many([t], CFG, NOW)
        assert not signals(d) and d.recommendation != "immediate"


def test_the_same_symptom_from_one_organization_three_times_is_not_an_incident():
    same_org = [
        ticket("zendesk:4201", "Acme Freight", "ann@acmefreight.example", "500 error", "We get a 500 Internal Server Error on the reports", 20),
        ticket("freshdesk:4202", "Acme Freight", "raj@acmefreight.example", "502", "The app shows 502 Bad Gateway for me too", 12),
        ticket("salesforce:4203", "Acme Freight", "li@acmefreight.example", "down?", "Your site won't load here either", 3),
    ]
    assert not any(signals(d) for d in decide_many(same_org, CFG, NOW))


def test_without_an_organization_distinct_requesters_count_as_customers():
    people = [ticket(f"zendesk:43{i}", None, f"person{i}@mail{i}.example", "Site down", "The site won't load at all", 30 - 10 * i)
              for i in range(3)]
    assert all(signals(d) for d in decide_many(people, CFG, NOW))
    one_person = [ticket(f"zendesk:44{i}", None, "same@mail.example", "Site down", "The site won't load at all", 30 - 10 * i)
                  for i in range(3)]
    assert not any(signals(d) for d in decide_many(one_person, CFG, NOW))


def test_reports_spread_over_five_hours_are_not_an_incident():
    spread = outage(minutes=(300, 150, 1))
    assert not any(signals(d) for d in decide_many(spread, CFG, NOW))


def test_no_sixty_minute_span_holding_all_three_means_no_incident():
    # 0, 55 and 110 minutes: each pair is within the hour, the three are not
    spread = outage(minutes=(110, 55, 0))
    assert not any(signals(d) for d in decide_many(spread, CFG, NOW))


def test_different_symptoms_are_not_one_incident():
    mixed = [
        ticket("zendesk:4501", "Acme Freight", "ann@acmefreight.example", "Invoices", "Password reset emails never arrive", 20),
        ticket("freshdesk:4502", "Globex", "bob@globex.example", "Checkout", "Checkout fails for our shoppers since this morning", 12),
        ticket("salesforce:4503", "Initech", "cy@initech.example", "Slow", "The dashboard is extremely slow today", 3),
    ]
    assert not any(signals(d) for d in decide_many(mixed, CFG, NOW))


def test_negated_and_resolved_reports_are_not_counted():
    tickets = outage()[:2] + [
        ticket("salesforce:4601", "Initech", "cy@initech.example", "All good",
               "Just to let you know: no 500 errors anymore on our side, thanks!", 2),
        ticket("zendesk:4602", "Umbrella", "dee@umbrella.example", "Question",
               "The site is not down for us, I only need an invoice copy.", 1),
    ]
    decisions = decide_many(tickets, CFG, NOW)
    assert not any(signals(d) for d in decisions)


def test_the_same_failure_in_other_words_matches_checkout_reports():
    shop = [
        ticket("zendesk:4701", "Fresh Foods", "ops@freshfoods.example", "Checkout broken", "Checkout fails for all our shoppers since your update.", 18),
        ticket("freshdesk:4702", "Bike Hub", "it@bikehub.example", "Payments", "Our customers cannot complete a purchase, card payments are being declined.", 9),
        ticket("salesforce:4703", "Tea Corner", "hi@teacorner.example", "orders", "Since 9:45 nobody can check out on our store.", 2),
    ]
    decisions = decide_many(shop, CFG, NOW)
    assert all(signals(d) for d in decisions)
    assert "checkout or payments failing" in signals(decisions[0])[0].detail


def test_reports_after_now_are_not_seen_and_old_ones_are_not_live():
    tickets = outage()
    # scored 10 minutes after the first report: the two later ones have not been written yet
    early = NOW - timedelta(minutes=14)
    assert not signals(decide_many(tickets, CFG, early)[0])
    assert signals(decide_many(tickets, CFG, NOW)[0])
    # a day later the incident is history, not a live incident
    assert not any(signals(d) for d in decide_many(tickets, CFG, NOW + timedelta(hours=24)))


def with_incident(**kw) -> Config:
    esc = CFG.escalation
    from dataclasses import replace
    return Config(CFG.file, {**CFG.sections, "escalation": replace(esc, incident=replace(esc.incident, **kw))}, CFG.raw)


def test_thresholds_come_from_config():
    tickets = outage()
    assert not any(signals(d) for d in decide_many(tickets, with_incident(min_tickets=4), NOW))
    assert not any(signals(d) for d in decide_many(tickets, with_incident(min_organizations=4, min_tickets=4), NOW))
    assert not any(signals(d) for d in decide_many(tickets, with_incident(window_minutes=15), NOW))
    two = decide_many(tickets[1:], with_incident(min_tickets=2), NOW)
    assert all(signals(d) for d in two)


def test_the_incident_table_is_parsed_and_checked(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[escalation.incident]\nwindow_minutes = 30\nmin_tickets = 4\nmin_organizations = 3\n")
    assert config.load(f).escalation.incident == IncidentSettings(window_minutes=30, min_tickets=4, min_organizations=3)
    f.write_text("[escalation.incident]\nmin_tickets = 2\nmin_organizations = 3\n")
    with pytest.raises(ConfigError, match="min_organizations"):
        config.load(f)
    f.write_text("[escalation.incident]\nwindow = 30\n")
    with pytest.raises(ConfigError, match="window"):
        config.load(f)


def test_a_history_view_without_recent_finds_no_incident_and_fails_nothing():
    class Old:
        def related(self, ticket, since=None):
            return ()

    decisions = decide_many(outage(), CFG, NOW, history=Old())
    assert not any(signals(d) for d in decisions)


def test_memory_history_recent_is_bounded_and_by_activity():
    tickets = outage(minutes=(50, 30, 10))
    h = MemoryHistory(tickets)
    got = h.recent(NOW - timedelta(minutes=35), NOW, 10)
    assert [t.id for t in got] == ["salesforce:500X", "freshdesk:12"]
    assert [t.id for t in h.recent(NOW - timedelta(hours=2), NOW, 2)] == ["salesforce:500X", "freshdesk:12"]
    assert h.recent(NOW + timedelta(minutes=1), NOW + timedelta(hours=1), 10) == []


# -- through the daemon's pipeline (the store's history) ------------------------------------


def test_the_daemon_finds_the_incident_among_stored_tickets_of_three_helpdesks(tmp_path):
    from deskwatch.core.daemon.pipeline import Decider

    store = Store(tmp_path / "d.db")
    decider = Decider(CFG, store)
    first, second, third = outage()
    out = {}
    for t in (first, second, third):
        # each arrives with its own helpdesk's sync and is decided when it arrives
        store.save_page(t.source, [t], (), {"cursor": t.id}, now=t.created_at + timedelta(seconds=30))
        [out[t.id]] = decider.decide_many([t.id], t.created_at + timedelta(minutes=1), write_back=True)
    assert not signals(out[first.id]) and not signals(out[second.id])
    [s] = signals(out[third.id])
    assert "zendesk:4101 (Acme Freight)" in s.evidence[0] and "freshdesk:12 (Globex)" in s.evidence[0]
    assert out[third.id].recommendation == "immediate"
    assert store.latest_decision(third.id).recommendation == "immediate"
    # re-deciding an earlier one (say, after a customer's follow-up) names the later reports
    again = decider.decide_many([first.id], third.created_at + timedelta(minutes=2), write_back=True)
    assert signals(again[0]) and "salesforce:500X (Initech)" in signals(again[0])[0].evidence[0]


def test_the_store_recent_view_reads_both_time_indexes_with_a_limit(tmp_path):
    store = Store(tmp_path / "d.db")
    tickets = outage(minutes=(50, 30, 10))
    for t in tickets:
        store.save_page(t.source, [t], (), None, now=NOW)
    h = store.history()
    assert [t.id for t in h.recent(NOW - timedelta(minutes=35), NOW, 10)] == ["salesforce:500X", "freshdesk:12"]
    assert [t.id for t in h.recent(NOW - timedelta(hours=2), NOW, 1)] == ["salesforce:500X"]
    plan = store._q("EXPLAIN QUERY PLAN SELECT id FROM tickets WHERE updated_at >= ? AND updated_at <= ? "
                    "AND deleted = 0 ORDER BY updated_at DESC LIMIT 5", ["a", "b"])
    assert "tickets_updated" in " ".join(str(tuple(r)) for r in plan)


# -- deskwatch score on a file --------------------------------------------------------------


def test_deskwatch_score_finds_the_incident_in_a_file(tmp_path, capsys):
    f = tmp_path / "tickets.jsonl"
    f.write_text("\n".join(json.dumps(ticket_to_dict(t)) for t in outage()) + "\n")
    assert main(["score", "--now", NOW.isoformat().replace("+00:00", "Z"), str(f)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["ticket_id"] for d in lines] == ["zendesk:4101", "freshdesk:12", "salesforce:500X"]
    for d in lines:
        [s] = [s for s in d["signals"] if s["name"] == "incident"]
        assert s["evidence"][0].startswith("also reported by ") and d["recommendation"] == "immediate"
    # one ticket alone in a file: no incident
    f.write_text(json.dumps(ticket_to_dict(outage()[0])) + "\n")
    main(["score", "--now", "2026-11-23T10:00:00Z", str(f)])
    [alone] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert not [s for s in alone["signals"] if s["name"] == "incident"]


def test_a_failure_only_in_the_quoted_thread_is_not_a_report():
    quoted = ticket(
        "salesforce:4801", "Initech", "cy@initech.example", "Re: your question",
        "Thanks, that answers it.\n\nBest,\nCy\n\nOn Mon, 23 Nov 2026 at 09:50, Support <help@vendor.example> wrote:\n"
        "> Some customers see a 500 Internal Server Error this morning; we are on it.", 2)
    decisions = decide_many(outage()[:2] + [quoted], CFG, NOW)
    assert not any(signals(d) for d in decisions)
