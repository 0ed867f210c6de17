"""Response classification: ok / retry / rate_limited / reauthenticate / fail, with a redacted message.
Connectors pass a ``classifier`` for their API's quirks (it is asked first)."""

from __future__ import annotations

import email.utils
import enum
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable

import httpx

from deskwatch.core.connect.errors import AuthError, ConnectorError, Forbidden, RateLimited, Redirected, TransientError
from deskwatch.core.model.settings import Secret
from deskwatch.core.connect.http.redact import excerpt, redact, redact_url

class Action(str, enum.Enum):
    OK = "ok"
    RETRY = "retry"
    RATE_LIMITED = "rate_limited"
    REAUTHENTICATE = "reauthenticate"
    FAIL = "fail"


@dataclass(frozen=True)
class Resolution:
    """What to do with a response. ``message`` is redacted and safe to show."""

    action: Action
    message: str = ""
    status: int | None = None
    retry_after: float | None = None
    location_host: str = ""  # for a redirect: the host it points to

    def error(self, source: str = "") -> ConnectorError:
        """The exception matching this resolution."""
        if self.status is not None and 300 <= self.status < 400:
            return Redirected(self.message, location_host=self.location_host, source=source, status=self.status)
        if self.action is Action.RATE_LIMITED:
            return RateLimited(self.message, retry_after=self.retry_after, source=source, status=self.status)
        if self.action is Action.RETRY:
            return TransientError(self.message, retry_after=self.retry_after, source=source, status=self.status)
        if self.action is Action.REAUTHENTICATE or self.status == 401:
            return AuthError(self.message, source=source, status=self.status)
        if self.status == 403:
            # One resource refused: the item fails, the source carries on. A classifier that
            # knows a 403 means the whole account (Zendesk's admin-only export) says REAUTHENTICATE.
            return Forbidden(self.message, source=source, status=self.status)
        return ConnectorError(self.message, source=source, status=self.status)


Classifier = Callable[[httpx.Response], "Resolution | None"]

RETRY_STATUSES = frozenset({408, 425, 500, 502, 503, 504, 520, 521, 522, 523, 524})


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date.
    None when absent or unreadable; never negative."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def body_excerpt(response: httpx.Response, limit: int = 200, secrets: Iterable[str | Secret | None] = ()) -> str:
    """The start of a response body, one line, for error messages; redacted before it is cut,
    so a secret the cut would split never leaves its first characters behind."""
    try:
        text = response.text
    except Exception:
        return ""
    return excerpt(text, limit, secrets)


def describe(response: httpx.Response) -> str:
    """``GET https://host/path -> 404``, redacted."""
    try:
        req: httpx.Request | None = response.request
    except RuntimeError:  # a Response built by hand, with no request attached
        req = None
    where = f"{req.method} {redact_url(req.url)} -> " if req is not None else ""
    return f"{where}{response.status_code}"


def location_host(response: httpx.Response) -> str:
    """The host a redirect points to (only the host: the rest of a Location can carry a token);
    the request's own host for a relative Location, "" when there is none."""
    location = response.headers.get("location", "").strip()
    if not location:
        return ""
    try:
        url = httpx.URL(location)
        if not url.host:
            url = response.request.url.join(location)
    except Exception:  # an unreadable Location, or a Response built by hand without a request
        return ""
    return url.host + (f":{url.port}" if url.port else "")


def redirect_message(response: httpx.Response) -> str:
    """What a redirect means for a source: deskwatch does not follow it; fix base_url."""
    host = location_host(response)
    to = f" to {host}" if host else " (no Location given)"
    return (f"redirected{to} ({describe(response)}); deskwatch does not follow redirects with credentials: "
            "set base_url to the API's own address (https, the account's domain)")


def classify(response: httpx.Response, *, secrets: Iterable[str | Secret | None] = ()) -> Resolution:
    """Decide what a response means, the Singer way: 2xx and 304 ok, other 3xx a redirect (a
    failure naming where it points), 429 rate limited (honouring Retry-After), 408 and 5xx
    retry, 401 re-authenticate, any other 4xx fail."""
    status = response.status_code
    if status < 300 or status == 304:
        return Resolution(Action.OK, status=status)
    if status < 400:
        return Resolution(Action.FAIL, redact(redirect_message(response), secrets), status,
                          location_host=redact(location_host(response), secrets))
    head = describe(response)
    snippet = body_excerpt(response, secrets=secrets)
    detail = f": {snippet}" if snippet else ""
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        wait = f"; retry after {retry_after:g}s" if retry_after is not None else ""
        return Resolution(Action.RATE_LIMITED, redact(f"rate limited ({head}){wait}{detail}", secrets), status, retry_after)
    if status in RETRY_STATUSES:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return Resolution(Action.RETRY, redact(f"server error ({head}){detail}", secrets), status, retry_after)
    if status == 401:
        return Resolution(
            Action.REAUTHENTICATE,
            redact(f"authentication failed ({head}): the credentials were refused; check the source's token/key settings", secrets),
            status,
        )
    if status == 403:
        return Resolution(
            Action.FAIL,
            redact(f"permission denied ({head}): the account lacks access to this resource{detail}", secrets),
            status,
        )
    return Resolution(Action.FAIL, redact(f"request failed ({head}){detail}", secrets), status)
