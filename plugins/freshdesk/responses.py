"""Reading Freshdesk's answers: the three-pass bookmark (all, deleted, spam) and its error bodies classified."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

import httpx

from deskwatch.core.connect.contract import (
    BadResponse,
)
from deskwatch.core.connect.http import (
    Action,
    Resolution,
    describe,
)
from deskwatch.core.connect.kit import (
    Watermark,
)


PASSES = ("all", "deleted", "spam")
BOOKMARK_VERSION = 1


def bookmark_json(marks: Mapping[str, Watermark]) -> dict[str, Any]:
    return {"v": BOOKMARK_VERSION, "passes": {k: m.as_json() for k, m in marks.items()}}


def read_bookmark(bookmark: Any, start: datetime) -> dict[str, Watermark]:
    """The watermarks of a stored bookmark; None (never synced) starts every pass at ``start``."""
    marks = {p: Watermark(start) for p in PASSES}
    if bookmark is None:
        return marks
    if not isinstance(bookmark, Mapping) or bookmark.get("v") != BOOKMARK_VERSION or not isinstance(bookmark.get("passes"), Mapping):
        raise BadResponse(f"bookmark: not a Freshdesk bookmark (version {BOOKMARK_VERSION}): {bookmark!r}; reset the source's bookmark")
    for p, raw in bookmark["passes"].items():
        if p not in PASSES:
            raise BadResponse(f"bookmark passes.{p}: unknown pass; expected {', '.join(PASSES)}")
        marks[p] = Watermark.from_json(raw, f"bookmark passes.{p}", int)
    return marks


# ---------------------------------------------------------------------------------------------
# HTTP details specific to Freshdesk


def classify_freshdesk(response: httpx.Response) -> Resolution | None:
    """Freshdesk's error envelope ``{"description", "errors": [{field, message, code}]}`` made
    readable; other cases fall through to the generic rules (429/Retry-After, 5xx, 401)."""
    if response.status_code < 400 or response.status_code in (401, 429) or response.status_code >= 500:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, Mapping):
        return None
    errors = body.get("errors")
    parts = []
    if isinstance(errors, list):
        for e in errors:
            if isinstance(e, Mapping):
                field = f"{e.get('field')}: " if e.get("field") else ""
                code = f" ({e.get('code')})" if e.get("code") else ""
                parts.append(f"{field}{e.get('message', '')}{code}")
    desc = body.get("description") or body.get("message") or ""
    if not parts and not desc:
        return None
    text = f"{desc}: {'; '.join(parts)}" if parts else str(desc)
    if response.status_code == 403:
        return Resolution(Action.FAIL, f"permission denied ({describe(response)}): {text}; the API key's agent lacks this permission", 403)
    return Resolution(Action.FAIL, f"Freshdesk refused the request ({describe(response)}): {text}", response.status_code)


def _more_pages(response: httpx.Response, rows: int, per_page: int) -> bool:
    # The Link header is absent on the last page; a short page is the last one as well.
    return "next" in response.links and rows >= per_page


# ---------------------------------------------------------------------------------------------
# The connector
