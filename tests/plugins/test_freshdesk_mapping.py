"""Freshdesk JSON -> normalized tickets, on the recorded samples as they are."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timezone

import pytest

from deskwatch.core.model import Message, Organization, Person, StatusChange, ticket_from_dict, ticket_to_dict
from deskwatch.core.model.settings import Secret
from deskwatch.plugins.freshdesk import mapping
from deskwatch.plugins.freshdesk.mapping import (
    BadResponse,
    channel_from_source,
    is_tombstone,
    message_from_conversation,
    organization_from_company,
    priority_from_freshdesk,
    priority_to_freshdesk,
    status_from_freshdesk,
    status_to_freshdesk,
    ticket_from_freshdesk,
    ticket_version,
    tickets_list,
)
from deskwatch.plugins.freshdesk.settings import FreshdeskSettings

UTC = timezone.utc


def T(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


@pytest.fixture
def settings() -> FreshdeskSettings:
    return FreshdeskSettings(base_url="https://acme.freshdesk.com", api_key=Secret("k"))


def load(api_samples, name):
    return json.loads((api_samples / "freshdesk" / name).read_text())


def test_recorded_list_page_outbound_closed_ticket(api_samples, settings):
    page = tickets_list(load(api_samples, "tickets_list_page_include_requester_stats_description.json"))
    t = ticket_from_freshdesk(page[0], source="fd", settings=settings)
    assert t.id == "fd:21" and t.native_id == "21" and t.source == "fd"
    assert t.channel == "email"  # source 10 = outbound email
    assert t.status == "closed"  # status 5
    assert t.priority == "low"  # priority 1
    assert t.subject == "Test"
    assert t.created_at == t.updated_at == T("2022-11-16T15:59:28Z")
    assert t.requester == Person(id="67042965499", email="redacted@example.com", name="REDACTED_NAME")
    assert t.organization == Organization(id="67001265522")  # no company payload: id only
    assert t.assignee == "67013469919" and t.group is None and t.tags == ()
    assert t.url == "https://acme.freshdesk.com/a/tickets/21"
    # an outbound e-mail's description is the agent's first message, not the customer's
    assert t.messages == (Message("agent", T("2022-11-16T15:59:28Z"), "Test", True, "67013469919"),)
    assert t.customer_messages == ()
    assert t.status_history == (StatusChange("closed", T("2022-11-16T15:59:28Z")),)
    assert ticket_version(page[0]) == (21, T("2022-11-16T15:59:28Z"))
    assert not is_tombstone(page[0])
    # the normalized ticket survives deskwatch's own JSON form
    assert ticket_from_dict(ticket_to_dict(t)) == t


def test_recorded_ticket_view_with_conversations(api_samples, settings):
    raw = load(api_samples, "ticket_view_include_stats_requester.json")
    convs = load(api_samples, "conversations_list.json")
    t = ticket_from_freshdesk(raw, source="freshdesk", settings=settings, conversations=convs)
    assert (t.id, t.channel, t.status, t.priority) == ("freshdesk:1", "web", "open", "low")  # portal, 2, 1
    assert t.tags == ("foo", "bar")
    # the side-loaded requester is kept whole (its id differs from requester_id in this sample)
    assert t.requester == Person(id="43026449322", email="dummyname@example.com", name="Dummyname")
    assert [(m.author, m.public, m.body) for m in t.messages] == [
        ("customer", True, "This is a sample ticket, feel free to delete it."),
        ("agent", False, "This is a private note"),
        ("agent", True, "This is a reply"),
    ]
    assert [m.created_at for m in t.messages] == sorted(m.created_at for m in t.messages)
    assert t.status_history == (StatusChange("open", T("2020-07-24T15:35:21Z")),)


def test_hand_edited_priority_name_is_ignored(api_samples, settings):
    raw = load(api_samples, "ticket_update_response.json")
    assert raw["priority"] == 3 and raw["priority_name"] == "Low"  # the sample's contradiction
    t = ticket_from_freshdesk(raw, source="fd", settings=settings)
    assert t.priority == "high"
    assert t.status == "solved"  # 4 Resolved
    assert t.tags == ("hello", "world")
    assert t.status_history == ()  # no stats in an update response


def test_docs_update_response_maps_phone_pending(api_samples, settings):
    raw = load(api_samples, "docs_example_ticket_update_response.json")
    t = ticket_from_freshdesk(raw, source="fd", settings=settings)
    assert (t.channel, t.status, t.priority, t.subject) == ("phone", "pending", "normal", "")
    assert t.requester == Person(id="1")
    assert t.messages[0] == Message("customer", T("2015-08-24T11:56:51Z"), "Not given.", True, "1")


def test_docs_conversation_note_with_structured_body(api_samples):
    convs = load(api_samples, "docs_example_conversations_list.json")
    m = message_from_conversation(convs[0], frozenset({20}), "conversations[0]")
    assert m == Message("agent", T("2015-08-24T11:59:05Z"), "Please reply as soon as possible.", False, "1")


@pytest.mark.parametrize(
    "name, public", [("note_create_private_response.json", False), ("docs_example_note_create_response.json", True)]
)
def test_note_responses_map_to_agent_messages(api_samples, name, public):
    m = message_from_conversation(load(api_samples, name), frozenset({99}), "note")
    assert m.author == "agent" and m.public is public and m.author_id == "1"


def test_reply_from_the_requester_is_the_customer(api_samples):
    reply = load(api_samples, "reply_create_response.json")
    assert message_from_conversation(reply, frozenset({2}), "reply").author == "agent"
    assert message_from_conversation(reply, frozenset({1}), "reply").author == "customer"  # user_id 1 = requester
    incoming = dict(reply, incoming=True, user_id=555)
    assert message_from_conversation(incoming, frozenset(), "reply").author == "customer"
    automation = dict(reply, user_id=None)
    assert message_from_conversation(automation, frozenset(), "reply").author == "system"
    survey = dict(reply, source=6, user_id=7)
    assert message_from_conversation(survey, frozenset(), "reply").author == "customer"


def test_html_only_body_is_turned_into_text():
    raw = {"id": 3, "body": "<div>Hello&nbsp;there<br>second &amp; last</div>", "created_at": "2026-11-23T09:00:00Z", "user_id": 1}
    assert message_from_conversation(raw, frozenset(), "c").body == "Hello there\nsecond & last"  # &nbsp; is a space to a reader


@pytest.mark.parametrize(
    "source, channel",
    [(1, "email"), (2, "web"), (3, "phone"), (5, "social"), (6, "social"), (7, "chat"), (8, "other"), (9, "web"), (10, "email"), (42, "other"), (None, "other")],
)
def test_channels(source, channel):
    assert channel_from_source(source) == channel


def test_enums_both_ways():
    assert [priority_from_freshdesk(n) for n in (1, 2, 3, 4, None)] == ["low", "normal", "high", "urgent", None]
    assert [priority_to_freshdesk(p) for p in ("low", "normal", "high", "urgent")] == [1, 2, 3, 4]
    smap = {6: "pending", 7: "on_hold"}
    assert [status_from_freshdesk(n, smap) for n in (2, 3, 4, 5, 6, 7)] == ["open", "pending", "solved", "closed", "pending", "on_hold"]
    assert [status_to_freshdesk(s, smap) for s in ("new", "open", "pending", "solved", "closed", "on_hold")] == [2, 2, 3, 4, 5, 7]
    with pytest.raises(ValueError, match="map a custom status to it in status_map"):
        status_to_freshdesk("on_hold", {6: "pending"})
    with pytest.raises(ValueError, match="priority 'critical'"):
        priority_to_freshdesk("critical")


def test_unknown_codes_are_read_safely_and_logged(caplog):
    # API-NOTES §2.6 (10): integer enums have custom/unknown values; they must not fail the sync
    with caplog.at_level(logging.WARNING):
        assert status_from_freshdesk(12, {}) == "open"
        assert status_from_freshdesk(1, {}, "ticket 5.status") == "open"
        assert priority_from_freshdesk(9, "ticket 5.priority") is None
    assert "custom status 12 is not in status_map" in caplog.text
    assert "ticket 5.status: unknown freshdesk status 1" in caplog.text
    assert "ticket 5.priority: unknown Freshdesk priority 9" in caplog.text


def test_company_fields_from_settings(settings):
    company = {
        "id": 67001265522,
        "name": "Globex",
        "account_tier": "Premium",
        "renewal_date": "2027-01-31T00:00:00Z",
        "health_score": "At risk",
        "custom_fields": {"annual_value": "$120,000"},
    }
    assert organization_from_company(company, settings) == Organization(
        id="67001265522", name="Globex", annual_value=120000.0, tier="Premium", renewal_date=date(2027, 1, 31), health=0.2
    )
    custom = FreshdeskSettings(
        base_url="https://a.freshdesk.com",
        api_key=Secret("k"),
        account_value_field="custom_fields.arr",
        tier_field="custom_fields.plan",
        health_field="custom_fields.nps",
    )
    org = organization_from_company({"id": 5, "name": "Initech", "custom_fields": {"arr": 5000, "plan": "gold", "nps": 80}}, custom)
    assert (org.annual_value, org.tier, org.health, org.renewal_date) == (5000.0, "gold", 0.8, None)


def test_company_values_typed_by_people_do_not_fail_the_sync(settings, caplog):
    with caplog.at_level(logging.WARNING):
        org = organization_from_company({"id": 5, "renewal_date": "soon", "custom_fields": {"annual_value": "lots"}}, settings)
    assert (org.annual_value, org.renewal_date) == (None, None)
    assert "not a number" in caplog.text and "not a date" in caplog.text


def test_ticket_with_company_names_and_group_aliases(api_samples):
    s = FreshdeskSettings(
        base_url="https://acme.freshdesk.com", api_key=Secret("k"), agents={"ana": 67013469919}, groups={"billing": 42}
    )
    raw = dict(tickets_list(load(api_samples, "tickets_list_page_include_requester_stats_description.json"))[0], group_id=42)
    t = ticket_from_freshdesk(raw, source="fd", settings=s, company={"id": 67001265522, "name": "Globex"})
    assert (t.assignee, t.group, t.organization.name) == ("ana", "billing", "Globex")


def test_spam_and_deleted_are_tombstones():
    assert is_tombstone({"id": 1, "spam": True})
    assert is_tombstone({"id": 1, "deleted": True})
    assert not is_tombstone({"id": 1, "spam": False})


@pytest.mark.parametrize(
    "change, message",
    [
        ({"id": "21"}, "ticket.id: expected a whole number, got the string \"21\""),
        ({"id": None}, "ticket.id: missing"),
        ({"updated_at": "yesterday"}, "ticket 21.updated_at: expected a time"),
        ({"created_at": None}, "ticket 21.created_at: missing"),
        ({"status": "closed"}, "ticket 21.status: expected a whole number, got the string \"closed\""),
        ({"tags": "vip"}, "ticket 21.tags: expected a list of strings"),
        ({"requester": ["x"]}, "ticket 21.requester: expected a JSON object, got a list"),
        ({"stats": {"status_updated_at": 5}}, "ticket 21.stats.status_updated_at: expected a time"),
        ({"subject": 7}, "ticket 21.subject: expected a string, got the number 7"),
        ({"priority": "high"}, "ticket 21.priority: expected a whole number, got the string \"high\""),
    ],
)
def test_malformed_ticket_names_the_field(api_samples, settings, change, message):
    raw = dict(load(api_samples, "tickets_list_page_include_requester_stats_description.json")[0], **change)
    with pytest.raises(BadResponse) as e:
        ticket_from_freshdesk(raw, source="fd", settings=settings)
    assert message in str(e.value)


def test_malformed_bodies_name_what_was_found(settings):
    with pytest.raises(BadResponse, match="tickets: expected a JSON array of tickets, got an object"):
        tickets_list({"tickets": []})
    with pytest.raises(BadResponse, match=r"tickets\[1\]: expected a JSON object, got the number 3"):
        tickets_list([{"id": 1}, 3])
    with pytest.raises(BadResponse, match=r"conversations\[0\].created_at: missing"):
        ticket_from_freshdesk(
            {"id": 1, "status": 2, "created_at": "2026-11-23T09:00:00Z", "updated_at": "2026-11-23T09:00:00Z"},
            source="fd",
            settings=settings,
            conversations=[{"id": 5, "body_text": "hi"}],
        )


def test_bad_response_is_not_a_key_or_type_error():
    assert not issubclass(BadResponse, (KeyError, TypeError))
    assert mapping.BadResponse is BadResponse


def test_plain_field_names_are_also_found_in_custom_fields(settings):
    # account-defined company fields live under custom_fields (the simulator's shape too)
    company = {"id": 9, "name": "Umbrella", "custom_fields": {"annual_value": 48000, "renewal_date": "2027-03-01", "health_score": 0.35, "tier": "gold"}}
    org = organization_from_company(company, settings)
    assert (org.annual_value, org.renewal_date, org.health, org.tier) == (48000.0, date(2027, 3, 1), 0.35, None)
    gold = FreshdeskSettings(base_url="https://a.freshdesk.com", api_key=Secret("k"), tier_field="tier")
    assert organization_from_company(company, gold).tier == "gold"


def test_every_recorded_freshdesk_sample_is_served_by_a_test(api_samples):
    from pathlib import Path

    here = Path(__file__).parent
    text = "".join(p.read_text(encoding="utf-8") for p in here.glob("test_freshdesk*.py"))
    unused = [p.name for p in sorted((api_samples / "freshdesk").glob("*.json")) if f'"{p.name}"' not in text]
    assert not unused, f"samples no test loads: {unused}"
