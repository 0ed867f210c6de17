"""Zendesk JSON -> deskwatch's normalized ``Ticket``: pure functions, no I/O.

Every read of a response body goes through a checker that raises ``BadResponse`` naming the
field (``tickets[3].via.channel: expected …``), so a server that sends something unexpected
produces a message a person can act on instead of a KeyError deep in the sync.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Mapping, Sequence

from deskwatch.core.connect.kit import organization, reads
from deskwatch.core.model import Message, Organization, Person, Satisfaction, Ticket
from deskwatch.core.connect.contract import BadResponse
from deskwatch.core.connect.kit.reads import boolean
from deskwatch.core.connect.kit.reads import describe as _kind
from deskwatch.core.connect.kit.reads import expect_object as _obj
from deskwatch.plugins.zendesk.settings import ZendeskSettings

log = logging.getLogger("deskwatch.plugins.zendesk")

# Zendesk status -> deskwatch status. "deleted" is not a status: it marks a tombstone.
STATUS_MAP = {
    "new": "new",
    "open": "open",
    "pending": "pending",
    "hold": "on_hold",
    "solved": "solved",
    "closed": "closed",
}
STATUS_TO_ZENDESK = {v: k for k, v in STATUS_MAP.items()}
DELETED = "deleted"

PRIORITIES = ("low", "normal", "high", "urgent")

# via.channel as a via type (string). Unknown types map to "other".
CHANNEL_MAP = {
    "email": "email",
    "mail": "email",
    "web": "web",
    "web_form": "web",
    "web_widget": "web",
    "help_center": "web",
    "dropbox": "web",  # feedback tab
    "batch": "web",
    "mobile_sdk": "web",
    "chat": "chat",
    "chat_transcript": "chat",
    "native_messaging": "chat",
    "messaging": "chat",
    "sms": "chat",
    "voice": "phone",
    "phone": "phone",
    "voicemail": "phone",
    "phone_call_inbound": "phone",
    "phone_call_outbound": "phone",
    "twitter": "social",
    "twitter_dm": "social",
    "twitter_favorite": "social",
    "facebook": "social",
    "facebook_post": "social",
    "facebook_message": "social",
    "instagram_dm": "social",
    "whatsapp": "social",
    "line": "social",
    "wechat": "social",
    "api": "api",
    "web_service": "api",
}

# via.channel as a via id (integer), per Zendesk's via types reference.
VIA_ID_MAP = {
    0: "web",  # web_form
    4: "email",  # mail
    5: "api",  # web_service
    8: "other",  # rule (trigger, automation)
    17: "web",  # dropbox (feedback tab)
    20: "web",  # batch
    23: "social",  # twitter_favorite
    29: "chat",
    33: "phone",  # voicemail
    34: "phone",  # phone_call_inbound
    35: "phone",  # phone_call_outbound
}

# Comments written by these via types are the system talking, not a person.
SYSTEM_VIAS = {"rule", "system", 8}
AGENT_ROLES = {"agent", "admin"}


# ---------------------------------------------------------------------------------------------
# checked reads


# Paths here are prefixes ending in "." ("meta.", "ticket[id=5]."); the kit's take the parent.


def _list(d: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> list[Any]:
    return reads.array(d, key, where.rstrip("."), required=required)


def _id(d: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> int | None:
    return reads.integer(d, key, where.rstrip("."), required=required, expected="a numeric id")


def _str(d: Mapping[str, Any], key: str, where: str) -> str | None:
    return reads.string(d, key, where.rstrip("."))


def _time(d: Mapping[str, Any], key: str, where: str) -> datetime:
    return reads.timestamp(d, key, where.rstrip("."))  # type: ignore[return-value]


def _bool(d: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    return boolean(d, key, where.rstrip("."), default)


# ---------------------------------------------------------------------------------------------
# envelopes


@dataclass(frozen=True)
class SideLoads:
    """Users, organizations and groups sent next to the tickets (``include=…``), by id."""

    users: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    organizations: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    groups: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)

    def merged(self, other: "SideLoads") -> "SideLoads":
        return SideLoads(
            users={**self.users, **other.users},
            organizations={**self.organizations, **other.organizations},
            groups={**self.groups, **other.groups},
        )


def read_side_loads(body: Mapping[str, Any]) -> SideLoads:
    """The ``users``/``organizations``/``groups`` arrays of a response, indexed by id (absent = empty)."""
    out: dict[str, dict[int, Mapping[str, Any]]] = {}
    for key in ("users", "organizations", "groups"):
        table: dict[int, Mapping[str, Any]] = {}
        for i, item in enumerate(_list(body, key, "", required=False)):
            where = f"{key}[{i}]"
            item = _obj(item, where)
            table[_id(item, "id", where + ".")] = item  # type: ignore[index]
        out[key] = table
    return SideLoads(**out)


@dataclass(frozen=True)
class ExportPage:
    """One page of ``/api/v2/incremental/tickets/cursor.json``, envelope checked."""

    tickets: tuple[Mapping[str, Any], ...]
    after_cursor: str | None
    end_of_stream: bool
    side: SideLoads


def read_export_page(body: Any) -> ExportPage:
    """Check the cursor export envelope; raises BadResponse naming the field that is wrong."""
    body = _obj(body, "incremental export response")
    tickets = _list(body, "tickets", "")
    for i, t in enumerate(tickets):
        where = f"tickets[{i}]"
        _id(_obj(t, where), "id", where + ".")
        ticket_version(t)  # generated_timestamp drives de-duplication and the signpost
    if "end_of_stream" not in body:
        raise BadResponse("end_of_stream: missing (is base_url a Zendesk cursor export?)")
    eos = _bool(body, "end_of_stream", "", False)
    cursor = _str(body, "after_cursor", "")
    if not eos and not cursor:
        raise BadResponse("after_cursor: missing while end_of_stream is false; cannot continue the export")
    return ExportPage(tuple(tickets), cursor, eos, read_side_loads(body))


@dataclass(frozen=True)
class CommentsPage:
    comments: tuple[Mapping[str, Any], ...]
    has_more: bool
    after_cursor: str | None
    side: SideLoads


def read_comments_page(body: Any) -> CommentsPage:
    """Check a ``/tickets/{id}/comments`` page (cursor pagination: ``meta.has_more``)."""
    body = _obj(body, "comments response")
    comments = _list(body, "comments", "")
    for i, c in enumerate(comments):
        _obj(c, f"comments[{i}]")
    meta = _obj(body.get("meta", {}), "meta")
    # links.next is present even on the last page, so only meta.has_more ends the walk.
    has_more = _bool(meta, "has_more", "meta.", False)
    cursor = _str(meta, "after_cursor", "meta.")
    if has_more and not cursor:
        raise BadResponse("meta.after_cursor: missing while meta.has_more is true")
    return CommentsPage(tuple(comments), has_more, cursor, read_side_loads(body))


# ---------------------------------------------------------------------------------------------
# tickets


def is_deleted(raw: Mapping[str, Any]) -> bool:
    """A ``status: "deleted"`` row of the export: a tombstone, not a ticket to score."""
    return raw.get("status") == DELETED


def ticket_version(raw: Mapping[str, Any]) -> tuple[int, int]:
    """(id, generated_timestamp): what identifies one delivery of one ticket state.

    generated_timestamp moves on system updates that leave updated_at alone, so it (not
    updated_at) is what tells a re-delivery from a real change.
    """
    tid = _id(raw, "id", "ticket.")
    gen = raw.get("generated_timestamp")
    if gen is None:
        gen = 0
    elif isinstance(gen, bool) or not isinstance(gen, int):
        raise BadResponse(f"tickets[id={tid}].generated_timestamp: expected unix seconds, got {_kind(gen)}")
    return tid, gen  # type: ignore[return-value]


def map_channel(via: Any, where: str = "via") -> str:
    """``via.channel`` (a via type string or a via id number) -> one of model.CHANNELS."""
    if via is None:
        return "other"
    via = _obj(via, where)
    ch = via.get("channel")
    if ch is None:
        return "other"
    if isinstance(ch, bool):
        raise BadResponse(f"{where}.channel: expected a via type or via id, got {_kind(ch)}")
    if isinstance(ch, int):
        return VIA_ID_MAP.get(ch, "other")
    if isinstance(ch, str):
        return CHANNEL_MAP.get(ch.strip().lower(), "other")
    raise BadResponse(f"{where}.channel: expected a via type or via id, got {_kind(ch)}")


def map_status(raw: Mapping[str, Any], where: str) -> str:
    v = raw.get("status")
    if not isinstance(v, str) or v not in STATUS_MAP:
        raise BadResponse(f"{where}status: expected one of {', '.join(STATUS_MAP)}, got {_kind(v)}")
    return STATUS_MAP[v]


def map_priority(raw: Mapping[str, Any], where: str) -> str | None:
    v = raw.get("priority")
    if v is None:
        return None
    if not isinstance(v, str) or v not in PRIORITIES:
        raise BadResponse(f"{where}priority: expected one of {', '.join(PRIORITIES)} or null, got {_kind(v)}")
    return v


def _person(uid: int | None, side: SideLoads) -> Person | None:
    if uid is None:
        return None
    user = side.users.get(uid)
    if user is None:
        return Person(id=str(uid))
    email = user.get("email")
    name = user.get("name")
    return Person(
        id=str(uid),
        email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
        name=name if isinstance(name, str) else None,
    )


def map_organization(oid: int | None, side: SideLoads, settings: ZendeskSettings) -> Organization | None:
    """The side-loaded organization, account value/tier/renewal/health from its custom fields.

    Custom field values that do not read as a number/date are left empty (with a warning)
    rather than failing the sync: they are typed by people in the Zendesk admin UI.
    """
    if oid is None:
        return None
    org = side.organizations.get(oid)
    if org is None:
        return Organization(id=str(oid))
    fields = org.get("organization_fields")
    name = org.get("name")
    s = settings
    found = organization(
        fields if isinstance(fields, Mapping) else {}, str(oid), label=f"organization {oid}", name=name if isinstance(name, str) else None,
        value=s.account_value_field, tier=s.tier_field, renewal=s.renewal_field, health=s.health_field, logger=log,
    )
    return replace(found, tier=found.tier.lower() if found.tier else None)  # tiers are matched in lower case


def _author_kind(comment: Mapping[str, Any], requester_id: int | None, side: SideLoads) -> str:
    via = comment.get("via")
    if isinstance(via, Mapping) and via.get("channel") in SYSTEM_VIAS:
        return "system"
    author = comment.get("author_id")
    if author == -1:  # Zendesk's own system user
        return "system"
    user = side.users.get(author) if isinstance(author, int) else None
    role = user.get("role") if user else None
    if role in AGENT_ROLES:
        return "agent"
    if role == "end-user" or author == requester_id:
        return "customer"
    # Unknown author (no side-load): only the requester is known to be the customer.
    return "agent" if author is not None else "customer"


def map_comments(
    comments: Sequence[Mapping[str, Any]], requester_id: int | None, side: SideLoads, where: str = "comments"
) -> tuple[Message, ...]:
    """Ticket comments -> messages, oldest first; ``public: false`` is an internal note."""
    out = []
    for i, c in enumerate(comments):
        w = f"{where}[{i}]."
        c = _obj(c, f"{where}[{i}]")
        body = c.get("plain_body")
        if not isinstance(body, str):
            body = _str(c, "body", w) or ""
        author_id = _id(c, "author_id", w, required=False)
        out.append(
            Message(
                author=_author_kind(c, requester_id, side),
                created_at=_time(c, "created_at", w),
                body=body,
                public=_bool(c, "public", w, True),
                author_id=str(author_id) if author_id is not None else None,
            )
        )
    return tuple(sorted(out, key=lambda m: m.created_at))


def _assignee(uid: int | None, side: SideLoads) -> str | None:
    """The agent's name (what routing config and the load view use), else e-mail, else the id."""
    if uid is None:
        return None
    user = side.users.get(uid) or {}
    for key in ("name", "email"):
        v = user.get(key)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return str(uid)


def map_satisfaction(raw: Any, where: str) -> Satisfaction | None:
    """``satisfaction_rating`` on a ticket: null, or ``{id, score, comment}`` where score is
    ``good``/``bad`` once rated (``good_with_comment``/``bad_with_comment`` on older accounts)
    and ``offered``/``unoffered`` before: no rating yet. The ticket carries no rating time."""
    if raw is None:
        return None
    raw = _obj(raw, f"{where}satisfaction_rating")
    score = raw.get("score")
    if not isinstance(score, str):
        return None
    kind = score.split("_", 1)[0]
    if kind not in ("good", "bad"):
        return None
    comment = raw.get("comment")
    return Satisfaction(kind, None, comment.strip() if isinstance(comment, str) and comment.strip() else None)


def _group(gid: int | None, side: SideLoads) -> str | None:
    if gid is None:
        return None
    name = (side.groups.get(gid) or {}).get("name")
    return name if isinstance(name, str) and name else str(gid)


def map_ticket(
    raw: Any,
    settings: ZendeskSettings,
    side: SideLoads | None = None,
    comments: Sequence[Mapping[str, Any]] | None = None,
    where: str = "ticket",
) -> Ticket:
    """One Zendesk ticket (export row or ``GET /tickets/{id}``) -> ``Ticket``.

    ``comments`` are the ticket's comments when they were fetched; without them the ticket's
    ``description`` (its first comment) stands in as the one customer message.
    Raises BadResponse naming the field for a body that is not a Zendesk ticket.
    """
    side = side or SideLoads()
    raw = _obj(raw, where)
    tid = _id(raw, "id", where + ".")
    w = f"{where}[id={tid}]."
    if is_deleted(raw):
        raise BadResponse(f"{w}status: the ticket is deleted; map it with deleted_id()")
    requester_id = _id(raw, "requester_id", w, required=False)
    created = _time(raw, "created_at", w)
    updated = _time(raw, "updated_at", w)
    if comments is not None:
        messages = map_comments(comments, requester_id, side, where=f"{w}comments")
    else:
        messages = (
            Message(
                author="customer",
                created_at=created,
                body=_str(raw, "description", w) or "",
                public=True,
                author_id=str(requester_id) if requester_id is not None else None,
            ),
        )
    tags = _list(raw, "tags", w, required=False)
    if not all(isinstance(t, str) for t in tags):
        raise BadResponse(f"{w}tags: expected a list of strings")
    return Ticket(
        id=f"{settings.name}:{tid}",
        source=settings.name,
        channel=map_channel(raw.get("via"), f"{w}via"),
        subject=_str(raw, "subject", w) or _str(raw, "raw_subject", w) or "",
        status=map_status(raw, w),
        priority=map_priority(raw, w),
        created_at=created,
        updated_at=max(updated, created),
        messages=messages,
        requester=_person(requester_id, side),
        organization=map_organization(_id(raw, "organization_id", w, required=False), side, settings),
        assignee=_assignee(_id(raw, "assignee_id", w, required=False), side),
        group=_group(_id(raw, "group_id", w, required=False), side),
        tags=tuple(tags),
        url=settings.ticket_url(tid),  # type: ignore[arg-type]
        satisfaction=map_satisfaction(raw.get("satisfaction_rating"), w),
    )


def deleted_id(raw: Mapping[str, Any], settings: ZendeskSettings) -> str:
    """The deskwatch id of a deleted ticket (a tombstone row of the export)."""
    tid = _id(raw, "id", "ticket.")
    return f"{settings.name}:{tid}"


class Deduper:
    """Drops a ticket state already delivered in this sync: same (id, generated_timestamp).

    The cursor export does not repeat itself, but a retried page, a restart from the last
    committed cursor, or a fallback to the time-based export re-deliver rows; a *newer* state
    of the same ticket (higher generated_timestamp) always passes.
    """

    def __init__(self) -> None:
        self._seen: dict[int, int] = {}

    def fresh(self, raws: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        out = []
        for raw in raws:
            tid, gen = ticket_version(raw)
            if tid in self._seen and self._seen[tid] >= gen:
                continue
            self._seen[tid] = gen
            out.append(raw)
        return out
