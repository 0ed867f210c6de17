"""Reading Salesforce's answers: its error bodies classified (limits, expired sessions, refusals) and the bookmark of Case updates and deletions."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Mapping, Sequence, TypeVar

import httpx

from deskwatch.core.connect.contract import (
    BadResponse,
    ConnectorError,
    RateLimited,
)
from deskwatch.core.connect.http import Action, Resolution, describe, redact
from deskwatch.core.connect.kit import Watermark
from deskwatch.core.model.timeutil import format_time, parse_time

from . import mapping

CONCURRENT_LIMIT_WAIT = 5.0  # seconds; concurrency limits clear quickly, the daily one does not
DAILY_LIMIT_WAIT = 3600.0
FIX_HINTS = {
    "INVALID_FIELD": "; check account_*_field / tags_field names and the integration user's field-level security",
    "INVALID_TYPE": "; the integration user cannot see this object (Case, CaseComment, EmailMessage)",
    "NOT_FOUND": "; the record does not exist or was deleted",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "; the value is not in the org's picklist: adjust priority_map / status_map",
    "INSUFFICIENT_ACCESS_OR_READONLY": "; the integration user may not edit this case",
    "ENTITY_IS_DELETED": "; the case was deleted",
}


def _head(response: httpx.Response) -> str:
    """``GET /services/data/v61.0/queryAll?q=SELECT Id, … -> 400``: a SOQL query makes the full
    URL hundreds of characters long, so show the path and the start of the query only."""
    try:
        req = response.request
    except RuntimeError:
        return describe(response)
    q = req.url.params.get("q")
    query = f"?q={q[:60]}…" if q and len(q) > 60 else (f"?q={q}" if q else "")
    return redact(f"{req.method} {req.url.path}{query} -> {response.status_code}")


def classify_response(response: httpx.Response) -> Resolution | None:
    """Salesforce's own meanings: 403 REQUEST_LIMIT_EXCEEDED is a rate limit (concurrency:
    retry soon; daily total: stop), error bodies are lists of {message, errorCode}."""
    status = response.status_code
    if status < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    errs = mapping.parse_errors(body)
    if not errs:
        return None  # not a Salesforce error body (a proxy page, a 5xx): generic rules
    codes = {e.code for e in errs}
    detail = "; ".join(str(e) for e in errs)
    head = _head(response)
    if "REQUEST_LIMIT_EXCEEDED" in codes:
        if any("concurrent" in e.message.lower() for e in errs):
            return Resolution(Action.RATE_LIMITED, f"Salesforce concurrency limit ({head}): {detail}", status, CONCURRENT_LIMIT_WAIT)
        # The daily org-wide total: retrying now only burns attempts. The connector turns this
        # into RateLimited for the caller (see _translate).
        return Resolution(Action.FAIL, f"Salesforce daily API request limit reached ({head}): {detail}; sync resumes once the 24-hour usage drops", status)
    if status == 401:
        return Resolution(
            Action.REAUTHENTICATE,
            f"Salesforce refused the session ({head}): {detail}; a fresh token was refused too — check client_id and "
            "client_secret (or username and private_key) and that the integration user is API Enabled",
            status,
        )
    if status >= 500:
        return None
    hint = next((FIX_HINTS[c] for c in (e.code for e in errs) if c in FIX_HINTS), "")
    return Resolution(Action.FAIL, f"Salesforce rejected the request ({head}): {detail}{hint}", status)


def _translate(e: ConnectorError, source: str) -> ConnectorError:
    if "REQUEST_LIMIT_EXCEEDED" in e.message and not isinstance(e, RateLimited):
        return RateLimited(e.message, retry_after=DAILY_LIMIT_WAIT, source=source, status=e.status)
    return e


T = TypeVar("T")


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# ---------------------------------------------------------------------------------------------
# Bookmark


@dataclasses.dataclass(frozen=True)
class SfBookmark:
    """``{"since": <second>, "seen": ["<Id>|<SystemModstamp>", …], "deleted_since": <time>}``.

    ``mark`` is the kit's Watermark on whole seconds (SOQL literals have no fractions), keyed by
    version, so re-reading the bookmark second with ``>=`` skips exactly what was delivered.
    """

    mark: Watermark = Watermark()
    deleted_since: datetime | None = None

    @property
    def since(self) -> datetime | None:
        return self.mark.since

    @classmethod
    def load(cls, value: Any, source: str) -> "SfBookmark":
        if value is None:
            return cls()
        try:
            if not isinstance(value, Mapping):
                raise ValueError(value)
            mark = Watermark.from_json(value, "bookmark", str) if value.get("since") else Watermark()
            return cls(mark, parse_time(value["deleted_since"]) if value.get("deleted_since") else None)
        except (BadResponse, ValueError):
            raise ConnectorError(f"bookmark {value!r} is not a Salesforce bookmark; reset the source's sync state", source=source) from None

    def dump(self) -> dict[str, Any]:
        d = self.mark.as_json()
        if self.deleted_since is not None:
            d["deleted_since"] = format_time(self.deleted_since)
        return d

    def advance(self, cid: str, stamp: datetime) -> tuple["SfBookmark", bool]:
        """The bookmark after delivering (cid, stamp), and False when that version was seen."""
        mark, fresh = self.mark.admit(f"{cid}|{stamp.isoformat()}", stamp.replace(microsecond=0))
        return dataclasses.replace(self, mark=mark), fresh


# ---------------------------------------------------------------------------------------------
# The connector
