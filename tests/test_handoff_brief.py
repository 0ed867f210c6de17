"""The handoff brief is what deskwatch writes back: one per escalation, the same text in the
private note and in the audit log, escaped HTML for helpdesks whose notes are HTML, and never a
second note on a re-sync."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from deskwatch.core import config
from deskwatch.core.connect.contract import ConnectorType, note_format
from deskwatch.core.daemon.pipeline import Decider
from deskwatch.core.daemon.writeback import HANDOFF_PREFIX
from deskwatch.core.model import Message, Organization, Person, StatusChange, Ticket
from deskwatch.core.policy import actions
from deskwatch.core.store import Store

from .conftest import NOW
from .test_write_once import echo, sync

CFG = config.load(None)
ASK = "Since this morning our team cannot sign in with SSO, the SAML login page shows an error."
TRIED = "Please clear the browser cache and try again in an incognito window."
OUTCOME = "We cleared the cache, the SAML login still fails with the same error."


def customer(email: str = "ops@umbrella.example") -> Person:
    return Person(id="cust-1", email=email, name="Alex Reed")


def umbrella() -> Organization:
    return Organization(id="org-1", name="Umbrella Health", annual_value=320000.0, tier="enterprise")


def sso_ticket(tid: str, subject: str = "SSO login broken <script>alert(1)</script>") -> Ticket:
    created = NOW - timedelta(hours=4)
    msgs = (
        Message("customer", created, f"Hi team. {ASK} Can you look into it? Nobody can work.", True, "cust-1"),
        Message("agent", created + timedelta(hours=1), TRIED, True, "agent-7"),
        Message("customer", created + timedelta(hours=2), OUTCOME, True, "cust-1"),
    )
    return Ticket(id=tid, source=tid.split(":")[0], channel="email", subject=subject, status="open", priority="low",
                  created_at=created, updated_at=created + timedelta(hours=2), messages=msgs,
                  requester=customer(), organization=umbrella())


def solved(tid: str, subject: str, body: str, reply: str, *, days_ago: float = 12, org: str = "Contoso") -> Ticket:
    created = NOW - timedelta(days=days_ago)
    done = created + timedelta(hours=6)
    return Ticket(
        id=tid, source=tid.split(":")[0], channel="email", subject=subject, status="solved", priority="normal",
        created_at=created, updated_at=done,
        messages=(Message("customer", created, body, True, "c2"), Message("agent", done - timedelta(minutes=5), reply, True, "a2")),
        requester=Person(id="c2", email=f"{tid.split(':')[1]}@{org.lower()}.example"), organization=Organization(id=org, name=org),
        status_history=(StatusChange("open", created), StatusChange("solved", done)),
    )


SOLVED_SSO = solved("zendesk:501", "SAML SSO login fails for all users",
                    "Our users cannot sign in with SSO, the SAML login page shows an error.",
                    "The SAML certificate had expired; we uploaded the new IdP certificate and SSO works again.")


def escalate(tmp_path, tid: str = "freshdesk:14", *, write_back: bool = True, with_history: bool = True):
    store = Store(tmp_path / "d.db")
    if with_history:
        earlier = replace(solved("zendesk:77", "Invoice in the wrong currency", "Our invoice shows USD instead of EUR.",
                                 "We reissued the invoice in EUR.", days_ago=5), requester=customer(), organization=umbrella())
        store.save_page("zendesk", [SOLVED_SSO, earlier], (), None, now=NOW)
    t = sso_ticket(tid)
    store.save_page(t.source, [t], (), None, now=NOW)
    decider = Decider(CFG, store)
    d = decider.decide(t.id, NOW, write_back=write_back)
    assert d.recommendation in actions.ESCALATING, "precondition: the SSO outage of an enterprise account escalates"
    return store, decider, t, d


def notes(store: Store, tid: str) -> list[str]:
    return [i.update.private_note for i in store.outbox_for(tid) if i.update.private_note]


def briefs(store: Store, tid: str):
    return [r for r in store.audit_for(tid) if r.kind == "brief"]


def test_the_private_note_of_an_escalation_is_the_brief(tmp_path):
    store, _, t, d = escalate(tmp_path)
    [note] = notes(store, t.id)
    assert note.startswith(f"{HANDOFF_PREFIX} {d.recommendation}")  # counted and recognized as a handoff note
    assert "Since this morning our team cannot sign in with SSO" in note  # the ask, in the customer's words
    assert "clear the browser cache" in note and "still fails" in note  # what was tried -> what came of it
    assert d.team and d.team in note  # the route
    assert "zendesk:501" in note and "certificate" in note  # a similar solved ticket, with how it was resolved
    assert "zendesk:77" in note  # the customer's other ticket of the last days
    # A full case (every section has something) stays near 300 words: skimmed in under a minute.
    assert len(note.split()) < 350, note


def test_the_audit_log_has_the_same_text(tmp_path):
    store, _, t, _ = escalate(tmp_path)
    [note] = notes(store, t.id)
    [record] = briefs(store, t.id)
    assert record.data["text"] == note
    assert record.data["written_back"] is True
    key = next(i.key for i in store.outbox_for(t.id) if i.update.private_note)
    assert record.data["note_key"] == key


def test_a_freshdesk_source_gets_escaped_html_and_a_zendesk_one_text(tmp_path):
    store, _, t, _ = escalate(tmp_path, "freshdesk:14")
    [record] = briefs(store, t.id)
    assert record.data["format"] == "html"
    body = record.data["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>" not in body
    assert "<script>" in record.data["text"]  # the text quotes the subject as written: the HTML edge escapes it
    assert record.data["html"].count("<br>") >= record.data["text"].count("\n")  # lines kept as lines

    store2, _, t2, _ = escalate(tmp_path / "z", "zendesk:14")
    [record2] = briefs(store2, t2.id)
    assert record2.data["format"] == "text" and "html" not in record2.data


def test_note_format_comes_from_the_connector_type_or_the_known_table():
    assert note_format("freshdesk") == "html"
    assert note_format("salesforce") == "text" and note_format("zendesk") == "text"
    assert note_format("acme-desk") == "text"  # unknown types take text
    html_type = ConnectorType("acme-desk", lambda s: None, lambda *a: None, note_format="html")
    assert note_format("acme-desk", html_type) == "html"
    try:
        ConnectorType("x", lambda s: None, lambda *a: None, note_format="markdown")
    except ValueError as e:
        assert "note_format" in str(e) and "markdown" in str(e)
    else:
        raise AssertionError("an unknown note format must be refused")


def test_a_resync_does_not_send_a_second_note(tmp_path):
    store, decider, t, _ = escalate(tmp_path)
    # A new solved ticket makes the brief read differently if it were built again.
    store.save_page("zendesk", [solved("zendesk:502", "SSO SAML error after IdP change", "SSO login fails with a SAML error.",
                                       "We updated the SAML entity id; login works.")], (), None, now=NOW)
    echoed = echo(store, t, NOW + timedelta(seconds=7))
    sync(store, echoed, decider, NOW + timedelta(seconds=7))
    sync(store, replace(echoed, updated_at=NOW + timedelta(minutes=1)), decider, NOW + timedelta(minutes=1))
    assert len(notes(store, t.id)) == 1
    assert len(briefs(store, t.id)) == 1


def test_the_note_key_comes_from_the_intent_not_the_text(tmp_path):
    _, _, t, d = escalate(tmp_path, with_history=False)
    a = actions.plan_updates(t, d, None, True, note=f"{HANDOFF_PREFIX} one brief")
    b = actions.plan_updates(t, d, None, True, note=f"{HANDOFF_PREFIX} another brief")
    assert [u.idempotency_key for u in a] == [u.idempotency_key for u in b]
    assert a[1].private_note != b[1].private_note
    assert actions.plan_updates(t, d, None, True)[1].private_note == actions.handoff_note(t, d)  # no text: the short note


def test_without_similar_tickets_the_brief_says_none_found(tmp_path):
    store, _, t, _ = escalate(tmp_path, with_history=False)
    [note] = notes(store, t.id)
    assert "SIMILAR SOLVED TICKETS\n  none found" in note
    assert "No other tickets in the last 30 days." in note


def test_shadow_mode_records_the_brief_it_would_write(tmp_path):
    store, _, t, _ = escalate(tmp_path, write_back=False)
    assert notes(store, t.id) == []
    [record] = briefs(store, t.id)
    shadow = next(r for r in store.audit_for(t.id) if r.kind == "shadow")
    would = [u["private_note"] for u in shadow.data["would_apply"] if u.get("private_note")]
    assert would == [record.data["text"]] and record.data["written_back"] is False


def test_similar_search_runs_only_for_tickets_that_get_a_handoff_note(tmp_path, monkeypatch):
    store = Store(tmp_path / "d.db")
    calls = []
    real = store.similar
    monkeypatch.setattr(store, "similar", lambda *a, **kw: calls.append(a) or real(*a, **kw))
    calm = replace(sso_ticket("zendesk:20", "Question about invoices"), priority="normal", organization=None,
                   messages=(Message("customer", NOW - timedelta(hours=1), "Where can I download last month's invoice?",
                                     True, "cust-1"),))
    store.save_page("zendesk", [calm], (), None, now=NOW)
    decider = Decider(CFG, store)
    assert decider.decide(calm.id, NOW, write_back=True).recommendation not in actions.ESCALATING
    assert calls == []
    t = sso_ticket("zendesk:21")
    store.save_page("zendesk", [t], (), None, now=NOW)
    decider.decide(t.id, NOW, write_back=True)
    assert len(calls) == 1
    decider.decide(t.id, NOW + timedelta(minutes=1), write_back=True)  # decided again, nothing new: no search
    assert len(calls) == 1


def test_a_failing_brief_falls_back_to_the_short_note(tmp_path, monkeypatch):
    store = Store(tmp_path / "d.db")

    def broken(*a, **kw):
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(store, "similar", broken)
    t = sso_ticket("zendesk:30")
    store.save_page("zendesk", [t], (), None, now=NOW)
    d = Decider(CFG, store).decide(t.id, NOW, write_back=True)
    assert notes(store, t.id) == [actions.handoff_note(t, d)]
    assert briefs(store, t.id) == []


async def test_the_freshdesk_connector_posts_the_brief_as_escaped_html_once(tmp_path, httpx_mock):
    """End to end at the helpdesk edge: the planned note, through the Freshdesk connector, lands
    as the escaped HTML the audit records; sending it again changes nothing."""
    from .plugins.test_freshdesk_connector import FakeFreshdesk, Sleeps, make, synthetic

    store, _, t, _ = escalate(tmp_path, "freshdesk:14")
    [item] = [i for i in store.outbox_for(t.id) if i.update.private_note]
    [record] = briefs(store, t.id)
    fake = FakeFreshdesk()
    httpx_mock.add_callback(fake, is_reusable=True, is_optional=True)
    fake.add(synthetic(1, 10))
    update = replace(item.update, ticket_id="helpdesk:1", source="helpdesk")
    async with make(Sleeps()) as c:
        first = await c.update(update)
        again = await c.update(update)
    assert (first.outcome, again.outcome) == ("applied", "already_applied")
    [posted] = fake.conversations[1]
    assert posted["body"].startswith(record.data["html"].removesuffix("</div>"))
    assert "&lt;script&gt;" in posted["body"] and "<script>" not in posted["body"]
