"""deskwatch updates -> Salesforce bodies: the Case PATCH, the CaseComment that records the
update (with its idempotency marker), the Composite request that sends both as one all-or-none
transaction, and the org's picklist values. Pure functions only."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any, Iterable, Mapping, Sequence

from deskwatch.core.connect.contract import BadResponse
from deskwatch.core.connect.kit import marker_tag, merged_tags, note_with_marker, notes_have_marker
from deskwatch.core.connect.kit.reads import describe as _kind
from deskwatch.core.connect.kit.reads import expect_object as _obj
from deskwatch.core.model import TicketUpdate

from .mapping import MARKER_PREFIX, USER_ID_PREFIX
from .settings import SalesforceSettings


def marker(key: str) -> str:
    """The idempotency marker written at the start of deskwatch's CaseComment."""
    return f"{MARKER_PREFIX}{marker_tag(key)}]"


def has_marker(comment_bodies: Iterable[str], key: str) -> bool:
    """True when a CaseComment carries the update's marker (the update was applied)."""
    return notes_have_marker(comment_bodies, marker(key))


def picklist_value(normalized: str, mapping: Mapping[str, str], allowed: Iterable[str] | None = None) -> str | None:
    """The Salesforce value for a deskwatch value: the first key of ``mapping`` that maps to it
    (and, when the org's active picklist values are known, is one of them)."""
    allowed_set = set(allowed) if allowed is not None else None
    for sf_value, norm in mapping.items():
        if norm == normalized and (allowed_set is None or sf_value in allowed_set):
            return sf_value
    return None


class UpdateNotPossible(ValueError):
    """The update asks for something this org cannot take (no such picklist value, no queue)."""


def build_patch(
    update: TicketUpdate,
    settings: SalesforceSettings,
    *,
    current_tags: tuple[str, ...] = (),
    queue_id: str | None = None,
    picklists: Mapping[str, Iterable[str]] | None = None,
    user_id: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The Case PATCH body for ``update`` and a list of lines describing what it changes.

    Tags are merged with ``current_tags`` (read just before) so other tags survive. Raises
    UpdateNotPossible naming the value and what the org accepts.
    """
    picklists = picklists or {}
    body: dict[str, Any] = {}
    lines: list[str] = []
    if update.priority is not None:
        v = picklist_value(update.priority, settings.priority_map, picklists.get("Priority"))
        if v is None and update.priority == "urgent":
            # A standard org's picklist stops at High: urgent work gets the highest value there is.
            v = picklist_value("high", settings.priority_map, picklists.get("Priority"))
        body["Priority"] = _mapped(v, "priority", update.priority, picklists.get("Priority"))
        lines.append(f"priority -> {v}")
    if update.status is not None:
        v = picklist_value(update.status, settings.status_map, picklists.get("Status"))
        body["Status"] = _mapped(v, "status", update.status, picklists.get("Status"))
        lines.append(f"status -> {v}")
    if update.escalated is not None:
        body["IsEscalated"] = bool(update.escalated)
        lines.append(f"escalated -> {'yes' if update.escalated else 'no'}")
    if update.assignee is not None:
        owner = user_id or (update.assignee if update.assignee.startswith(USER_ID_PREFIX) and len(update.assignee) in (15, 18)
                            else None)
        if owner is None:
            raise UpdateNotPossible(f"assignee {update.assignee!r}: no active Salesforce user of that name; "
                                    "add it under users (name = 005… User Id)")
        body["OwnerId"] = owner
        lines.append(f"owner -> user {update.assignee}")
    elif update.group is not None:
        if not queue_id:
            raise UpdateNotPossible(f"group {update.group!r}: no queue of that name; add it under queues")
        body["OwnerId"] = queue_id
        lines.append(f"owner -> queue {update.group}")
    if update.tags_add or update.tags_remove:
        if not settings.tags_field:
            # Cases have no native tags. The rest of the update still matters more than its
            # labels, so it goes through and the note says what was left out.
            lines.append(f"tags not written (+{','.join(update.tags_add) or '-'} -{','.join(update.tags_remove) or '-'}): "
                         "set tags_field to a Case field such as Tags__c")
            return body, lines
        tags = merged_tags(current_tags, update.tags_add, update.tags_remove)
        if tuple(tags) != tuple(current_tags):
            body[settings.tags_field] = ";".join(tags) or None
        lines.append(f"tags +{','.join(update.tags_add) or '-'} -{','.join(update.tags_remove) or '-'}")
    return body, lines


def note_body(update: TicketUpdate, lines: Sequence[str]) -> str:
    """The private CaseComment that records the update: marker first, then the note, then what
    changed. CaseComment bodies are capped at 4,000 bytes, so the note is trimmed to fit."""
    head = marker(update.idempotency_key)
    changes = ("\n" + "\n".join(f"- {ln}" for ln in lines)) if lines else ""
    note = update.private_note or ""
    room = 4000 - len((head + "\n" + changes).encode("utf-8")) - 16
    enc = note.encode("utf-8")
    if len(enc) > room:
        note = enc[: max(room, 0)].decode("utf-8", "ignore") + " […]"
    return note_with_marker(f"{note}{changes}", head, first=True).strip()


CASE_REF, NOTE_REF = "deskwatchCase", "deskwatchNote"
HALTED = "PROCESSING_HALTED"  # a subrequest rolled back because another one failed


def read_stamp(value: Any) -> datetime | None:
    """A Salesforce datetime (``2026-11-23T10:00:00.000+0000``), or None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    v = value.strip().replace("Z", "+00:00")
    if len(v) > 5 and v[-5] in "+-" and v[-3] != ":":
        v = v[:-2] + ":" + v[-2:]  # +0000 -> +00:00
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def http_date(stamp: datetime) -> str:
    """``If-Unmodified-Since`` for a record last modified at ``stamp``: HTTP dates have whole
    seconds, so a stamp with milliseconds is rounded up (rounding down would fail on the
    record's own change)."""
    whole = stamp.replace(microsecond=0)
    if whole < stamp:
        whole += timedelta(seconds=1)
    return format_datetime(whole.astimezone(timezone.utc), usegmt=True)


def precondition_failed(body: Any) -> bool:
    """Whether a Composite answer says a subrequest's ``If-Unmodified-Since`` failed (412)."""
    rows = body.get("compositeResponse") if isinstance(body, Mapping) else None
    return isinstance(rows, list) and any(isinstance(r, Mapping) and r.get("httpStatusCode") == 412 for r in rows)


def composite_request(data_path: str, case_id: str, patch: Mapping[str, Any], note: Mapping[str, Any],
                      *, unmodified_since: datetime | None = None) -> dict[str, Any]:
    """The ``POST /composite`` body: the Case PATCH (when there is one) and the marker
    CaseComment in one transaction (``allOrNone``), so the fields never change without the
    marker that says they did: a retry finds the marker and sends nothing again. With
    ``unmodified_since`` (the Case's LastModifiedDate as read) the PATCH is conditional: a Case
    changed since answers 412 and the whole transaction is rolled back."""
    base = f"{data_path.rstrip('/')}/sobjects"
    subs: list[dict[str, Any]] = []
    if patch:
        sub: dict[str, Any] = {"method": "PATCH", "url": f"{base}/Case/{case_id}", "referenceId": CASE_REF, "body": dict(patch)}
        if unmodified_since is not None:
            sub["httpHeaders"] = {"If-Unmodified-Since": http_date(unmodified_since)}
        subs.append(sub)
    subs.append({"method": "POST", "url": f"{base}/CaseComment", "referenceId": NOTE_REF, "body": dict(note)})
    return {"allOrNone": True, "compositeRequest": subs}


def composite_errors(body: Any, expected: int, where: str = "composite") -> list[str]:
    """The refusals in a Composite answer (empty: every subrequest succeeded). Subrequests
    rolled back only because another one failed are left out: they name no cause."""
    d = _obj(body, where)
    rows = d.get("compositeResponse")
    if not isinstance(rows, list) or len(rows) != expected:
        raise BadResponse(f"{where}.compositeResponse: expected {expected} subrequest results, got {_kind(rows)}")
    errors: list[str] = []
    for i, row in enumerate(rows):
        row = _obj(row, f"{where}.compositeResponse[{i}]")
        status = row.get("httpStatusCode")
        if not isinstance(status, int):
            raise BadResponse(f"{where}.compositeResponse[{i}].httpStatusCode: expected a number, got {_kind(status)}")
        if status < 300:
            continue
        items = row.get("body") if isinstance(row.get("body"), list) else [row.get("body")]
        for e in items:
            code = e.get("errorCode") if isinstance(e, Mapping) else None
            if code == HALTED:
                continue
            msg = e.get("message") if isinstance(e, Mapping) else None
            errors.append(f"{row.get('referenceId', i)}: {code or status}: {msg or 'refused'}")
    if not errors and any(isinstance(r, Mapping) and r.get("httpStatusCode", 0) >= 300 for r in rows):
        errors.append(f"{where}: rolled back ({HALTED}) without a cause")
    return errors


def parse_picklists(body: Any, names: Iterable[str], where: str = "Case/describe") -> dict[str, tuple[str, ...]]:
    """Active picklist values of some Case fields from ``GET /sobjects/Case/describe``."""
    d = _obj(body, where)
    fields = d.get("fields")
    if not isinstance(fields, list):
        raise BadResponse(f"{where}.fields: expected a list, got {_kind(fields)}")
    wanted = set(names)
    out: dict[str, tuple[str, ...]] = {}
    for i, f in enumerate(fields):
        f = _obj(f, f"{where}.fields[{i}]")
        if f.get("name") not in wanted:
            continue
        values = f.get("picklistValues")
        if not isinstance(values, list):
            raise BadResponse(f"{where}.fields[{i}].picklistValues: expected a list, got {_kind(values)}")
        out[f["name"]] = tuple(
            v["value"] for v in values if isinstance(v, Mapping) and isinstance(v.get("value"), str) and v.get("active", True)
        )
    return out


def _mapped(value: str | None, field: str, wanted: str, accepted: Any) -> str:
    """The Case picklist value for ``wanted``, or UpdateNotPossible naming the fix."""
    if value is None:
        raise UpdateNotPossible(
            f"{field} {wanted!r}: no Case {field.capitalize()} value maps to it"
            + (f" (the org accepts {', '.join(sorted(accepted))})" if accepted else "")
            + f"; add one under {field}_map"
        )
    return value
