"""Freshdesk API v2 JSON -> deskwatch's normalized model, and the enum maps both ways.

Pure functions: no I/O, no clock. Every field the mapping relies on is checked, and a body that
is not what Freshdesk documents raises ``BadResponse`` naming the field and what was found —
never a KeyError or TypeError from deep inside.

Enumerations (API-NOTES §2.4): priority 1 Low, 2 Medium, 3 High, 4 Urgent; status 2 Open,
3 Pending, 4 Resolved, 5 Closed, 6+ account-defined; source 1 Email, 2 Portal, 3 Phone,
7 Chat, 9 Feedback widget, 10 Outbound email (+ legacy 4 Forum, 5 Twitter, 6 Facebook,
8 Mobihelp). The integers are the truth: a ``priority_name`` that some payloads carry is not a
documented v2 field and has been seen disagreeing with ``priority`` (``priority: 3`` with
``priority_name: "Low"`` in a recorded sample), so it is ignored.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from deskwatch.core.connect.contract import BadResponse
from deskwatch.core.connect.kit import NameTable, html_to_text, notes_have_marker, organization, reads
from deskwatch.core.model import Message, Organization, Person, Satisfaction, StatusChange, Ticket
from deskwatch.core.connect.kit.reads import (
    boolean as _bool,
    describe as _kind,
    expect_object as _obj,
    field_path as _where,
    string as _str,
)

from .settings import FreshdeskSettings


log = logging.getLogger(__name__)

PRIORITY_FROM_FRESHDESK: Mapping[int, str] = {1: "low", 2: "normal", 3: "high", 4: "urgent"}
PRIORITY_TO_FRESHDESK: Mapping[str, int] = {v: k for k, v in PRIORITY_FROM_FRESHDESK.items()}

STATUS_FROM_FRESHDESK: Mapping[int, str] = {2: "open", 3: "pending", 4: "solved", 5: "closed"}
# deskwatch statuses that have a built-in Freshdesk number; "new" has none, a new ticket is Open.
STATUS_TO_FRESHDESK: Mapping[str, int] = {"new": 2, "open": 2, "pending": 3, "solved": 4, "closed": 5}

CHANNEL_FROM_SOURCE: Mapping[int, str] = {
    1: "email",
    2: "web",  # portal
    3: "phone",
    4: "web",  # forum (legacy)
    5: "social",  # Twitter (legacy)
    6: "social",  # Facebook (legacy)
    7: "chat",
    8: "other",  # Mobihelp (mobile SDK)
    9: "web",  # feedback widget
    10: "email",  # outbound email: started by an agent
}
OUTBOUND_EMAIL = 10

# Conversation `source`: 0 reply, 2 note, 5 tweet, 6 survey feedback, 7 Facebook,
# 8 forwarded email, 9 phone, 11 e-commerce. Survey feedback is always the customer's voice.
CONVERSATION_SURVEY = 6

# Freshdesk's company health score is a word; deskwatch wants 0 (about to churn) .. 1 (healthy).
HEALTH_WORDS: Mapping[str, float] = {"at risk": 0.2, "doing okay": 0.6, "happy": 0.9}



# ---------------------------------------------------------------------------------------------
# field readers that fail with a message naming the field


def _int(d: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> int | None:
    return reads.integer(d, key, where, required=required)


def _time(d: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> datetime | None:
    return reads.timestamp(d, key, where, required=required, expected="a time such as 2026-11-23T09:00:00Z")


def ticket_tags(d: Mapping[str, Any], where: str) -> tuple[str, ...]:
    v = d.get("tags")
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(t, str) for t in v):
        raise BadResponse(f"{_where(where, 'tags')}: expected a list of strings, got {_kind(v)}")
    return tuple(v)


def _id_str(v: int | None) -> str | None:
    return None if v is None else str(v)


def _text(d: Mapping[str, Any], text_key: str, html_key: str, where: str) -> str | None:
    text = _str(d, text_key, where)
    if text is not None:
        return text
    body = _str(d, html_key, where)
    return html_to_text(body) if body is not None else None


# ---------------------------------------------------------------------------------------------
# enumerations


def channel_from_source(source: int | None) -> str:
    """Freshdesk ticket ``source`` -> deskwatch channel; unknown numbers are "other"."""
    return CHANNEL_FROM_SOURCE.get(source, "other") if source is not None else "other"


def priority_from_freshdesk(value: int | None, where: str = "priority") -> str | None:
    """Freshdesk priority 1-4 -> deskwatch priority; an unknown number is logged and read as
    no priority (API-NOTES §2.6: unknown codes must not fail the sync)."""
    if value is None:
        return None
    if value not in PRIORITY_FROM_FRESHDESK:
        log.warning("%s: unknown Freshdesk priority %s (expected 1 low .. 4 urgent); read as no priority", where, value)
        return None
    return PRIORITY_FROM_FRESHDESK[value]


def status_from_freshdesk(value: int, status_map: Mapping[int, str], where: str = "status") -> str:
    """Freshdesk status number -> deskwatch status. Custom statuses (6+) come from ``status_map``;
    an unmapped or unknown status counts as "open" (logged), so the ticket stays under watch
    instead of failing the sync."""
    if value in STATUS_FROM_FRESHDESK:
        return STATUS_FROM_FRESHDESK[value]
    if value in status_map:
        return status_map[value]
    if value >= 6:
        log.warning("%s: freshdesk custom status %s is not in status_map; treating it as open", where, value)
    else:
        log.warning("%s: unknown freshdesk status %s (expected 2 open .. 5 closed, or a custom 6+); treating it as open", where, value)
    return "open"


def priority_to_freshdesk(priority: str) -> int:
    try:
        return PRIORITY_TO_FRESHDESK[priority]
    except KeyError:
        raise ValueError(f"priority {priority!r}: expected one of {', '.join(PRIORITY_TO_FRESHDESK)}") from None


def status_to_freshdesk(status: str, status_map: Mapping[int, str]) -> int:
    """deskwatch status -> Freshdesk number: a custom status mapped in ``status_map`` wins
    (e.g. on_hold -> 7), then the built-in numbers."""
    custom = sorted(n for n, s in status_map.items() if s == status)
    if status not in STATUS_TO_FRESHDESK and custom:
        return custom[0]
    if status in STATUS_TO_FRESHDESK:
        return STATUS_TO_FRESHDESK[status]
    raise ValueError(
        f"status {status!r} has no Freshdesk status; map a custom status to it in status_map, "
        f'e.g. [sources.<name>.status_map] "7" = "{status}"'
    )


# ---------------------------------------------------------------------------------------------
# tickets


def ticket_version(raw: Any, where: str = "ticket") -> tuple[int, datetime]:
    """(native id, updated_at): the key that removes duplicates at window boundaries."""
    d = _obj(raw, where)
    tid = _int(d, "id", where)
    assert tid is not None
    updated = _time(d, "updated_at", where)
    assert updated is not None
    return tid, updated


def is_tombstone(raw: Mapping[str, Any], where: str = "ticket") -> bool:
    """A deleted or spam ticket: deskwatch drops it instead of watching it."""
    return _bool(raw, "deleted", where) or _bool(raw, "spam", where)


def requester_ids(raw: Mapping[str, Any], where: str = "ticket") -> frozenset[int]:
    """Every id under which the requester may have written a conversation."""
    ids = {_int(raw, "requester_id", where, required=False)}
    side = raw.get("requester")
    if isinstance(side, Mapping):
        ids.add(_int(side, "id", _where(where, "requester"), required=False))
    return frozenset(i for i in ids if i is not None)


def requester_from_ticket(raw: Mapping[str, Any], where: str = "ticket") -> Person | None:
    """The requester: the ``include=requester`` side-load when present, else just the id.

    The side-load is what Freshdesk returned for this ticket's requester, so its id, e-mail and
    name are kept together (a recorded sample's side-load id differs from ``requester_id``;
    mixing the two would pair one person's id with another's e-mail)."""
    side = raw.get("requester")
    if side is not None:
        w = _where(where, "requester")
        side = _obj(side, w)
        email = _str(side, "email", w)
        return Person(
            id=_id_str(_int(side, "id", w, required=False)) or _id_str(_int(raw, "requester_id", where, required=False)),
            email=email.strip().lower() if email else None,
            name=_str(side, "name", w),
        )
    rid = _int(raw, "requester_id", where, required=False)
    return Person(id=str(rid)) if rid is not None else None


def message_from_conversation(raw: Any, requesters: frozenset[int], where: str) -> Message:
    """One conversation entry (reply, note, forwarded mail …) -> Message.

    Who wrote it: ``incoming`` entries and entries by the requester are the customer's; survey
    feedback too; entries with no user are the system's (automations); the rest are agents'."""
    c = _obj(raw, where)
    user_id = _int(c, "user_id", where, required=False)
    incoming = _bool(c, "incoming", where)
    private = _bool(c, "private", where)
    source = _int(c, "source", where, required=False)
    if incoming or (user_id is not None and user_id in requesters) or source == CONVERSATION_SURVEY:
        author = "customer"
    elif user_id is None:
        author = "system"
    else:
        author = "agent"
    created = _time(c, "created_at", where)
    assert created is not None
    return Message(
        author=author,
        created_at=created,
        body=_text(c, "body_text", "body", where) or "",
        public=not private,
        author_id=_id_str(user_id),
    )


def description_message(raw: Mapping[str, Any], created_at: datetime, where: str = "ticket") -> Message | None:
    """The ticket's description as its first message (customer's, or the agent's for an
    outbound e-mail); None when the payload carries no description (include=description off)."""
    body = _text(raw, "description_text", "description", where)
    if body is None:
        return None
    outbound = _int(raw, "source", where, required=False) == OUTBOUND_EMAIL
    author_id = _int(raw, "responder_id" if outbound else "requester_id", where, required=False)
    return Message(
        author="agent" if outbound else "customer",
        created_at=created_at,
        body=body,
        public=True,
        author_id=_id_str(author_id),
    )


def organization_from_company(raw: Any, settings: FreshdeskSettings, where: str = "company") -> Organization:
    """A Freshdesk company (``GET /companies/{id}``) -> Organization.

    Account value, tier, renewal date and health come from the fields named in the settings
    (dots reach into nested objects; a plain name is also looked up in ``custom_fields``), read
    leniently: a value that does not read is logged and left empty instead of failing the sync."""
    c = _obj(raw, where)
    cid = _int(c, "id", where)
    s = settings
    return organization(
        c, str(cid), label=f"{where} {cid}", name=_str(c, "name", where), value=s.account_value_field, tier=s.tier_field,
        renewal=s.renewal_field, health=s.health_field, health_words=HEALTH_WORDS, fallback="custom_fields", logger=log,
    )


def _status_history(raw: Mapping[str, Any], status: str, where: str) -> tuple[StatusChange, ...]:
    stats = raw.get("stats")
    if stats is None:
        return ()
    w = _where(where, "stats")
    stats = _obj(stats, w)
    since = _time(stats, "status_updated_at", w, required=False)
    if status == "pending":
        since = _time(stats, "pending_since", w, required=False) or since
    return (StatusChange(status, since),) if since else ()


def _name_for(names: Mapping[int, str], value: int | None) -> str | None:
    if value is None:
        return None
    return names.get(value, str(value))


def ticket_from_freshdesk(
    raw: Any,
    *,
    source: str,
    settings: FreshdeskSettings,
    conversations: Sequence[Any] = (),
    company: Any = None,
    group_names: Mapping[int, str] | None = None,
    agent_names: Mapping[int, str] | None = None,
    ratings: Sequence[Any] = (),
) -> Ticket:
    """One Freshdesk ticket (list or view payload) + its conversations + its company -> Ticket.

    ``source`` is the configured source name; the ticket id becomes ``"<source>:<id>"``.
    Without a company payload the organization carries just ``company_id``. Group and
    assignee are names when ``group_names``/``agent_names`` (default: the settings' tables)
    know the id, else the id as text."""
    d = _obj(raw, "ticket")
    tid = _int(d, "id", "ticket")
    where = f"ticket {tid}"
    created = _time(d, "created_at", where)
    updated = _time(d, "updated_at", where)
    assert created is not None and updated is not None
    status = status_from_freshdesk(_int(d, "status", where), settings.status_map, f"{where}.status")  # type: ignore[arg-type]
    priority = priority_from_freshdesk(_int(d, "priority", where, required=False), f"{where}.priority")
    channel = channel_from_source(_int(d, "source", where, required=False))

    messages: list[Message] = []
    first = description_message(d, created, where)
    if first is not None:
        messages.append(first)
    if not isinstance(conversations, (list, tuple)):
        raise BadResponse(f"{where} conversations: expected a list, got {_kind(conversations)}")
    ids = requester_ids(d, where)
    messages.extend(
        message_from_conversation(c, ids, f"{where} conversations[{i}]") for i, c in enumerate(conversations)
    )
    messages.sort(key=lambda m: m.created_at)

    company_id = _int(d, "company_id", where, required=False)
    if company is not None:
        org = organization_from_company(company, settings, f"{where} company")
    elif company_id is not None:
        org = Organization(id=str(company_id))
    else:
        org = None

    return Ticket(
        id=f"{source}:{tid}",
        source=source,
        channel=channel,
        subject=_str(d, "subject", where) or "",
        status=status,
        priority=priority,
        created_at=created,
        updated_at=updated,
        messages=tuple(messages),
        requester=requester_from_ticket(d, where),
        organization=org,
        assignee=_name_for(agent_names if agent_names is not None else NameTable(settings.agents).by_id(), _int(d, "responder_id", where, required=False)),
        group=_name_for(group_names if group_names is not None else NameTable(settings.groups).by_id(), _int(d, "group_id", where, required=False)),
        tags=ticket_tags(d, where),
        url=settings.ticket_url(tid),  # type: ignore[arg-type]
        status_history=_status_history(d, status, where),
        satisfaction=satisfaction_from_ratings(ratings, f"{where} satisfaction_ratings"),
    )


def satisfaction_from_ratings(ratings: Any, where: str = "satisfaction_ratings") -> Satisfaction | None:
    """The latest of a ticket's satisfaction ratings (``GET /api/v2/tickets/{id}/satisfaction_ratings``:
    ``[{id, survey_id, user_id, agent_id, group_id, ticket_id, feedback, ratings:
    {"default_question": 103}, created_at, updated_at}]``). The default question's answer is
    on Freshdesk's scale: 103 extremely happy .. 101 happy, 100 neutral, -101 unhappy ..
    -103 extremely unhappy; other questions are the account's own and are not read."""
    if not isinstance(ratings, (list, tuple)):
        raise BadResponse(f"{where}: expected a JSON array of ratings, got {_kind(ratings)}")
    found = None
    for i, r in enumerate(ratings):
        r = _obj(r, f"{where}[{i}]")
        answers = r.get("ratings")
        value = answers.get("default_question") if isinstance(answers, Mapping) else None
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        score = "good" if value > 100 else "neutral" if value == 100 else "bad" if value < 0 else None
        if score is None:
            continue
        at = _time(r, "created_at", f"{where}[{i}]")
        if found is None or (at is not None and found.at is not None and at > found.at):
            feedback = r.get("feedback")
            found = Satisfaction(score, at, feedback.strip() if isinstance(feedback, str) and feedback.strip() else None)
    return found


def tickets_list(body: Any, where: str = "tickets") -> list[Mapping[str, Any]]:
    """A list endpoint's body: a JSON array of objects."""
    if not isinstance(body, list):
        raise BadResponse(f"{where}: expected a JSON array of tickets, got {_kind(body)}")
    for i, item in enumerate(body):
        _obj(item, f"{where}[{i}]")
    return body


def company_id(raw: Mapping[str, Any]) -> int | None:
    return _int(raw, "company_id", "ticket", required=False)


def note_has_marker(conversations: Iterable[Any], marker: str) -> bool:
    """True when a conversation entry of the ticket already carries ``marker`` (a note deskwatch
    wrote before a crash or a lost response)."""
    texts = (_text(_obj(c, f"conversations[{i}]"), "body_text", "body", f"conversations[{i}]") for i, c in enumerate(conversations))
    return notes_have_marker(texts, marker)
