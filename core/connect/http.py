"""HTTP building blocks for connectors: client, classification, retries, paginators, auth, budget.

A connector is meant to be mostly declarations on top of these:

* ``make_api_client(base_url, auth=..., retry=...)`` returns an ``ApiClient``: an
  ``httpx.AsyncClient`` wrapped with response classification, tenacity retries (Retry-After
  first, exponential backoff with jitter, capped by attempts and total wait) and a rate budget.
* ``classify(response) -> Resolution``: ok / retry / rate_limited / reauthenticate / fail, with a
  redacted message. Connectors pass a ``classifier`` for their API's quirks (it is asked first).
* ``CursorPaginator``, ``PageNumberPaginator``, ``NextUrlPaginator`` with ``paginate()``: they stop
  on an empty page and raise ``PaginationLoop`` when a token repeats.
* Auth as ``httpx.Auth``: ``basic_auth``, ``zendesk_token_auth``, ``freshdesk_key_auth``,
  ``ApiKeyAuth``, ``BearerAuth``, ``OAuth2Auth`` (client credentials or JWT bearer, cached,
  refreshed once on 401).
* ``RateBudget``: a client-side token bucket that also reads the helpdesk's "remaining" headers,
  so ``deskwatch status`` can show how much quota is left.

Nothing here prints a credential: auth helpers register their secrets with ``register_secret``
and every message goes through ``redact``; ``RedactingFilter`` does the same for log records.
"""

from __future__ import annotations

import asyncio
import email.utils
import enum
import json
import logging
import random
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

import httpx
import tenacity

from deskwatch.core.connect.contract import AuthError, BadResponse, ConnectorError, RateLimited, TransientError
from deskwatch.core.model.settings import _MISSING as _REQUIRED
from deskwatch.core.model.settings import Secret, Section

log = logging.getLogger("deskwatch.http")

Sleep = Callable[[float], Awaitable[None]]

DEFAULT_TIMEOUT = 30.0


def user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"deskwatch/{version('deskwatch')}"
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "deskwatch"


# ---------------------------------------------------------------------------------------------
# Redaction

_SECRETS: set[str] = set()
# Query keys whose values are credentials, in URLs and form bodies.
SECRET_PARAMS = (
    "token", "access_token", "refresh_token", "id_token", "api_key", "apikey", "key", "password",
    "secret", "client_secret", "assertion", "code", "signature", "sig", "auth", "session_id",
)
_PARAM_RE = re.compile(r"(?i)\b(" + "|".join(SECRET_PARAMS) + r")=([^&\s\"'#]+)")
_AUTH_HEADER_RE = re.compile(r"(?i)\b((?:proxy-)?authorization|x-api-key|api-key)(\"?\s*[:=]\s*\"?)(?:(basic|bearer|token|oauth)\s+)?([^\s\"',}]+)")
_USERINFO_RE = re.compile(r"(?i)\b(https?://)([^/\s:@]+):([^/\s@]+)@")
_BEARER_RE = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*")


def register_secret(value: str | Secret | None) -> None:
    """Remember a credential so ``redact`` removes it wherever it shows up. Very short values
    are skipped: masking "X" everywhere would garble messages without protecting anything."""
    if isinstance(value, Secret):
        value = value.reveal()
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str, secrets: Iterable[str | Secret | None] = ()) -> str:
    """``text`` with credentials replaced by ``***``: registered and given secret values,
    Authorization header values, bearer tokens, credentials in URLs and query strings."""
    if not text:
        return text
    values = set(_SECRETS)
    for s in secrets:
        if isinstance(s, Secret):
            s = s.reveal()
        if s and len(s) >= 4:
            values.add(s)
    # Longest first, so a secret that contains another is masked whole.
    for v in sorted(values, key=len, reverse=True):
        text = text.replace(v, "***")
    text = _USERINFO_RE.sub(r"\1***:***@", text)
    text = _PARAM_RE.sub(lambda m: f"{m.group(1)}=***", text)
    text = _AUTH_HEADER_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{(m.group(3) + ' ') if m.group(3) else ''}***", text)
    text = _BEARER_RE.sub("Bearer ***", text)
    return text


def redact_url(url: str | httpx.URL) -> str:
    """A URL safe to show: no user info, secret query values masked."""
    return redact(str(url))


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the rendered message of every record it sees. Install it
    on handlers (the daemon does) so a credential in an exception never reaches a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        record.msg, record.args = redact(msg), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


# httpx logs every request URL at INFO; query strings can hold tokens.
for _name in ("httpx", "httpcore"):
    if not any(isinstance(f, RedactingFilter) for f in logging.getLogger(_name).filters):
        logging.getLogger(_name).addFilter(RedactingFilter())


# ---------------------------------------------------------------------------------------------
# Classification


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

    def error(self, source: str = "") -> ConnectorError:
        """The exception matching this resolution."""
        if self.action is Action.RATE_LIMITED:
            return RateLimited(self.message, retry_after=self.retry_after, source=source, status=self.status)
        if self.action is Action.RETRY:
            return TransientError(self.message, retry_after=self.retry_after, source=source, status=self.status)
        if self.action is Action.REAUTHENTICATE or self.status in (401, 403):
            return AuthError(self.message, source=source, status=self.status)
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


def body_excerpt(response: httpx.Response, limit: int = 200) -> str:
    """The start of a response body, one line, for error messages (redacted by the caller)."""
    try:
        text = response.text
    except Exception:
        return ""
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


def describe(response: httpx.Response) -> str:
    """``GET https://host/path -> 404``, redacted."""
    try:
        req: httpx.Request | None = response.request
    except RuntimeError:  # a Response built by hand, with no request attached
        req = None
    where = f"{req.method} {redact_url(req.url)} -> " if req is not None else ""
    return f"{where}{response.status_code}"


def classify(response: httpx.Response, *, secrets: Iterable[str | Secret | None] = ()) -> Resolution:
    """Decide what a response means, the Singer way: 2xx/3xx ok, 429 rate limited (honouring
    Retry-After), 408 and 5xx retry, 401 re-authenticate, any other 4xx fail."""
    status = response.status_code
    if status < 400:
        return Resolution(Action.OK, status=status)
    head = describe(response)
    excerpt = body_excerpt(response)
    detail = f": {excerpt}" if excerpt else ""
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


# ---------------------------------------------------------------------------------------------
# Retry policy


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry a failing call.

    :param max_attempts: attempts in total, the first one included.
    :param base_delay: first backoff in seconds; doubles each attempt (with full jitter).
    :param max_delay: cap on any single wait, Retry-After included.
    :param max_total_wait: give up rather than wait longer than this in total.
    :param default_retry_after: wait used for a 429 without Retry-After.
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_total_wait: float = 300.0
    default_retry_after: float = 30.0
    jitter: bool = True

    KEYS = ("max_attempts", "max_retry_wait")

    @classmethod
    def from_section(cls, section: Section, defaults: "RetryPolicy | None" = None) -> "RetryPolicy":
        """Read ``max_attempts`` and ``max_retry_wait`` (seconds) from a source's settings."""
        d = defaults or cls()
        return cls(
            max_attempts=section.integer("max_attempts", d.max_attempts, min=1, max=20),
            base_delay=d.base_delay,
            max_delay=d.max_delay,
            max_total_wait=section.number("max_retry_wait", d.max_total_wait, min=0),
            default_retry_after=d.default_retry_after,
            jitter=d.jitter,
        )

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Wait before attempt ``attempt + 1`` when the server gave no hint."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        if not self.jitter:
            return ceiling
        # "Equal jitter": at least half the exponential step, so waits still grow.
        r = (rng or random).random()
        return ceiling / 2 + r * ceiling / 2

    def wait_for(self, error: BaseException | None, attempt: int) -> float:
        """The wait after a failed attempt: Retry-After first, else exponential backoff; capped."""
        if isinstance(error, _Retryable):
            error = error.error
        hint = getattr(error, "retry_after", None)
        if isinstance(error, RateLimited) and hint is None:
            hint = self.default_retry_after
        if hint is not None:
            # The server said how long; waiting less only earns another refusal. A wait past
            # max_total_wait makes the retry loop give up at once, passing retry_after upward.
            return max(0.0, hint)
        return min(self.max_delay, max(0.0, self.backoff(attempt)))


NO_RETRY = RetryPolicy(max_attempts=1)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})


class _Retryable(Exception):
    """Internal: carries a retryable ConnectorError through tenacity."""

    def __init__(self, error: ConnectorError):
        self.error = error


# ---------------------------------------------------------------------------------------------
# Rate budget


@dataclass(frozen=True)
class BudgetSnapshot:
    """What ``deskwatch status`` shows for a source's API quota."""

    limit: int | None
    remaining: int | None
    per_minute: float | None
    tokens: float | None
    observed_header: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "remaining": self.remaining,
            "per_minute": self.per_minute,
            "tokens": None if self.tokens is None else round(self.tokens, 2),
            "header": self.observed_header,
        }


_REMAINING_HEADERS = (
    ("x-rate-limit-remaining", "x-rate-limit"),
    ("x-ratelimit-remaining", "x-ratelimit-total"),
    ("ratelimit-remaining", "ratelimit-limit"),
)
_SFORCE_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


class RateBudget:
    """Client-side rate limiting: a token bucket of ``per_minute`` calls (None: unlimited),
    plus the quota the helpdesk reports in its headers. Share one budget between sources on
    the same account so together they stay under the shared quota.

    ``reserve`` keeps that many calls in hand: when the server says fewer remain, ``acquire``
    waits ``reserve_wait`` seconds before each call instead of running the quota to zero.
    """

    def __init__(
        self,
        per_minute: float | None = None,
        *,
        reserve: int = 0,
        reserve_wait: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ):
        self.per_minute = per_minute
        self.reserve = reserve
        self.reserve_wait = reserve_wait
        self._clock = clock
        self._sleep = sleep
        self._capacity = max(1.0, per_minute or 1.0)
        self._tokens = self._capacity
        self._stamp = clock()
        self.limit: int | None = None
        self.remaining: int | None = None
        self.observed_header: str | None = None
        self.waited = 0.0  # seconds spent waiting on the budget, for status and tests

    def _refill(self) -> None:
        now = self._clock()
        if self.per_minute:
            self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self.per_minute / 60.0)
        self._stamp = now

    async def acquire(self) -> None:
        """Wait until one call may be made, then take it."""
        if self.reserve and self.remaining is not None and self.remaining <= self.reserve:
            self.waited += self.reserve_wait
            await self._sleep(self.reserve_wait)
        if not self.per_minute:
            return
        self._refill()
        if self._tokens < 1.0:
            wait = (1.0 - self._tokens) * 60.0 / self.per_minute
            self.waited += wait
            await self._sleep(wait)
            self._refill()
            # A fake sleep does not advance the clock; the wait has been served either way.
            self._tokens = max(self._tokens, 1.0)
        self._tokens -= 1.0

    def observe(self, response: httpx.Response) -> None:
        """Read remaining quota from X-Rate-Limit-Remaining, X-Ratelimit-Remaining,
        RateLimit-Remaining or Sforce-Limit-Info (``api-usage=used/limit``)."""
        h = response.headers
        for rem_name, lim_name in _REMAINING_HEADERS:
            if rem_name in h:
                rem = _int(h.get(rem_name))
                if rem is not None:
                    self.remaining, self.observed_header = rem, rem_name
                    lim = _int(h.get(lim_name))
                    if lim is not None:
                        self.limit = lim
                    return
        info = h.get("sforce-limit-info")
        if info:
            m = _SFORCE_USAGE.search(info)
            if m:
                used, lim = int(m.group(1)), int(m.group(2))
                self.limit, self.remaining, self.observed_header = lim, max(0, lim - used), "sforce-limit-info"

    def snapshot(self) -> BudgetSnapshot:
        if self.per_minute:
            self._refill()
        return BudgetSnapshot(
            self.limit, self.remaining, self.per_minute, self._tokens if self.per_minute else None, self.observed_header
        )


def _int(v: str | None) -> int | None:
    try:
        return int(float(v)) if v is not None else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Client


class ApiClient:
    """An httpx.AsyncClient with classification, retries and a rate budget.

    ``request`` returns a successful response or raises a ConnectorError subclass: AuthError,
    RateLimited (after retries ran out), TransientError, BadResponse or ConnectorError.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        retry: RetryPolicy = RetryPolicy(),
        classifier: Classifier | None = None,
        budget: RateBudget | None = None,
        sleep: Sleep = asyncio.sleep,
        secrets: Iterable[str | Secret | None] = (),
        source: str = "",
    ):
        self.client = client
        self.retry = retry
        self.classifier = classifier
        self.budget = budget
        self.sleep = sleep
        self.secrets = tuple(s for s in secrets if s)
        self.source = source
        self.attempts = 0  # requests sent, retries included (for tests and status)
        for s in self.secrets:
            register_secret(s)

    @property
    def base_url(self) -> httpx.URL:
        return self.client.base_url

    def resolve(self, response: httpx.Response) -> Resolution:
        """The connector's classifier first, then the generic rules."""
        if self.classifier is not None:
            res = self.classifier(response)
            if res is not None:
                return Resolution(res.action, redact(res.message, self.secrets), res.status or response.status_code, res.retry_after)
        return classify(response, secrets=self.secrets)

    async def _send_once(self, method: str, url: str, *, retry_ambiguous: bool, **kwargs: Any) -> httpx.Response:
        if self.budget is not None:
            await self.budget.acquire()
        self.attempts += 1
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.ConnectError as e:
            # Never sent: safe to retry whatever the method.
            raise _Retryable(TransientError(redact(f"cannot connect to {self._where(url)}: {e}", self.secrets), source=self.source)) from None
        except httpx.TimeoutException as e:
            err = TransientError(redact(f"timed out talking to {self._where(url)} ({type(e).__name__})", self.secrets), source=self.source)
            if retry_ambiguous:
                raise _Retryable(err) from None
            raise err from None
        except httpx.TransportError as e:
            err = TransientError(redact(f"connection to {self._where(url)} failed: {type(e).__name__}: {e}", self.secrets), source=self.source)
            if retry_ambiguous:
                raise _Retryable(err) from None
            raise err from None
        except ConnectorError as e:  # raised by an auth flow (e.g. the token endpoint refused)
            e.message = redact(e.message, self.secrets)
            e.source = e.source or self.source
            e.args = (f"{e.source}: {e.message}" if e.source else e.message,)
            raise
        if self.budget is not None:
            self.budget.observe(response)
        res = self.resolve(response)
        if res.action is Action.OK:
            return response
        err = res.error(self.source)
        if res.action is Action.RATE_LIMITED or (res.action is Action.RETRY and retry_ambiguous):
            log.info("%s; will retry", err)
            raise _Retryable(err)
        raise err

    def _where(self, url: str) -> str:
        try:
            return redact_url(self.client.base_url.join(url))
        except Exception:
            return redact_url(url)

    async def request(self, method: str, url: str, *, idempotent: bool | None = None, **kwargs: Any) -> httpx.Response:
        """Send a request with retries. ``idempotent`` (default: by method) decides whether a
        5xx or a dropped connection is retried; a 429 and a refused connection always are,
        since the server did not act on them."""
        method = method.upper()
        retry_ambiguous = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        policy = self.retry

        def wait(rs: tenacity.RetryCallState) -> float:
            exc = rs.outcome.exception() if rs.outcome else None
            return policy.wait_for(exc, rs.attempt_number)

        def stop(rs: tenacity.RetryCallState) -> bool:
            return rs.attempt_number >= policy.max_attempts or rs.idle_for + (rs.upcoming_sleep or 0) > policy.max_total_wait

        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            wait=wait,
            stop=stop,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._send_once(method, url, retry_ambiguous=retry_ambiguous, **kwargs)
        except _Retryable as e:
            err = e.error
            n = retrying.statistics.get("attempt_number", 1)
            err.message = f"{err.message} (gave up after {n} attempt{'s' if n != 1 else ''})"
            err.args = (f"{err.source}: {err.message}" if err.source else err.message,)
            raise err from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def json(self, method: str, url: str, **kwargs: Any) -> Any:
        """Send a request and decode its JSON body; a non-JSON body raises BadResponse.

        A read whose body claims to be JSON but does not parse was cut off on the way (a proxy
        or connection failing mid-body), so an idempotent request is sent again, like a 5xx.
        """
        attempt = 0
        while True:
            attempt += 1
            response = await self.request(method, url, **kwargs)
            try:
                return decode_json(response, source=self.source, secrets=self.secrets)
            except BadResponse:
                truncated = "json" in response.headers.get("content-type", "").lower()
                if method.upper() != "GET" or not truncated or attempt >= self.retry.max_attempts:
                    raise
                await self.sleep(self.retry.backoff(attempt))

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        return await self.json("GET", url, **kwargs)

    async def aclose(self) -> None:
        await self.client.aclose()

    close = aclose

    async def __aenter__(self) -> "ApiClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def decode_json(response: httpx.Response, *, source: str = "", secrets: Iterable[str | Secret | None] = ()) -> Any:
    """The JSON body of a response, or BadResponse saying what came instead."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        ctype = response.headers.get("content-type", "no content type")
        if "json" in ctype.lower():
            problem = f"the JSON body of {describe(response)} is cut short or corrupted"
        else:
            problem = f"expected a JSON body from {describe(response)}, got {ctype}"
        raise BadResponse(
            redact(f"{problem}: {body_excerpt(response, 120)}", secrets),
            source=source,
            status=response.status_code,
        ) from None


def make_client(
    base_url: str,
    *,
    auth: httpx.Auth | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A plain httpx.AsyncClient with deskwatch's user agent, JSON accept header and timeouts."""
    h = {"User-Agent": user_agent(), "Accept": "application/json"}
    h.update(headers or {})
    return httpx.AsyncClient(
        base_url=base_url,
        auth=auth,
        headers=h,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        transport=transport,
        follow_redirects=False,
    )


def make_api_client(
    base_url: str,
    *,
    auth: httpx.Auth | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    retry: RetryPolicy = RetryPolicy(),
    classifier: Classifier | None = None,
    budget: RateBudget | None = None,
    sleep: Sleep = asyncio.sleep,
    secrets: Iterable[str | Secret | None] = (),
    source: str = "",
    transport: httpx.AsyncBaseTransport | None = None,
) -> ApiClient:
    """The default ``ClientFactory``: an ApiClient for ``base_url``. Tests pass
    ``functools.partial(make_api_client, sleep=instant)`` so retries take no time."""
    secrets = tuple(secrets) + tuple(_auth_secrets(auth))
    client = make_client(base_url, auth=auth, headers=headers, timeout=timeout, transport=transport)
    # Without a budget of its own the client still records the quota the server reports.
    budget = budget if budget is not None else RateBudget(sleep=sleep)
    return ApiClient(client, retry=retry, classifier=classifier, budget=budget, sleep=sleep, secrets=secrets, source=source)


def client_factory(**defaults: Any) -> Callable[..., ApiClient]:
    """A ClientFactory with some arguments fixed, e.g. ``client_factory(sleep=no_sleep)``."""

    def factory(base_url: str, **kwargs: Any) -> ApiClient:
        return make_api_client(base_url, **{**defaults, **kwargs})

    return factory


async def no_sleep(seconds: float) -> None:
    """A sleep that returns at once (for tests); still yields to the event loop."""
    await asyncio.sleep(0)


@dataclass(frozen=True)
class HttpSettings:
    """The HTTP keys every connector accepts in ``[sources.<name>]``."""

    base_url: str
    timeout: float
    retry: RetryPolicy
    requests_per_minute: float | None

    KEYS = ("base_url", "timeout", "max_attempts", "max_retry_wait", "requests_per_minute")


def http_settings(section: Section, *, default_base_url: str | None = None) -> HttpSettings:
    """Read ``base_url`` (required unless a default is given; lets a connector talk to any
    compatible server such as the simulator), ``timeout``, ``max_attempts``,
    ``max_retry_wait`` and ``requests_per_minute``."""
    base = section.string("base_url", default_base_url if default_base_url is not None else _REQUIRED)
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise section.error("base_url", f"expected an http(s) URL such as https://example.zendesk.com, got {base!r}")
    rpm = section.number("requests_per_minute", None)
    if rpm is not None and rpm <= 0:
        raise section.error("requests_per_minute", f"must be more than 0, got {rpm:g}")
    return HttpSettings(
        base_url=base.rstrip("/"),
        timeout=section.number("timeout", DEFAULT_TIMEOUT, min=0.1),
        retry=RetryPolicy.from_section(section),
        requests_per_minute=rpm,
    )


# ---------------------------------------------------------------------------------------------
# Pagination


class PaginationLoop(BadResponse):
    """The API handed back a page token it had already given: following it would loop forever."""


def dig(body: Any, path: str, *, source: str = "") -> Any:
    """``body["a"]["b"]`` for ``"a.b"``; None when a key is absent; BadResponse naming the
    field when something on the way is not an object."""
    cur = body
    done: list[str] = []
    for part in path.split("."):
        if cur is None:
            return None
        if not isinstance(cur, Mapping):
            where = ".".join(done) or "response body"
            raise BadResponse(f"{where}: expected an object with {part!r}, got {type(cur).__name__}", source=source)
        cur = cur.get(part)
        done.append(part)
    return cur


def records_at(body: Any, path: str, *, source: str = "") -> list[Any]:
    """The list at ``path`` (e.g. ``"tickets"``); BadResponse if it is missing or not a list."""
    v = dig(body, path, source=source)
    if not isinstance(v, list):
        got = "nothing" if v is None else type(v).__name__
        raise BadResponse(f"{path}: expected a list, got {got}", source=source)
    return v


def _get(spec: Any, body: Any, response: httpx.Response) -> Any:
    if spec is None:
        return None
    if callable(spec):
        return spec(body, response)
    return dig(body, spec)


class Paginator:
    """Walks pages of one listing. ``token`` is what fetched the current page (None for the
    first); ``advance`` reads the next token from a response; ``finished`` says when to stop.
    A token seen before raises PaginationLoop; an empty page stops the walk."""

    def __init__(self, *, stop_on_empty: bool = True):
        self.token: Any = None
        self.finished = False
        self.stop_on_empty = stop_on_empty
        self._seen: set[str] = set()

    def request(self, url: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """URL and query parameters for the next request."""
        return url, dict(params)

    def next_token(self, body: Any, response: httpx.Response, records: Sequence[Any]) -> Any:
        raise NotImplementedError

    def advance(self, body: Any, response: httpx.Response, records: Sequence[Any]) -> None:
        if self.stop_on_empty and not records:
            self.finished = True
            return
        nxt = self.next_token(body, response, records)
        if nxt is None or nxt == "":
            self.finished = True
            return
        key = json.dumps(nxt, sort_keys=True, default=str)
        if key in self._seen or nxt == self.token:
            raise PaginationLoop(f"loop detected in pagination: the API returned the token {redact(str(nxt))!r} twice")
        self._seen.add(json.dumps(self.token, sort_keys=True, default=str))
        self._seen.add(key)
        self.token = nxt


class CursorPaginator(Paginator):
    """Cursor pagination (Zendesk): the next cursor comes from ``cursor_path`` and is sent as
    ``cursor_param``. ``has_more_path`` (e.g. ``"meta.has_more"``) or ``end_path`` (e.g.
    ``"end_of_stream"``) say when to stop; without them the walk stops when no cursor comes."""

    def __init__(
        self,
        cursor_path: Any,
        *,
        cursor_param: str = "cursor",
        has_more_path: Any = None,
        end_path: Any = None,
        start: Any = None,
        stop_on_empty: bool = True,
    ):
        super().__init__(stop_on_empty=stop_on_empty)
        self.cursor_path = cursor_path
        self.cursor_param = cursor_param
        self.has_more_path = has_more_path
        self.end_path = end_path
        self.token = start
        # The newest cursor seen, kept even on the last page: where the next sync resumes.
        self.last_cursor: Any = start

    def request(self, url: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        p = dict(params)
        if self.token is not None:
            p[self.cursor_param] = self.token
        return url, p

    def next_token(self, body: Any, response: httpx.Response, records: Sequence[Any]) -> Any:
        if self.has_more_path is not None and not _get(self.has_more_path, body, response):
            return None
        if self.end_path is not None and _get(self.end_path, body, response):
            return None
        return _get(self.cursor_path, body, response)

    def advance(self, body: Any, response: httpx.Response, records: Sequence[Any]) -> None:
        nc = _get(self.cursor_path, body, response)
        if nc:
            self.last_cursor = nc
        super().advance(body, response, records)


class PageNumberPaginator(Paginator):
    """Page-number pagination (Freshdesk): ``page=start, start+1, …`` with ``per_page``. Stops
    on an empty page, a short page (fewer than ``per_page`` records), a missing ``Link: rel=next``
    header when ``use_link_header`` is set, or after ``max_pages`` (Freshdesk caps at 300)."""

    def __init__(
        self,
        *,
        page_param: str = "page",
        per_page: int | None = None,
        per_page_param: str = "per_page",
        start: int = 1,
        max_pages: int | None = None,
        use_link_header: bool = False,
    ):
        super().__init__()
        self.page_param = page_param
        self.per_page = per_page
        self.per_page_param = per_page_param
        self.start = start
        self.page = start
        self.max_pages = max_pages
        self.use_link_header = use_link_header
        self.capped = False  # True when max_pages stopped the walk (the caller moves its window)

    def request(self, url: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        p = dict(params)
        p[self.page_param] = self.page
        if self.per_page:
            p[self.per_page_param] = self.per_page
        return url, p

    def next_token(self, body: Any, response: httpx.Response, records: Sequence[Any]) -> Any:
        if self.per_page and len(records) < self.per_page:
            return None
        if self.use_link_header and "next" not in response.links:
            return None
        if self.max_pages is not None and self.page - self.start + 1 >= self.max_pages:
            self.capped = True
            return None
        return self.page + 1

    def advance(self, body: Any, response: httpx.Response, records: Sequence[Any]) -> None:
        super().advance(body, response, records)
        if not self.finished:
            self.page = self.token


class NextUrlPaginator(Paginator):
    """Next-URL pagination (Salesforce ``nextRecordsUrl``, HATEOAS links): the next request
    goes to the URL found at ``next_path`` (or the ``Link: rel=next`` header when
    ``next_path`` is None), with no extra parameters."""

    def __init__(self, next_path: Any = None, *, done_path: Any = None):
        super().__init__()
        self.next_path = next_path
        self.done_path = done_path

    def request(self, url: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        if self.token is not None:
            return str(self.token), {}
        return url, dict(params)

    def next_token(self, body: Any, response: httpx.Response, records: Sequence[Any]) -> Any:
        if self.done_path is not None and _get(self.done_path, body, response):
            return None
        if self.next_path is None:
            return response.links.get("next", {}).get("url")
        return _get(self.next_path, body, response)


@dataclass(frozen=True)
class PageData:
    """One page of a listing: the decoded body, its records, and the paginator state after it."""

    body: Any
    records: tuple[Any, ...]
    response: httpx.Response = field(repr=False)
    token: Any  # what fetched this page (None: the first page)
    next_token: Any  # what fetches the next page (None when last)
    last: bool


async def paginate(
    client: ApiClient,
    url: str,
    paginator: Paginator,
    *,
    params: Mapping[str, Any] | None = None,
    records: str | Callable[[Any], Sequence[Any]] = "results",
    method: str = "GET",
) -> AsyncIterator[PageData]:
    """Yield pages until the paginator finishes. ``records`` is a dotted path to the list of
    records in each body, or a function of the body."""
    while not paginator.finished:
        req_url, req_params = paginator.request(url, params or {})
        used = paginator.token
        response = await client.request(method, req_url, params=req_params or None)
        body = decode_json(response, source=client.source, secrets=client.secrets)
        recs = records(body) if callable(records) else records_at(body, records, source=client.source)
        paginator.advance(body, response, recs)
        yield PageData(body, tuple(recs), response, used, None if paginator.finished else paginator.token, paginator.finished)


# ---------------------------------------------------------------------------------------------
# Auth


def _reveal(v: str | Secret | None) -> str:
    if v is None:
        return ""
    return v.reveal() if isinstance(v, Secret) else v


def _auth_secrets(auth: httpx.Auth | None) -> list[str]:
    return list(getattr(auth, "secrets", ()) or ())


class BasicAuth(httpx.BasicAuth):
    """HTTP Basic auth whose password (and header) is registered for redaction."""

    def __init__(self, username: str | Secret, password: str | Secret):
        user, pw = _reveal(username), _reveal(password)
        super().__init__(user, pw)
        self.secrets = [pw, self._auth_header] if len(pw) >= 4 else [self._auth_header]
        if isinstance(username, Secret):
            self.secrets.append(user)
        for s in self.secrets:
            register_secret(s)
        register_secret(self._auth_header.split(" ", 1)[1])

    def __repr__(self) -> str:
        return "BasicAuth(***)"


def basic_auth(username: str | Secret, password: str | Secret) -> BasicAuth:
    return BasicAuth(username, password)


def zendesk_token_auth(email: str, token: str | Secret) -> BasicAuth:
    """Zendesk API token auth: Basic ``{email}/token:{token}``."""
    return BasicAuth(f"{email}/token", token)


def freshdesk_key_auth(api_key: str | Secret) -> BasicAuth:
    """Freshdesk API key auth: Basic ``{api_key}:X``."""
    return BasicAuth(api_key if isinstance(api_key, Secret) else Secret(api_key), "X")


class ApiKeyAuth(httpx.Auth):
    """An API key in a header, e.g. ``ApiKeyAuth("X-Api-Key", key)``."""

    def __init__(self, header: str, key: str | Secret, *, prefix: str = ""):
        self.header = header
        self.value = f"{prefix} {_reveal(key)}".strip() if prefix else _reveal(key)
        self.secrets = [_reveal(key)]
        register_secret(_reveal(key))

    def auth_flow(self, request: httpx.Request):
        request.headers[self.header] = self.value
        yield request

    def __repr__(self) -> str:
        return f"ApiKeyAuth({self.header}: ***)"


class BearerAuth(ApiKeyAuth):
    """``Authorization: Bearer <token>``."""

    def __init__(self, token: str | Secret):
        super().__init__("Authorization", token, prefix="Bearer")


@dataclass(frozen=True)
class OAuthToken:
    access_token: str = field(repr=False)
    instance_url: str | None = None
    expires_at: float | None = None  # clock() time, None when the server did not say
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class OAuth2Auth(httpx.Auth):
    """OAuth2 access tokens: fetched on first use, cached, refreshed once when a call gets a
    401 (Salesforce tokens expire silently), and ahead of ``expires_in`` when the server gives it.

    Client credentials: ``OAuth2Auth(token_url, client_id=..., client_secret=...)``.
    JWT bearer: ``OAuth2Auth(token_url, assertion=make_jwt)`` where ``make_jwt()`` returns a
    signed assertion string (called for every token request, so ``exp`` stays fresh).
    ``use_instance_url`` sends API calls to the ``instance_url`` of the token response.
    """

    requires_response_body = True  # httpx reads token responses before handing them to the flow

    def __init__(
        self,
        token_url: str,
        *,
        client_id: str | Secret | None = None,
        client_secret: str | Secret | None = None,
        assertion: Callable[[], str] | None = None,
        scope: str | None = None,
        client_auth: str = "body",
        use_instance_url: bool = False,
        clock: Callable[[], float] = time.monotonic,
        source: str = "",
    ):
        if assertion is None and not (client_id and client_secret):
            raise ValueError("OAuth2Auth needs client_id and client_secret, or an assertion callable")
        self.token_url = token_url
        self.client_id = _reveal(client_id)
        self.client_secret = _reveal(client_secret)
        self.assertion = assertion
        self.scope = scope
        self.client_auth = client_auth
        self.use_instance_url = use_instance_url
        self.clock = clock
        self.source = source
        self.token: OAuthToken | None = None
        self.token_requests = 0
        self._lock: asyncio.Lock | None = None
        self.secrets = [s for s in (self.client_secret,) if s]
        for s in self.secrets:
            register_secret(s)

    def __repr__(self) -> str:
        return f"OAuth2Auth({redact_url(self.token_url)})"

    def _token_request(self) -> httpx.Request:
        data: dict[str, str] = {}
        headers = {"Accept": "application/json", "User-Agent": user_agent()}
        if self.assertion is not None:
            data = {"grant_type": JWT_BEARER_GRANT, "assertion": self.assertion()}
        else:
            data = {"grant_type": "client_credentials"}
            if self.client_auth == "basic":
                headers["Authorization"] = httpx.BasicAuth(self.client_id, self.client_secret)._auth_header
            else:
                data.update(client_id=self.client_id, client_secret=self.client_secret)
        if self.scope:
            data["scope"] = self.scope
        self.token_requests += 1
        return httpx.Request("POST", self.token_url, data=data, headers=headers)

    def _read_token(self, response: httpx.Response) -> OAuthToken:
        try:
            body = json.loads(response.content or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if response.status_code >= 400 or not isinstance(body, Mapping) or not body.get("access_token"):
            reason = ""
            if isinstance(body, Mapping) and body.get("error"):
                reason = f": {body.get('error')}" + (f" ({body['error_description']})" if body.get("error_description") else "")
            elif response.status_code < 400:
                reason = ": the response carries no access_token"
            if response.status_code == 429:
                err_cls: type[ConnectorError] = RateLimited
            elif response.status_code >= 500 or (response.status_code < 400 and body is None) or (
                response.status_code == 403 and b"REQUEST_LIMIT_EXCEEDED" in response.content
            ):
                # The token service is down, overloaded or cut the answer short: not a credential problem.
                raise TransientError(
                    redact(f"OAuth token request to {redact_url(self.token_url)} failed with {response.status_code}"
                           f"{reason or ': the token service is unavailable'}; will retry", self.secrets),
                    retry_after=parse_retry_after(response.headers.get("retry-after")),
                    source=self.source,
                    status=response.status_code,
                )
            else:
                err_cls = AuthError
            raise err_cls(
                redact(
                    f"OAuth token request to {redact_url(self.token_url)} failed with {response.status_code}{reason}; "
                    "check the client id/secret (or the JWT key and user) in the source settings",
                    self.secrets,
                ),
                source=self.source,
                status=response.status_code,
            )
        token = str(body["access_token"])
        register_secret(token)
        expires_at = None
        try:
            if body.get("expires_in") is not None:
                expires_at = self.clock() + float(body["expires_in"]) - 30.0
        except (TypeError, ValueError):
            pass
        return OAuthToken(token, body.get("instance_url"), expires_at, body)

    def _valid(self) -> bool:
        return self.token is not None and (self.token.expires_at is None or self.clock() < self.token.expires_at)

    def _sign(self, request: httpx.Request) -> None:
        assert self.token is not None
        request.headers["Authorization"] = f"Bearer {self.token.access_token}"
        if self.use_instance_url and self.token.instance_url:
            base = httpx.URL(self.token.instance_url)
            request.url = request.url.copy_with(scheme=base.scheme, host=base.host, port=base.port)
            request.headers["Host"] = request.url.netloc.decode("ascii")

    def auth_flow(self, request: httpx.Request):
        if not self._valid():
            token_response = yield self._token_request()
            self.token = self._read_token(token_response)
        self._sign(request)
        response = yield request
        if response.status_code == 401:
            # Refresh once: a second 401 means the credentials themselves are refused.
            token_response = yield self._token_request()
            self.token = self._read_token(token_response)
            self._sign(request)
            yield request

    async def async_auth_flow(self, request: httpx.Request):
        # Same flow as auth_flow, but concurrent requests share one token fetch and one refresh.
        if self._lock is None:
            self._lock = asyncio.Lock()
        if not self._valid():
            async with self._lock:
                if not self._valid():
                    token_response = yield self._token_request()
                    await token_response.aread()
                    self.token = self._read_token(token_response)
        used = self.token
        self._sign(request)
        response = yield request
        if response.status_code == 401:
            async with self._lock:
                if self.token is used:  # nobody refreshed it while we waited
                    token_response = yield self._token_request()
                    await token_response.aread()
                    self.token = self._read_token(token_response)
            self._sign(request)
            yield request

    def invalidate(self) -> None:
        self.token = None


__all__ = [
    "Action", "ApiClient", "ApiKeyAuth", "BasicAuth", "BearerAuth", "BudgetSnapshot", "CursorPaginator",
    "HttpSettings", "NextUrlPaginator", "NO_RETRY", "OAuth2Auth", "OAuthToken", "PageData", "PageNumberPaginator",
    "PaginationLoop", "Paginator", "RateBudget", "RedactingFilter", "Resolution", "RetryPolicy", "basic_auth",
    "classify", "client_factory", "decode_json", "dig", "freshdesk_key_auth", "http_settings", "make_api_client",
    "make_client", "no_sleep", "paginate", "parse_retry_after", "records_at", "redact", "redact_url",
    "register_secret", "zendesk_token_auth",
]
