"""The decision model of issue 12 on realistic tickets: functional tier, management, paging by
day and at night, and urgency apart from destination (including the traps)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from deskwatch.core import config
from deskwatch.core.engine import DecisionContext, decide
from deskwatch.core.engine.money import amounts, parse_number
from deskwatch.core.model import SlaStatus, SlaTarget, decision_from_dict, decision_to_dict, ticket_from_dict

CFG = config.load(None)
DAY = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # Monday 11:00 Berlin
NIGHT = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # Tuesday 03:00 Berlin


def tk(subject: str, *bodies: str, org: dict | None = None, hours_ago: float = 0.5, tid: str = "zendesk:1"):
    created = DAY - timedelta(hours=hours_ago)
    msgs = [{"author": "customer", "created_at": (created + timedelta(minutes=i)).isoformat(), "body": b}
            for i, b in enumerate(bodies)]
    return ticket_from_dict({"id": tid, "subject": subject, "created_at": created.isoformat(),
                             "organization": org or {"name": "Acme", "tier": "business"},
                             "requester": {"email": "pat@acme.example"}, "messages": msgs})


def run(t, now=DAY, sla=None):
    return decide(t, CFG, now, DecisionContext(sla=sla))


BREACHED = SlaStatus("enterprise", (SlaTarget("first_response", DAY - timedelta(hours=2), 160.0, "breached"),))

INCIDENTS = [
    ("Invoices from another company", "When I open Billing > Invoices I can see another company's invoices.", "Security"),
    ("Wrong data", "Our dashboard is showing records from a different customer, with their emails.", "Security"),
    ("Account hacked", "Someone logged into our admin account overnight and changed the password without us knowing.", "Security"),
    ("Records gone", "After last night's migration every record we created yesterday is gone, 40 people lost a day's work.", "Engineering"),
    ("Data disappeared", "All our projects have disappeared since the update this morning.", "Engineering"),
    ("Checkout broken", "checkout fails for all our shoppers since your update", "Engineering"),
    ("Payments", "None of our customers can pay: every card payment is declined at checkout.", "Engineering"),
    ("Down", "The app is down for everyone in our company, we keep getting 502 Bad Gateway.", None),
]


@pytest.mark.parametrize("subject, body, team", INCIDENTS)
@pytest.mark.parametrize("now", [DAY, NIGHT], ids=["day", "night"])
def test_incidents_are_immediate_tier3_and_page_day_and_night(subject, body, team, now):
    d = run(tk(subject, body), now)
    assert d.recommendation == "immediate" and d.tier == "tier3"
    assert d.page and d.page_reason and d.route.on_call and d.route.page
    if team:
        assert d.team == team
    assert any(r.startswith("Page now (") for r in d.reasons)


QUIET_AT_NIGHT = [
    ("Refund", "You charged us $24,000 twice this month, a double charge. Please refund it.", "Billing"),
    ("GDPR", "Under Article 15 GDPR please send me a copy of my personal data.", "Compliance"),
    ("Cancel", "We will not renew and are cancelling our subscription at the end of the month.", None),
    ("Export", "Hi, how do I export a report to CSV? Not urgent at all. Thanks!", "Support"),
]


@pytest.mark.parametrize("subject, body, team", QUIET_AT_NIGHT)
@pytest.mark.parametrize("now", [DAY, NIGHT], ids=["day", "night"])
def test_non_incidents_never_page(subject, body, team, now):
    d = run(tk(subject, body, org={"name": "BigCo", "tier": "enterprise", "annual_value": 300000}), now, BREACHED)
    assert not d.page and d.page_reason is None and not d.route.on_call
    if team:
        assert d.team == team
    assert d.management is not None  # the breached SLA (and more) goes to management instead
    assert d.route.management == "Management"


def test_polite_how_to_with_breached_sla_is_not_an_emergency():
    d = run(tk("Export", "Hi! How do I export a report to CSV? Not urgent at all. Thanks, Maria",
               org={"name": "BigCo", "tier": "enterprise", "annual_value": 480000}), NIGHT, BREACHED)
    assert d.recommendation != "immediate" and d.tier in ("tier0", "tier1") and d.team == "Support"
    assert not d.page
    assert any("SLA breached" in r for r in d.management.reasons)


def test_large_refund_needs_billing_and_management():
    d = run(tk("Double charge", "We were charged twice: a $24,000 double charge on invoice 8812. Please refund it."))
    assert d.recommendation in ("priority", "immediate") and d.team == "Billing" and not d.page
    assert "$24,000 refund exceeds the agent limit of $500" in d.management.reasons
    assert "Management attention (Management): $24,000 refund exceeds the agent limit of $500" in d.reasons


def test_small_refund_stays_with_the_agent():
    d = run(tk("Refund", "Could you refund the $20 add-on I bought by mistake?"))
    assert d.team == "Billing" and d.management is None


@pytest.mark.parametrize("text, value", [("$24,000", 24000), ("24k", 24000), ("EUR 1.200,50", 1200.5),
                                         ("€1,200.50", 1200.5), ("3 000 €", 3000), ("£750", 750), ("$1.2M", 1.2e6)])
def test_amounts_are_read_in_any_common_format(text, value):
    assert [a.value for a in amounts(f"Please refund {text} to our card.")] == [value]


def test_parse_number_separators():
    assert (parse_number("24,000"), parse_number("1.200,50"), parse_number("12,50")) == (24000, 1200.5, 12.5)


@pytest.mark.parametrize("body, why", [
    ("This is the third time I am writing about this. I want to speak to a manager.", "asks for a manager"),
    ("Our lawyer will be in touch about the lost invoices.", "legal threat"),
    ("We are switching providers at renewal unless this gets fixed.", "churn threat"),
    ("Can you make an exception to the policy for us and extend the trial?", "policy exception"),
])
def test_hierarchical_escalation_reasons(body, why):
    d = run(tk("Problem", body))
    assert d.management is not None and any(why in r for r in d.management.reasons), d.management
    assert not d.page


@pytest.mark.parametrize("body, tier, team", [
    ("Our SAML SSO login fails with an invalid assertion error.", "tier2", "Technical"),
    ("The webhook integration stopped sending events to our endpoint.", "tier2", "Technical"),
    ("Since your latest release the PDF export crashes for our account.", "tier3", "Engineering"),
    ("Steps to reproduce: open a report, click Export, it fails every time with a stack trace.", "tier3", "Engineering"),
    ("Where can I change my notification settings?", "tier0", "Support"),
    ("I'd like to update the billing address on our account.", "tier1", "Support"),
])
def test_functional_tier_follows_content(body, tier, team):
    d = run(tk("Question", body))
    assert (d.tier, d.team) == (tier, team), d.reasons
    assert not d.page


def test_troubleshooting_without_a_fix_moves_up_a_level():
    t = tk("Report totals", "The report totals look off.", "Tried that, didn't work.", "Still broken, same problem.",
           hours_ago=30)
    msgs = list(t.messages)
    agent = [m for m in msgs]
    from dataclasses import replace
    from deskwatch.core.model import Message
    seq = []
    for i, m in enumerate(agent):
        seq.append(m)
        seq.append(Message("agent", m.created_at + timedelta(seconds=30), f"Please try clearing the cache ({i})."))
    d = run(replace(t, messages=tuple(seq[:-1])))
    assert d.tier in ("tier2", "tier3") and any("despite troubleshooting" in r for r in d.reasons)


def test_traps_negation_quotes_signatures():
    d = run(tk("Quick question", "No data was lost and nothing is missing, I just wonder how to rename a board.\n\n"
               "> On Mon, Bob wrote:\n> the site is down for everyone, all records are gone\n\n--\nAna | Outage team"))
    assert not d.page and d.recommendation in ("none", "monitor") and d.tier in ("tier0", "tier1")


def test_angry_trivial_does_not_jump_and_polite_critical_does():
    angry = run(tk("Logo", "This is RIDICULOUS!!! Your logo colour is ugly and USELESS!!!"), NIGHT)
    assert angry.recommendation in ("none", "monitor", "priority") and not angry.page and angry.tier == "tier1"
    polite = run(tk("Small thing", "Hello, sorry to bother you. It seems every record we imported yesterday "
                    "has vanished from all workspaces. Could you have a look when convenient? Thanks!"), NIGHT)
    assert polite.recommendation == "immediate" and polite.page and polite.tier == "tier3"


def test_decision_json_round_trips_and_old_decisions_load():
    d = run(tk("Double charge", "A $24,000 double charge, please refund."))
    back = decision_from_dict(decision_to_dict(d))
    assert (back.management, back.page, back.page_reason, back.route.management) == (
        d.management, d.page, d.page_reason, d.route.management)
    old = decision_to_dict(d)
    for k in ("management", "page", "page_reason"):
        del old[k]
    old["tier"] = "management"
    old["route"] = {k: v for k, v in old["route"].items() if k not in ("management", "page")} | {"tier": "management"}
    legacy = decision_from_dict(old)
    assert legacy.tier == "tier3" and legacy.management is not None and legacy.page is False
    assert legacy.route.tier == "tier3"


@pytest.mark.parametrize("body, tier, team, page", [
    ("I logged in this morning and I'm looking at someone else's account with their orders and address.", "tier3", "Security", True),
    ("Our users are seeing customer records that belong to a different organization in their dashboard.", "tier3", "Security", True),
    ("The Salesforce sync deleted all our contacts overnight, 12,000 contacts are gone.", "tier3", "Engineering", True),
    ("Hi, sorry to bother you, but it looks like nobody at our company can log in since about an hour. Thanks!",
     "tier3", "Engineering", True),
    ("After yesterday's release the Outlook integration no longer syncs events.", "tier3", "Engineering", False),
    ("The REST API returns 500 when we send a batch larger than 100 items, every time. Steps to reproduce attached.",
     "tier3", "Engineering", False),
    ("One invoice is missing from the invoices list, could you check?", "tier1", "Support", False),
    ("I can see another user's comment on our shared board, is that expected?", "tier1", "Support", False),
])
def test_varied_wording_same_kind(body, tier, team, page):
    d = run(tk("Help", body), NIGHT)
    assert (d.tier, d.team, d.page) == (tier, team, page), d.reasons


def test_credit_above_the_limit_goes_to_billing_and_management():
    d = run(tk("Credit", "Given the outage we expect a service credit of 15k for this quarter."))
    assert d.team == "Billing" and any("15k credit exceeds the agent limit" in r for r in d.management.reasons)


def test_who_is_your_manager():
    d = run(tk("Escalation", "I've emailed four times now and nobody has replied. Who is your manager?"))
    assert "the customer asks for a manager" in d.management.reasons and not d.page


def test_a_fix_that_worked_is_not_a_regression():
    """Seen in the demo: "worked perfectly" in a thank-you read as "it worked before the update"."""
    from deskwatch.core.engine.marker_words import _REGRESSION

    for thanks in ("That worked perfectly, thanks!", "Clearing the cache worked great.", "It worked well, you can close this."):
        assert not _REGRESSION.search(thanks), thanks
    for broke in ("It worked fine until your update on Monday", "Exports worked perfectly before, but now they time out",
                  "it worked great yesterday and now nothing loads"):
        assert _REGRESSION.search(broke), broke
