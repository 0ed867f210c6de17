"""How the Zendesk connector reads Zendesk's answers and its own bookmark."""

from __future__ import annotations

from typing import Mapping

import httpx

from deskwatch.core.connect.contract import Bookmark, ConnectorError
from deskwatch.core.connect.http import Action, Resolution, describe


def classify_zendesk(response: httpx.Response) -> Resolution | None:
    """Zendesk specifics on top of the generic rules (None = use those)."""
    if response.status_code == 403 and "/incremental/" in response.request.url.path:
        # Account-level: no ticket can be read without it, so this pauses the source like a 401.
        return Resolution(
            Action.REAUTHENTICATE,
            f"permission denied ({describe(response)}): the incremental export is for admins only; "
            "use an admin's API token or OAuth token",
            403,
        )
    if response.status_code == 401:
        return Resolution(
            Action.REAUTHENTICATE,
            f"authentication failed ({describe(response)}): Zendesk refused the credentials; "
            "check email + token (an API token) or oauth_token in the source settings",
            401,
        )
    return None


def _bookmark_cursor(bookmark: Bookmark) -> str | None:
    if bookmark is None:
        return None
    if isinstance(bookmark, str) and bookmark:
        return bookmark
    if isinstance(bookmark, Mapping) and isinstance(bookmark.get("cursor"), str) and bookmark["cursor"]:
        return bookmark["cursor"]
    raise ConnectorError(f'bookmark: expected {{"cursor": "<after_cursor>"}}, got {bookmark!r}; reset the source to resync')
