"""``Connector.check()`` results from the errors a check call raises."""

from __future__ import annotations

from typing import Mapping

from deskwatch.core.connect.contract import AuthError, CheckResult, ConnectorError, RateLimited, TransientError
from deskwatch.core.connect.errors import Forbidden


def check_kind(error: ConnectorError) -> str:
    """``CheckResult.kind`` for an error: auth, rate_limited, unreachable or error."""
    if isinstance(error, (AuthError, Forbidden)):
        return "auth"  # a 403 on the account-level check call: the credentials lack a permission
    if isinstance(error, RateLimited):
        return "rate_limited"
    if isinstance(error, TransientError):
        return "unreachable"
    return "error"


def failed_check(error: ConnectorError, fixes: Mapping[str, str] | None = None, *, full: bool = True) -> CheckResult:
    """A failed CheckResult for ``error``: its message (``full``: with the source name), and the
    fix for its kind from ``fixes`` (``{"auth": "set api_key to …"}``) after a semicolon."""
    kind = check_kind(error)
    message = str(error) if full else error.message
    fix = (fixes or {}).get(kind)
    return CheckResult(False, f"{message}; {fix}" if fix else message, kind)
