"""Salesforce REST bodies -> deskwatch values (writeback.py holds the other direction).

Pure functions only: no I/O, no clock. Every reader checks the shape it is given and raises
``BadResponse`` naming the field (``Case[3].SystemModstamp: expected …``) instead of letting a
KeyError or TypeError escape.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from deskwatch.core.connect.contract import BadResponse
from deskwatch.core.connect.kit import html_to_text, organization, reads
from deskwatch.core.model import Message, Organization, Person, Ticket
from deskwatch.core.model.settings import Secret
from deskwatch.core.connect.kit.reads import (
    boolean as _bool,
    describe as _kind,
    expect_object as _obj,
    string as _str,
)

from .settings import SalesforceSettings

log = logging.getLogger("deskwatch.plugins.salesforce")

# CreatedBy.UserType values of people outside the org (Experience Cloud / portal users).
CUSTOMER_USER_TYPES = frozenset({"CspLitePortal", "CustomerSuccess", "PowerCustomerSuccess", "Guest", "CsnOnly"})
SYSTEM_USER_TYPES = frozenset({"AutomatedProcess"})
EMAIL_STATUS_DRAFT = "5"  # EmailMessage.Status: 0 New, 1 Read, 2 Replied, 3 Sent, 4 Forwarded, 5 Draft
USER_ID_PREFIX = "005"
QUEUE_ID_PREFIX = "00G"
MARKER_PREFIX = "[deskwatch "  # every CaseComment deskwatch writes starts with "[deskwatch dw-…]"

COMMENT_FIELDS = ("Id", "CommentBody", "IsPublished", "CreatedDate", "CreatedById", "CreatedBy.UserType")
EMAIL_FIELDS = ("Id", "Incoming", "FromAddress", "TextBody", "HtmlBody", "MessageDate", "Status", "CreatedDate")


def sf_time(d: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> datetime | None:
    """A Salesforce datetime such as ``2013-05-20T20:49:32.000+0000``, as an aware UTC datetime."""
    t = reads.timestamp(d, key, where, required=required, expected="a datetime such as 2013-05-20T20:49:32.000+0000")
    return t.astimezone(timezone.utc) if t is not None else None


def soql_time(dt: datetime) -> str:
    """A SOQL datetime literal (UTC, whole seconds): ``2026-11-23T10:00:00Z``."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------
# Query envelopes


@dataclass(frozen=True)
class QueryPage:
    """One batch of a SOQL query: ``{totalSize, done, nextRecordsUrl?, records[]}``."""

    records: tuple[Mapping[str, Any], ...]
    done: bool
    next_url: str | None
    total_size: int


def parse_query_page(body: Any, where: str = "query") -> QueryPage:
    """Read a query/queryAll response (or a child-relationship sub-result)."""
    d = _obj(body, where)
    records = d.get("records")
    if not isinstance(records, list):
        raise BadResponse(f"{where}.records: expected a list, got {_kind(records)}")
    for i, r in enumerate(records):
        _obj(r, f"{where}.records[{i}]")
    done = d.get("done")
    if not isinstance(done, bool):
        raise BadResponse(f"{where}.done: expected true or false, got {_kind(done)}")
    next_url = _str(d, "nextRecordsUrl", where)
    if not done and not next_url:
        raise BadResponse(f"{where}.nextRecordsUrl: missing although done is false")
    total = d.get("totalSize", len(records))
    if isinstance(total, bool) or not isinstance(total, int):
        raise BadResponse(f"{where}.totalSize: expected a whole number, got {_kind(total)}")
    return QueryPage(tuple(records), done, next_url if not done else None, total)


@dataclass(frozen=True)
class DeletedRecords:
    """getDeleted: ``{deletedRecords[{id, deletedDate}], earliestDateAvailable, latestDateCovered}``."""

    records: tuple[tuple[str, datetime], ...]
    earliest_available: datetime | None
    latest_covered: datetime | None


def parse_deleted(body: Any, where: str = "getDeleted") -> DeletedRecords:
    d = _obj(body, where)
    rows = d.get("deletedRecords")
    if not isinstance(rows, list):
        raise BadResponse(f"{where}.deletedRecords: expected a list, got {_kind(rows)}")
    out = []
    for i, r in enumerate(rows):
        w = f"{where}.deletedRecords[{i}]"
        r = _obj(r, w)
        out.append((_str(r, "id", w, required=True), sf_time(r, "deletedDate", w)))
    return DeletedRecords(
        tuple(out),  # type: ignore[arg-type]
        sf_time(d, "earliestDateAvailable", where, required=False),
        sf_time(d, "latestDateCovered", where, required=False),
    )


def parse_updated(body: Any, where: str = "getUpdated") -> tuple[tuple[str, ...], datetime | None]:
    """getUpdated: ``{ids[], latestDateCovered}`` (minute resolution, 30 days back at most)."""
    d = _obj(body, where)
    ids = d.get("ids")
    if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
        raise BadResponse(f"{where}.ids: expected a list of record Ids, got {_kind(ids)}")
    return tuple(ids), sf_time(d, "latestDateCovered", where, required=False)


# ---------------------------------------------------------------------------------------------
# Errors, limits, writes


@dataclass(frozen=True)
class SfError:
    code: str
    message: str
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f" (fields: {', '.join(self.fields)})" if self.fields else ""
        return f"{self.code}: {self.message}{where}"


def parse_errors(body: Any) -> tuple[SfError, ...]:
    """Salesforce error bodies: a JSON list of ``{message, errorCode}`` (REST) or of
    ``{statusCode, message, fields}`` (collections). Anything else gives an empty tuple."""
    if isinstance(body, Mapping):
        body = [body]
    if not isinstance(body, list):
        return ()
    out = []
    for e in body:
        if not isinstance(e, Mapping):
            continue
        code = e.get("errorCode") or e.get("statusCode") or e.get("error") or "UNKNOWN"
        msg = e.get("message") or e.get("error_description") or ""
        fields = e.get("fields") if isinstance(e.get("fields"), list) else ()
        out.append(SfError(str(code), str(msg), tuple(str(f) for f in fields)))
    return tuple(out)


def describe_errors(body: Any, fallback: str = "") -> str:
    errs = parse_errors(body)
    return "; ".join(str(e) for e in errs) if errs else fallback


@dataclass(frozen=True)
class RecordResult:
    """One row of a create or an sObject Collections response."""

    id: str | None
    success: bool
    errors: tuple[SfError, ...] = ()


def parse_record_result(body: Any, where: str = "response") -> RecordResult:
    """``{"id", "success", "errors"}`` — the answer to POST /sobjects/<Type>."""
    d = _obj(body, where)
    success = d.get("success")
    if not isinstance(success, bool):
        raise BadResponse(f"{where}.success: expected true or false, got {_kind(success)}")
    errors = d.get("errors", [])
    if not isinstance(errors, list):
        raise BadResponse(f"{where}.errors: expected a list, got {_kind(errors)}")
    rid = _str(d, "id", where, required=success)
    return RecordResult(rid, success, parse_errors(errors))


def parse_collection_results(body: Any, where: str = "collections") -> tuple[RecordResult, ...]:
    """sObject Collections answer 200 even when some records failed: read each row."""
    if not isinstance(body, list):
        raise BadResponse(f"{where}: expected a list of per-record results, got {_kind(body)}")
    return tuple(parse_record_result(r, f"{where}[{i}]") for i, r in enumerate(body))


@dataclass(frozen=True)
class ApiUsage:
    """``Sforce-Limit-Info: api-usage=18/5000``: calls used today and the org's daily limit."""

    used: int
    limit: int

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit else 1.0


_USAGE = re.compile(r"(?:^|[;\s])api-usage=(\d+)/(\d+)")


def parse_limit_info(header: str | None) -> ApiUsage | None:
    """Read the org-wide ``api-usage`` part; ``per-app-api-usage`` and ``api-bursts`` are ignored."""
    if not header:
        return None
    m = _USAGE.search(header)
    return ApiUsage(int(m.group(1)), int(m.group(2))) if m else None


@dataclass(frozen=True)
class Token:
    access_token: Secret
    instance_url: str | None
    issued_at: str | None = None

    def __repr__(self) -> str:
        return f"Token(instance_url={self.instance_url!r})"


def parse_token(body: Any, where: str = "oauth2/token") -> Token:
    """The token endpoint's success body. The access token is wrapped so it never prints."""
    d = _obj(body, where)
    token = d.get("access_token")
    if not isinstance(token, str) or not token:
        raise BadResponse(f"{where}.access_token: missing or not a string")
    return Token(Secret(token, source="(salesforce access token)"), _str(d, "instance_url", where), _str(d, "issued_at", where))


def token_error(body: Any) -> str:
    """``{"error":"invalid_grant","error_description":"…"}`` as one line (no secrets in it)."""
    if isinstance(body, Mapping) and isinstance(body.get("error"), str):
        desc = body.get("error_description")
        return f"{body['error']}: {desc}" if isinstance(desc, str) and desc else body["error"]
    return describe_errors(body, "the token endpoint refused the credentials")


# ---------------------------------------------------------------------------------------------
# Case -> Ticket


def case_fields(settings: SalesforceSettings) -> tuple[str, ...]:
    """The Case fields (and Account/Contact/Owner relationship fields) the connector selects."""
    fields = [
        "Id", "CaseNumber", "Subject", "Description", "Priority", "Status", "Origin", "IsEscalated",
        "IsClosed", "IsDeleted", "OwnerId", "Owner.Name", "AccountId", "Account.Name", "ContactId",
        "Contact.Name", "Contact.Email", "SuppliedEmail", "SuppliedName", "CreatedDate",
        "LastModifiedDate", "SystemModstamp",
    ]  # fmt: skip
    for f in (settings.account_value_field, settings.account_tier_field, settings.account_renewal_field, settings.account_health_field):
        if f and f"Account.{f}" not in fields:
            fields.append(f"Account.{f}")
    if settings.tags_field:
        fields.append(settings.tags_field)
    return tuple(fields)


def case_query(settings: SalesforceSettings, since: datetime, until: datetime | None) -> str:
    """``SELECT … FROM Case WHERE SystemModstamp >= since [AND < until] ORDER BY SystemModstamp, Id``.

    Comments and e-mails ride along as child sub-queries, so one page costs one call.
    ``>=`` re-reads the boundary second on purpose; the caller removes what it already saw.
    """
    subs = [f"(SELECT {', '.join(COMMENT_FIELDS)} FROM CaseComments ORDER BY CreatedDate ASC)"]
    if settings.include_emails:
        subs.append(f"(SELECT {', '.join(EMAIL_FIELDS)} FROM EmailMessages ORDER BY MessageDate ASC)")
    where = f"SystemModstamp >= {soql_time(since)}"
    if until is not None:
        where += f" AND SystemModstamp < {soql_time(until)}"
    return f"SELECT {', '.join(case_fields(settings))}, {', '.join(subs)} FROM Case WHERE {where} ORDER BY SystemModstamp ASC, Id ASC"


def case_id(rec: Any, where: str = "Case") -> str:
    d = _obj(rec, where)
    cid = _str(d, "Id", where, required=True)
    return cid  # type: ignore[return-value]


def case_version(rec: Mapping[str, Any], where: str = "Case") -> tuple[str, datetime]:
    """(Id, SystemModstamp): what identifies one version of a case for de-duplication."""
    return case_id(rec, where), sf_time(rec, "SystemModstamp", where)  # type: ignore[return-value]


def is_deleted(rec: Mapping[str, Any], where: str = "Case") -> bool:
    """queryAll returns recycled rows with ``IsDeleted: true`` — they are tombstones."""
    return _bool(rec, "IsDeleted", where)


def child_records(rec: Mapping[str, Any], relationship: str, where: str) -> QueryPage | None:
    """The sub-query result of a child relationship (``CaseComments``), or None when absent."""
    v = rec.get(relationship)
    if v is None:
        return None
    return parse_query_page(v, f"{where}.{relationship}")


def is_deskwatch_note(body: str) -> bool:
    return body.startswith(MARKER_PREFIX)


def comment_to_message(c: Mapping[str, Any], where: str) -> Message:
    body = _str(c, "CommentBody", where) or ""
    created = sf_time(c, "CreatedDate", where)
    created_by = c.get("CreatedBy")
    user_type = None
    if created_by is not None:
        user_type = _str(_obj(created_by, f"{where}.CreatedBy"), "UserType", f"{where}.CreatedBy")
    if is_deskwatch_note(body) or user_type in SYSTEM_USER_TYPES:
        author = "system"
    elif user_type in CUSTOMER_USER_TYPES:
        author = "customer"
    else:
        author = "agent"
    return Message(author, created, body, _bool(c, "IsPublished", where), _str(c, "CreatedById", where))  # type: ignore[arg-type]


def email_to_message(e: Mapping[str, Any], where: str) -> Message | None:
    status = e.get("Status")
    if status is not None and str(status) == EMAIL_STATUS_DRAFT:
        return None  # drafts were never sent; nobody has read them
    text = _str(e, "TextBody", where)
    if not text:
        text = html_to_text(_str(e, "HtmlBody", where) or "")
    created = sf_time(e, "MessageDate", where, required=False) or sf_time(e, "CreatedDate", where)
    incoming = _bool(e, "Incoming", where)
    return Message("customer" if incoming else "agent", created, text, True, _str(e, "FromAddress", where))  # type: ignore[arg-type]


def account_to_organization(rec: Mapping[str, Any], settings: SalesforceSettings, where: str) -> Organization | None:
    account_id = _str(rec, "AccountId", where)
    acc = rec.get("Account")
    if acc is None:
        return Organization(id=account_id) if account_id else None
    w = f"{where}.Account"
    acc = _obj(acc, w)
    # Account fields are typed by people (and formula fields can say anything): an unreadable
    # value is dropped with a warning, never a reason to halt the sync on one Account.
    s = settings
    return organization(
        acc, account_id, label=f"Account {account_id or '(no AccountId)'} ({where})", name=_str(acc, "Name", w),
        value=s.account_value_field, tier=s.account_tier_field, renewal=s.account_renewal_field, health=s.account_health_field, logger=log,
    )


def _requester(rec: Mapping[str, Any], where: str) -> Person | None:
    contact = rec.get("Contact")
    email = name = None
    if contact is not None:
        c = _obj(contact, f"{where}.Contact")
        email, name = _str(c, "Email", f"{where}.Contact"), _str(c, "Name", f"{where}.Contact")
    # Web-to-case and email-to-case leave what the sender typed in SuppliedEmail/SuppliedName.
    email = email or _str(rec, "SuppliedEmail", where)
    name = name or _str(rec, "SuppliedName", where)
    cid = _str(rec, "ContactId", where)
    if not (cid or email or name):
        return None
    return Person(id=cid, email=email.strip().lower() if email else None, name=name)


def split_tags(value: Any) -> tuple[str, ...]:
    """A multi-select picklist is ``"a;b"``; a text field may use commas or spaces too."""
    if not value:
        return ()
    parts = re.split(r"[;,\s]+", str(value))
    seen: dict[str, None] = {}
    for p in parts:
        if p:
            seen.setdefault(p, None)
    return tuple(seen)


def case_url(settings: SalesforceSettings, api_base: str, cid: str) -> str:
    return f"{(settings.ui_url or api_base).rstrip('/')}/lightning/r/Case/{cid}/view"


def case_to_ticket(
    rec: Any,
    settings: SalesforceSettings,
    api_base: str,
    *,
    comments: Sequence[Mapping[str, Any]] | None = None,
    emails: Sequence[Mapping[str, Any]] | None = None,
    where: str = "Case",
) -> Ticket:
    """Map one Case record (with its CaseComments/EmailMessages sub-queries) to a Ticket.

    ``comments``/``emails`` override the embedded sub-query records when the caller had to
    page through them (a sub-query with ``done: false``).
    """
    d = _obj(rec, where)
    cid = case_id(d, where)
    where = f"Case {cid}" if where == "Case" else where
    created = sf_time(d, "CreatedDate", where)
    modstamp = sf_time(d, "SystemModstamp", where)
    modified = sf_time(d, "LastModifiedDate", where, required=False)
    updated = max(x for x in (created, modstamp, modified) if x is not None)

    if comments is None:
        sub = child_records(d, "CaseComments", where)
        comments = sub.records if sub else ()
    if emails is None:
        sub = child_records(d, "EmailMessages", where) if settings.include_emails else None
        emails = sub.records if sub else ()

    messages: list[Message] = []
    description = _str(d, "Description", where)
    if description and description.strip():
        messages.append(Message("customer", created, description, True, _str(d, "ContactId", where)))  # type: ignore[arg-type]
    for i, c in enumerate(comments):
        messages.append(comment_to_message(_obj(c, f"{where}.CaseComments[{i}]"), f"{where}.CaseComments[{i}]"))
    for i, e in enumerate(emails):
        m = email_to_message(_obj(e, f"{where}.EmailMessages[{i}]"), f"{where}.EmailMessages[{i}]")
        if m is not None:
            messages.append(m)
    messages.sort(key=lambda m: m.created_at)  # stable: the description stays first on ties

    status_raw = _str(d, "Status", where)
    is_closed = _bool(d, "IsClosed", where)
    status = settings.status_map.get(status_raw or "") or ("closed" if is_closed else "open")
    priority = settings.priority_map.get(_str(d, "Priority", where) or "")
    channel = settings.channel_map.get(_str(d, "Origin", where) or "", "other")

    owner_id = _str(d, "OwnerId", where)
    owner = d.get("Owner")
    owner_name = _str(_obj(owner, f"{where}.Owner"), "Name", f"{where}.Owner") if owner is not None else None
    assignee = group = None
    if owner_id and owner_id.startswith(QUEUE_ID_PREFIX):
        group = owner_name or owner_id
    elif owner_id:
        # The name, as routing knows agents by name; the Id only when the name was not selected.
        assignee = owner_name or owner_id

    tags = split_tags(d.get(settings.tags_field)) if settings.tags_field else ()
    return Ticket(
        id=f"{settings.name}:{cid}",
        source=settings.name,
        channel=channel,
        subject=_str(d, "Subject", where) or "",
        status=status,
        priority=priority,
        created_at=created,  # type: ignore[arg-type]
        updated_at=updated,
        messages=tuple(messages),
        requester=_requester(d, where),
        organization=account_to_organization(d, settings, where),
        assignee=assignee,
        group=group,
        tags=tags,
        url=case_url(settings, api_base, cid),
    )
