"""check() results from the errors a check call raises."""

from __future__ import annotations

import pytest

from deskwatch.core.connect.contract import AuthError, BadResponse, ConnectorError, RateLimited, TransientError
from deskwatch.core.connect.kit import check_kind, failed_check


@pytest.mark.parametrize(
    ("error", "kind"),
    [(AuthError("no"), "auth"), (RateLimited("slow"), "rate_limited"), (TransientError("down"), "unreachable"),
     (BadResponse("odd"), "error"), (ConnectorError("x"), "error")],
)
def test_kinds(error, kind):
    assert check_kind(error) == kind
    result = failed_check(error)
    assert (result.ok, result.kind) == (False, kind)


def test_message_and_fix():
    e = AuthError("authentication failed (GET /me -> 401)", source="zd")
    assert failed_check(e).message == "zd: authentication failed (GET /me -> 401)"
    fixed = failed_check(e, {"auth": "set api_key", "unreachable": "check base_url"}, full=False)
    assert fixed.message == "authentication failed (GET /me -> 401); set api_key"
    assert failed_check(TransientError("down"), {"auth": "set api_key"}).message == "down"
