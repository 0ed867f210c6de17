from __future__ import annotations

import pytest

from deskwatch.core.model import TicketError, ticket_from_dict, ticket_to_dict

FULL = {
    "id": "zendesk:123",
    "source": "zendesk",
    "channel": "email",
    "subject": "Export fails",
    "status": "open",
    "priority": "high",
    "created_at": "2026-11-20T09:00:00Z",
    "updated_at": "2026-11-21T09:00:00+01:00",
    "requester": {"id": "9", "email": "Ana@Example.COM", "name": "Ana"},
    "organization": {"id": "o1", "name": "Acme", "annual_value": 120000, "tier": "enterprise",
                     "renewal_date": "2027-01-15", "health": 0.4},
    "assignee": "bob", "group": "Support", "tags": ["export"], "affected_users": 40,
    "status_history": [{"status": "pending", "at": "2026-11-20T10:00:00Z"}, {"status": "new", "at": "2026-11-20T09:00:00Z"}],
    "messages": [{"author": "customer", "created_at": "2026-11-20T09:00:00Z", "body": "It fails."}],
}


def test_round_trip_keeps_every_field():
    t = ticket_from_dict(FULL)
    assert t.requester.email == "ana@example.com"
    assert [c.status for c in t.status_history] == ["new", "pending"]
    assert ticket_from_dict(ticket_to_dict(t)) == t


@pytest.mark.parametrize(
    "patch, message",
    [
        ({"id": None}, "id: missing"),
        ({"messages": "hi"}, "messages: expected a list"),
        ({"channel": "pigeon"}, "channel: expected one of"),
        ({"created_at": "yesterday"}, "created_at: expected an ISO 8601 time"),
        ({"affected_users": -3}, "affected_users"),
        ({"organization": {"annual_value": "lots"}}, "organization.annual_value: expected a number"),
    ],
)
def test_bad_fields_are_named(patch, message):
    with pytest.raises(TicketError, match=message):
        ticket_from_dict({**FULL, **patch})


def test_minimal_ticket_gets_defaults_and_dates_from_messages():
    t = ticket_from_dict({"id": "x:1", "messages": [{"body": "hi", "created_at": "2026-11-20T09:00:00Z"}]})
    assert (t.source, t.channel, t.status, t.priority) == ("x", "other", "open", None)
    assert t.created_at == t.messages[0].created_at
