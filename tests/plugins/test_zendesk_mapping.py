"""Zendesk JSON -> normalized tickets, on the recorded API bodies (shared/api-samples/zendesk)."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timezone

import pytest

from deskwatch.core.model import CHANNELS, PRIORITIES, STATUSES, ticket_from_dict, ticket_to_dict
from deskwatch.core.model.settings import Section
from deskwatch.core.connect.contract import BadResponse
from deskwatch.plugins.zendesk.mapping import (
    Deduper,
    SideLoads,
    deleted_id,
    is_deleted,
    map_channel,
    map_comments,
    map_organization,
    map_ticket,
    read_comments_page,
    read_export_page,
    read_side_loads,
    ticket_version,
)
from deskwatch.plugins.zendesk.settings import parse_settings


def load(api_samples, name):
    return json.loads((api_samples / "zendesk" / name).read_text(encoding="utf-8"))


@pytest.fixture
def settings():
    return parse_settings(
        Section(
            {"subdomain": "z3n-jteitelbaum", "oauth_token": "tok", "health_field": "health"},
            "sources.zendesk",
            "config.toml",
        )
    )


def test_end_of_stream_page_maps_every_live_ticket_and_flags_the_deleted_one(api_samples, settings):
    page = read_export_page(load(api_samples, "incremental_tickets_cursor_end_of_stream_trimmed.json"))
    assert page.end_of_stream is True
    assert page.after_cursor == "MTcwNzI3MTc0MS4wfHw0MDQ1fA=="
    assert len(page.tickets) == 7
    deleted = [t for t in page.tickets if is_deleted(t)]
    assert [deleted_id(t, settings) for t in deleted] == ["zendesk:4034"]
    tickets = {t.native_id: t for t in (map_ticket(r, settings, page.side) for r in page.tickets if not is_deleted(r))}
    assert sorted(tickets, key=int) == ["1", "28", "4030", "4036", "4037", "4043"]
    t28 = tickets["28"]
    assert (t28.id, t28.source, t28.channel, t28.status, t28.priority) == ("zendesk:28", "zendesk", "api", "new", None)
    assert t28.url == "https://z3n-jteitelbaum.zendesk.com/agent/tickets/28"
    assert t28.created_at == datetime(2023, 9, 18, 15, 57, 42, tzinfo=timezone.utc)
    assert t28.requester.id == "6130907993114" and t28.organization.id == "6130869157658"
    # Without comments the description stands in as the customer's first message.
    assert [(m.author, m.body) for m in t28.messages] == [("customer", "test")]
    assert (tickets["4030"].priority, tickets["4036"].channel, tickets["4036"].status) == ("high", "web", "pending")
    sample = tickets["1"]
    assert (sample.channel, sample.status, sample.priority) == ("other", "open", "normal")  # via sample_ticket
    assert sample.tags == ("sample", "support", "zendesk")
    assert sample.assignee == "6130907993114" and sample.group == "6130852536346"
    assert tickets["4043"].tags == ("foo", "new", "tag")
    for t in tickets.values():
        assert t.channel in CHANNELS and t.status in STATUSES and t.priority in (None, *PRIORITIES)
        # the normalized form round-trips through the model's JSON reader
        assert ticket_from_dict(ticket_to_dict(t)) == t


def test_cursor_pages_chain_and_carry_the_cursor_not_updated_at(api_samples):
    first = read_export_page(load(api_samples, "incremental_tickets_cursor_page_per_page_1.json"))
    second = read_export_page(load(api_samples, "incremental_tickets_cursor_page_2_per_page_1.json"))
    assert (first.end_of_stream, second.end_of_stream) == (False, False)
    assert first.after_cursor == "MTY5NTA1MjY2My4wfHwyOHw=" and second.after_cursor == "MTY5NTA1MjY2My4wfHwyOXw="
    # Same generated_timestamp, different tickets: the cursor (time, id) splits the second.
    assert ticket_version(first.tickets[0]) == (28, 1695052663)
    assert ticket_version(second.tickets[0]) == (29, 1695052663)
    dedupe = Deduper()
    assert len(dedupe.fresh(first.tickets)) == 1 and len(dedupe.fresh(second.tickets)) == 1


def test_time_based_boundary_duplicates_are_dropped_by_id_and_generated_timestamp(api_samples):
    same_second = load(api_samples, "incremental_tickets_time_based_per_page_1_same_second.json")
    full = load(api_samples, "incremental_tickets_time_based_full_page_trimmed.json")
    dedupe = Deduper()
    assert [t["id"] for t in dedupe.fresh(same_second["tickets"])] == [28, 29, 37, 38, 30, 31, 32]
    # The full page re-reads the same second: 28 and 29 come again with the same version.
    fresh = dedupe.fresh(full["tickets"])
    assert [t["id"] for t in fresh] == [1571, 1601]
    assert all(is_deleted(t) for t in fresh)
    # A newer state of a known ticket passes.
    newer = dict(same_second["tickets"][0], generated_timestamp=1695052700)
    assert dedupe.fresh([newer]) == [newer]


def test_time_based_body_is_refused_with_a_clear_message(api_samples):
    # Pointing the connector at the time-based export must not silently loop or lose rows.
    with pytest.raises(BadResponse, match="after_cursor: missing while end_of_stream is false"):
        read_export_page(load(api_samples, "incremental_tickets_time_based_full_page_trimmed.json"))


def test_offset_list_page_email_and_web_with_side_loads(api_samples, settings):
    body = load(api_samples, "tickets_list_offset_page_email_web.json")
    body = dict(
        body,
        users=[
            {"id": 377922500012, "name": "Yosuke Tamura", "email": "Nukosuke@Lavabit.com ", "role": "admin"},
        ],
        organizations=[
            {
                "id": 360363695492,
                "name": "Terraform provider",
                "organization_fields": {
                    "annual_value": "$120,000.50",
                    "tier": "Enterprise",
                    "renewal_date": "2026-12-31",
                    "health": 85,
                },
            }
        ],
        groups=[{"id": 360004077472, "name": "Support"}],
    )
    side = read_side_loads(body)
    email_t, web_t = (map_ticket(t, settings, side) for t in body["tickets"])
    assert (email_t.channel, web_t.channel) == ("email", "web")
    assert email_t.status == web_t.status == "solved"
    assert email_t.requester.email == "nukosuke@lavabit.com" and email_t.requester.name == "Yosuke Tamura"
    assert email_t.assignee == "Yosuke Tamura" and email_t.group == "Support"
    org = email_t.organization
    assert (org.name, org.annual_value, org.tier, org.renewal_date, org.health) == (
        "Terraform provider",
        120000.5,
        "enterprise",
        date(2026, 12, 31),
        0.85,
    )
    assert web_t.subject == "にゃー"


def test_comments_become_messages_by_author_role(api_samples):
    page = read_comments_page(load(api_samples, "ticket_comments_cursor_page.json"))
    # links.next is present on the last page: only meta.has_more decides.
    assert page.has_more is False and page.after_cursor
    author = page.comments[0]["author_id"]
    agent_side = SideLoads(users={author: {"id": author, "role": "agent"}})
    (m,) = map_comments(page.comments, requester_id=1, side=agent_side)
    assert (m.author, m.body, m.public, m.author_id) == ("agent", "Some comment", True, str(author))
    assert m.created_at == datetime(2024, 9, 6, 18, 52, 11, tzinfo=timezone.utc)
    (m,) = map_comments(page.comments, requester_id=author, side=SideLoads())
    assert m.author == "customer"
    end_user = SideLoads(users={author: {"id": author, "role": "end-user"}})
    assert map_comments(page.comments, requester_id=1, side=end_user)[0].author == "customer"


def test_ticket_with_comments_private_notes_and_system_messages(api_samples, settings):
    raw = load(api_samples, "ticket_update_response.json")["ticket"]
    comments = [
        {"id": 3, "author_id": 9, "body": "Looking", "public": False, "created_at": "2023-09-18T23:40:00Z"},
        {"id": 1, "author_id": 6130907993114, "body": "It broke", "public": True, "created_at": "2023-09-18T23:26:00Z"},
        {"id": 2, "author_id": 7, "body": "Auto-reply", "via": {"channel": "rule"}, "created_at": "2023-09-18T23:26:01Z"},
    ]
    side = SideLoads(users={9: {"id": 9, "role": "agent"}})
    t = map_ticket(raw, settings, side, comments)
    assert [(m.author, m.body, m.public) for m in t.messages] == [
        ("customer", "It broke", True),
        ("system", "Auto-reply", True),
        ("agent", "Looking", False),
    ]
    assert t.id == "zendesk:4016" and t.subject == "testa94a8fe5ccb19ba61c4c0873d391e987982fbbd3"


@pytest.mark.parametrize(
    "via, channel",
    [
        ({"channel": "email"}, "email"),
        ({"channel": "mail"}, "email"),
        ({"channel": 4}, "email"),
        ({"channel": 0}, "web"),
        ({"channel": 5}, "api"),
        ({"channel": 29}, "chat"),
        ({"channel": "chat"}, "chat"),
        ({"channel": 33}, "phone"),
        ({"channel": 34}, "phone"),
        ({"channel": "voice"}, "phone"),
        ({"channel": "twitter"}, "social"),
        ({"channel": "sample_ticket"}, "other"),
        ({"channel": "something_new"}, "other"),
        ({"channel": 999}, "other"),
        (None, "other"),
    ],
)
def test_channel_from_via_type_or_via_id(via, channel):
    assert map_channel(via) == channel


def test_organization_fields_people_typed_badly_are_left_empty(settings):
    side = SideLoads(
        organizations={5: {"id": 5, "name": "Acme", "organization_fields": {"annual_value": "lots", "renewal_date": "soon"}}}
    )
    org = map_organization(5, side, settings)
    assert (org.name, org.annual_value, org.renewal_date, org.tier) == ("Acme", None, None, None)
    assert map_organization(6, side, settings).id == "6"  # not side-loaded: id only
    assert map_organization(None, side, settings) is None


def _export(**ticket_changes):
    t = {
        "id": 7,
        "status": "open",
        "priority": None,
        "created_at": "2026-11-23T09:00:00Z",
        "updated_at": "2026-11-23T09:10:00Z",
        "via": {"channel": "web"},
        "generated_timestamp": 1700000000,
    }
    t.update(ticket_changes)
    return t


@pytest.mark.parametrize(
    "body, field",
    [
        ([], "incremental export response: expected a JSON object"),
        ({"end_of_stream": True}, "tickets: missing"),
        ({"tickets": {}, "end_of_stream": True}, "tickets: expected a list"),
        ({"tickets": [5], "end_of_stream": True}, "tickets[0]: expected a JSON object"),
        ({"tickets": [{"subject": "x"}], "end_of_stream": True}, "tickets[0].id: missing"),
        ({"tickets": [{"id": "7"}], "end_of_stream": True}, "tickets[0].id: expected a numeric id"),
        ({"tickets": []}, "end_of_stream: missing"),
        ({"tickets": [], "end_of_stream": "yes"}, "end_of_stream: expected true or false"),
        ({"tickets": [], "end_of_stream": True, "users": {}}, "users: expected a list"),
        ({"tickets": [], "end_of_stream": True, "users": [{"name": "x"}]}, "users[0].id: missing"),
    ],
)
def test_malformed_export_envelope_names_the_field(body, field):
    with pytest.raises(BadResponse) as e:
        read_export_page(body)
    assert field in str(e.value)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"status": "archived"}, "ticket[id=7].status: expected one of new, open"),
        ({"status": None}, "ticket[id=7].status: expected one of"),
        ({"priority": "p1"}, "ticket[id=7].priority: expected one of low, normal, high, urgent or null"),
        ({"created_at": None}, "ticket[id=7].created_at: missing"),
        ({"updated_at": "yesterday"}, "ticket[id=7].updated_at: expected an ISO 8601 time"),
        ({"via": "web"}, "ticket[id=7].via: expected a JSON object"),
        ({"via": {"channel": [1]}}, "ticket[id=7].via.channel: expected a via type or via id"),
        ({"tags": "a,b"}, "ticket[id=7].tags: expected a list"),
        ({"tags": [1]}, "ticket[id=7].tags: expected a list of strings"),
        ({"requester_id": "me"}, "ticket[id=7].requester_id: expected a numeric id"),
        ({"subject": 5}, "ticket[id=7].subject: expected a string"),
        ({"generated_timestamp": "x"}, "generated_timestamp: expected unix seconds"),
    ],
)
def test_malformed_ticket_names_the_field(settings, changes, field):
    raw = _export(**changes)
    with pytest.raises(BadResponse) as e:
        ticket_version(raw)
        map_ticket(raw, settings)
    assert field in str(e.value)


@pytest.mark.parametrize(
    "comments, field",
    [
        ([1], "comments[0]: expected a JSON object"),
        ([{"author_id": 1, "body": "x"}], "comments[0].created_at: missing"),
        ([{"author_id": 1, "body": 3, "created_at": "2026-11-23T09:00:00Z"}], "comments[0].body: expected a string"),
        ([{"author_id": 1, "public": "no", "created_at": "2026-11-23T09:00:00Z"}], "comments[0].public: expected true"),
    ],
)
def test_malformed_comments_name_the_field(settings, comments, field):
    with pytest.raises(BadResponse) as e:
        map_ticket(_export(), settings, comments=comments)
    assert field in str(e.value)


def test_malformed_comments_page_names_the_field(api_samples):
    body = load(api_samples, "ticket_comments_cursor_page.json")
    broken = copy.deepcopy(body)
    broken["meta"] = {"has_more": True}
    with pytest.raises(BadResponse, match="meta.after_cursor: missing while meta.has_more is true"):
        read_comments_page(broken)
    with pytest.raises(BadResponse, match="comments: missing"):
        read_comments_page({"meta": {}})


def test_deleted_ticket_is_not_mapped_as_a_live_one(api_samples, settings):
    page = load(api_samples, "incremental_tickets_cursor_end_of_stream_trimmed.json")
    deleted = next(t for t in page["tickets"] if t["status"] == "deleted")
    with pytest.raises(BadResponse, match="deleted"):
        map_ticket(deleted, settings)
