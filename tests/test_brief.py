"""The handoff brief: extractive ask, tried steps, account, sentiment, SLA, why/where, similar, renderings."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest

from deskwatch.core.cli import main
from deskwatch.core.model import (
    Decision, Message, Organization, Person, Route, Signal, SlaStatus, SlaTarget, StatusChange, Ticket,
)
from deskwatch.core.policy.brief import build_brief, brief_to_dict, render_html, render_text, the_ask, what_was_tried
from deskwatch.core.policy.htmltext import readable, sentences
from deskwatch.core.store import Store

from .conftest import NOW

T0 = NOW - timedelta(hours=20)

FIRST = (
    "<div>Hi team,</div><div>Since this morning our dashboard shows error 502 when we open the reports tab. "
    "We need the monthly report for the board meeting on Friday, can you please look at it?</div>"
    "<div>Thanks,<br>Maria</div>"
)
AGENT_STEP = "Hi Maria, sorry about that. Could you please clear your browser cache and try again in an incognito window? Best, Ana"
SECOND = (
    "<p>I cleared the cache and tried incognito, it&#x27;s still failing with the same 502 error.</p>"
    "<div class=\"freshdesk_quote\"><blockquote>Could you please clear your browser cache and try again?</blockquote></div>"
)
THIRD = (
    "This is unacceptable!!! We have been waiting a whole day. If this isn't fixed today we will escalate to our "
    "account manager.\n\nOn Mon, Ana wrote:\n> Could you please clear your browser cache"
)


def ticket(**kw) -> Ticket:
    msgs = (
        Message("customer", T0, FIRST, True, "c1"),
        Message("agent", T0 + timedelta(hours=1), AGENT_STEP, True, "a1"),
        Message("customer", T0 + timedelta(hours=3), SECOND, True, "c1"),
        Message("agent", T0 + timedelta(hours=4), "Checked the logs: a timeout in the report service. Please restart it if it happens again.", False, "a1"),
        Message("customer", T0 + timedelta(hours=18), THIRD, True, "c1"),
    )
    base = Ticket(
        "freshdesk:77", "freshdesk", "email", "Reports tab shows error 502", "open", "high", T0, NOW, msgs,
        Person("c1", "maria@northwind.example", "Maria Lopez"),
        Organization("o1", "Northwind Traders", 120000.0, "enterprise", date(2026, 12, 20), 0.35),
        group="Support", url="https://northwind.freshdesk.com/a/tickets/77",
    )
    return replace(base, **kw)


def decision(**kw) -> Decision:
    sla = SlaStatus("enterprise", (
        SlaTarget("resolution", NOW + timedelta(hours=6), 60, "warning", True, 1440),
        SlaTarget("next_response", NOW - timedelta(minutes=50), 130, "breached", True, 60),
        SlaTarget("first_response", T0 + timedelta(minutes=30), 50, "met", True, 60),
    ))
    base = Decision(
        "freshdesk:77", 81, "immediate", "tier3", "platform", 0.86, False,
        (
            Signal("sentiment", 0.9, 20, 18, ("this is unacceptable",), "angry, worsening over 3 messages"),
            Signal("trigger", 1.0, 25, 25, ("escalate to our account manager",), "threat to escalate", category="escalation_threat"),
            Signal("account", 0.7, 15, 10.5, ("$120k/year",), "high-value account near renewal"),
            Signal("age", 0.1, 10, 1, (), "a day old"),
            Signal("loop", 0.0, 10, 0, (), "no loop"),
        ),
        ("reason",), NOW, sla, Route("tier3", "platform", "bob", True, 1, "errors in reports go to platform", "platform-chain"),
        (0.0, -0.3, -0.8),
    )
    return replace(base, **kw)


def related() -> list[Ticket]:
    def t(tid, days, subject, status, reply=None):
        created = NOW - timedelta(days=days)
        msgs = [Message("customer", created, f"About: {subject}", True, "c1")]
        if reply:
            msgs.append(Message("agent", created + timedelta(hours=2), reply, True, "a1"))
        return Ticket(tid, tid.split(":")[0], "email", subject, status, "normal", created, created + timedelta(hours=3), tuple(msgs),
                      Person("c1", "maria@northwind.example"), Organization("o1", "Northwind Traders"))
    return [
        t("zendesk:12", 10, "Export to CSV fails", "solved", "<p>We fixed the export job. It works now.</p>"),
        t("salesforce:500A", 3, "Invoice missing", "open"),
        t("zendesk:3", 90, "Old question about SSO", "solved", "Done."),
        t("freshdesk:77", 0, "Reports tab shows error 502", "open"),  # the ticket itself never counts
    ]


@dataclass(frozen=True)
class Case:
    ticket_id: str
    subject: str
    resolution: str
    took: timedelta


SIMILAR = [
    Case("zendesk:5", "Reports 502 after deploy", "We restarted the report workers. The tab loads again.", timedelta(hours=3)),
    Case("zendesk:6", "Dashboard error 502", "A bad cache node; we replaced it.", timedelta(days=2)),
    Case("zendesk:7", "Reports slow", "", timedelta(minutes=40)),
    Case("zendesk:8", "Fourth one", "Should not be shown.", timedelta(hours=1)),
]


def customer_text(t: Ticket) -> str:
    return " ".join(" ".join(readable(m.body).split()) for m in t.messages if m.author == "customer")


def quoted(line: str) -> list[str]:
    return re.findall(r"\u201c(.*?)\u201d", line)


# -- the ask ---------------------------------------------------------------------------------------


def test_the_ask_is_only_the_customers_own_sentences_with_request_and_symptom():
    t = ticket()
    ask = the_ask(t)
    text = " ".join(ask)
    assert "error 502 when we open the reports tab" in text
    assert "can you please look at it?" in text
    assert "escalate to our account manager" in text
    written = customer_text(t)
    for line in ask:
        for q in quoted(line):
            assert q.rstrip("…") in written, q  # verbatim, never a paraphrase
    # Nothing the agent wrote, no greeting or sign-off, nothing from quoted threads.
    assert "clear your browser cache" not in text
    assert "Hi team" not in text and "Maria" not in text
    assert len(ask) <= 4


def test_the_ask_falls_back_to_the_first_sentences_when_nothing_carries_a_cue():
    t = ticket(messages=(Message("customer", T0, "Good afternoon. Our new office opens in March, thought you should know about it.", True),))
    assert the_ask(t) == ["\u201cOur new office opens in March, thought you should know about it.\u201d"]


def test_what_was_tried_pairs_agent_steps_with_what_the_customer_said_next():
    tried = what_was_tried(ticket())
    assert tried[0].startswith("agent: \u201cCould you please clear your browser cache")
    assert "-> customer: \u201cI cleared the cache and tried incognito, it's still failing" in tried[0]
    # An internal note's step is listed, but the customer never saw it: no outcome is paired.
    assert tried[1] == "agent note (internal): \u201cPlease restart it if it happens again.\u201d"


def test_a_step_without_a_reply_says_so():
    t = ticket()
    t = replace(t, messages=t.messages[:2])
    assert what_was_tried(t) == [
        "agent: \u201cCould you please clear your browser cache and try again in an incognito window?\u201d -> no reply from the customer yet"
    ]


# -- the whole brief -------------------------------------------------------------------------------


def test_brief_sections_carry_account_sla_sentiment_route_and_similar():
    b = build_brief(ticket(), decision(), now=NOW, related=related(), similar=SIMILAR)
    acc = "\n".join(b.section("Customer and account").lines)
    assert "Maria Lopez <maria@northwind.example>" in acc
    assert "Northwind Traders, tier enterprise, $120k/year, renews 2026-12-20 (in 27 d), health at risk (0.35)" in acc
    assert "zendesk:12" in acc and "solved" in acc and "We fixed the export job." in acc and "<p>" not in acc
    assert "salesforce:500A" in acc and "open" in acc
    assert "zendesk:3" not in acc  # older than 30 days
    assert "freshdesk:77" not in acc  # itself
    assert acc.index("salesforce:500A") < acc.index("zendesk:12")  # newest first

    sentiment = b.section("Sentiment").lines[0]
    assert sentiment.startswith("neutral, then frustrated, then angry; worsening")
    assert "latest: \u201cThis is unacceptable!!!\u201d" in sentiment

    sla = b.section("SLA").lines
    assert sla[1].startswith("next response: BREACHED, 50 min late")
    assert sla[2].startswith("resolution: warning, due in 6 h")
    assert not any("first response" in line for line in sla)  # met targets are not news

    why = b.section("Why and where").lines
    assert why[0].startswith("functional escalation: immediate (score 81/100") and "team platform, agent bob" in why[0]
    assert any(line.startswith("on call: bob") for line in why)
    signals = [line for line in why if line.startswith("- ")]
    assert [s.split(" ")[1] for s in signals] == ["trigger", "sentiment", "account"]  # top three by contribution
    assert "evidence \u201cescalate to our account manager\u201d" in signals[0]

    similar = b.section("Similar solved tickets").lines
    assert len(similar) == 3 and "zendesk:8" not in "\n".join(similar)
    assert similar[0] == ("zendesk:5 \u201cReports 502 after deploy\u201d, took 3 h - resolved: "
                          "\u201cWe restarted the report workers. The tab loads again.\u201d")
    assert "took 2 d" in similar[1] and similar[2].endswith("took 40 min")


@dataclass(frozen=True)
class DecisionWithManagement(Decision):
    """A decision as the "decisions people trust" work shapes it (management, page)."""

    management: dict | None = None
    page: bool = False
    page_reason: str | None = None


def test_management_escalation_and_page_are_read_when_present():
    d = decision()
    d = DecisionWithManagement(**{**d.__dict__, "management": {"reasons": ["renewal at risk"], "evidence": ["$120k/year"]},
                                  "page": True, "page_reason": "immediate on an enterprise account"})
    why = build_brief(ticket(), d, now=NOW).section("Why and where").lines
    assert why[0].startswith("functional + management escalation")
    assert "management: renewal at risk (evidence: $120k/year)" in why
    assert "paged: bob (immediate on an enterprise account)" in why


def test_an_undecided_ticket_still_gets_a_brief():
    b = build_brief(ticket(), None, now=NOW)
    text = render_text(b)
    assert "not decided yet" in text and "no SLA policy applies" in text and "none found" in text
    assert "error 502" in text


def test_text_has_no_markup_and_html_is_escaped():
    hostile = ticket(subject='<img src=x onerror="alert(1)"> & "quotes"',
                     organization=Organization("o1", "Smith & Sons <Ltd>", 5000.0))
    b = build_brief(hostile, decision(), now=NOW, related=related(), similar=SIMILAR)
    text = render_text(b)
    assert "<div>" not in text and "&#x27;" not in text and "<br>" not in text and "&nbsp;" not in text
    page = render_html(b)
    assert "<img" not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "Smith &amp; Sons &lt;Ltd&gt;" in page
    assert re.sub(r"</?(?:p|b|ul|li)>", "", page).count("<") == 0  # only our own tags


def test_brief_stays_short_on_a_long_noisy_thread():
    msgs = []
    for i in range(30):
        at = T0 + timedelta(minutes=10 * i)
        if i % 2:
            msgs.append(Message("agent", at, f"Please try restarting the sync agent, attempt {i}.", True, "a1"))
        else:
            msgs.append(Message("customer", at, f"The sync still fails with error {500 + i}. Please help, this blocks payroll.", True, "c1"))
    many = [replace(related()[0], id=f"zendesk:{100 + i}", created_at=NOW - timedelta(days=1)) for i in range(12)]
    b = build_brief(ticket(messages=tuple(msgs)), decision(), now=NOW, related=many, similar=SIMILAR)
    text = render_text(b)
    assert len(text.splitlines()) <= 45
    assert len(text.split()) <= 600  # about a minute of reading
    assert "(and 8 more tickets)" in text and "more steps)" in text


def test_json_form_has_all_sections():
    d = brief_to_dict(build_brief(ticket(), decision(), now=NOW, similar=SIMILAR))
    assert [s["title"] for s in d["sections"]] == [
        "The ask (customer's words)", "What has been tried", "Customer and account", "Sentiment", "SLA",
        "Why and where", "Similar solved tickets",
    ]
    json.dumps(d)


# -- Readable text ----------------------------------------------------------------------------------


def test_plain_text_is_left_alone_and_quoted_mails_are_left_out():
    assert readable("if a < b and c > d, it fails") == "if a < b and c > d, it fails"
    assert readable("Tom &amp; Jerry") == "Tom & Jerry"
    assert readable("<p>New text</p><div class='gmail_quote'>On Mon <blockquote>old text</blockquote></div>") == "New text"


def test_sentences_keep_brackets_and_split_lines():
    assert sentences("It failed (twice!) again. Help?\nThanks") == ["It failed (twice!) again.", "Help?", "Thanks"]


# -- CLI -------------------------------------------------------------------------------------------


@pytest.fixture
def cli_config(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\npath = "{tmp_path / "b.db"}"\n')
    solved_at = NOW - timedelta(days=20)
    prior = Ticket(
        "zendesk:5", "zendesk", "email", "Reports tab error 502", "solved", "normal", solved_at - timedelta(hours=3), solved_at,
        (Message("customer", solved_at - timedelta(hours=3), "The reports tab shows error 502 since the deploy.", True, "c2"),
         Message("agent", solved_at - timedelta(minutes=5), "We restarted the report workers. The tab loads again.", True, "a1")),
        Person("c2", "lee@contoso.example"), Organization("o2", "Contoso"),
        status_history=(StatusChange("open", solved_at - timedelta(hours=3)), StatusChange("solved", solved_at)),
    )
    with Store(tmp_path / "b.db") as s:
        s.save_page("zendesk", [prior])
        s.save_page("freshdesk", [ticket()])
        s.record_decision(decision())
    return str(cfg)


def test_cli_brief_text_html_json(cli_config, capsys):
    assert main(["brief", "freshdesk:77", "--config", cli_config, "--now", "2026-11-23T10:00:00Z"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("deskwatch brief - freshdesk:77")
    assert "error 502 when we open the reports tab" in out
    assert "zendesk:5" in out and "We restarted the report workers." in out
    assert "BREACHED" in out
    assert main(["brief", "freshdesk:77", "--config", cli_config, "--format", "html", "--now", "2026-11-23T10:00:00Z"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("<p><b>deskwatch brief</b>") and "-&gt; customer:" in page
    assert main(["brief", "freshdesk:77", "--config", cli_config, "--format", "json", "--now", "2026-11-23T10:00:00Z"]) == 0
    assert json.loads(capsys.readouterr().out)["ticket_id"] == "freshdesk:77"


def test_cli_brief_unknown_ticket_and_bad_now(cli_config, capsys):
    assert main(["brief", "zendesk:404", "--config", cli_config]) == 2
    assert "no ticket 'zendesk:404'" in capsys.readouterr().err
    assert main(["brief", "freshdesk:77", "--config", cli_config, "--now", "yesterday"]) == 2
    assert "--now" in capsys.readouterr().err


def test_deskwatch_s_own_notes_are_not_troubleshooting_steps():
    from deskwatch.core.model import ticket_from_dict

    base = {"id": "zendesk:77", "source": "zendesk", "subject": "Login", "status": "open",
            "created_at": "2026-11-23T08:00:00Z", "updated_at": "2026-11-23T09:00:00Z"}
    t = ticket_from_dict({**base, "messages": [
        {"author": "customer", "body": "I cannot log in.", "at": "2026-11-23T08:00:00Z"},
        {"author": "agent", "body": "Could you try clearing your browser cache?", "at": "2026-11-23T08:10:00Z"},
        {"author": "customer", "body": "Still failing.", "at": "2026-11-23T08:20:00Z"},
        {"author": "agent", "public": False, "at": "2026-11-23T08:30:00Z",
         "body": "deskwatch escalated this ticket: priority\\nWHAT HAS BEEN TRIED\\n agent: Could you try clearing your browser cache?"},
        {"author": "agent", "public": False, "at": "2026-11-23T08:40:00Z", "body": "Please try restarting the sync agent."},
    ]})
    tried = what_was_tried(t)
    assert len(tried) == 2 and "clearing your browser cache" in tried[0] and "Still failing" in tried[0]
    assert "restarting the sync agent" in tried[1] and not any("escalated this ticket" in x for x in tried)
