"""``ApiClient``: an ``httpx.AsyncClient`` wrapped with classification, retries and a rate budget;
the ``[sources.<name>]`` HTTP keys every connector accepts."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

import httpx
import tenacity

from deskwatch.core.connect.errors import BadResponse, ConnectorError, ResponseTooLarge, TransientError
from deskwatch.core.model.settings import _MISSING as _REQUIRED
from deskwatch.core.model.settings import Secret, Section
from deskwatch.core.connect.http.base import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_DEADLINE,
    DEFAULT_TIMEOUT,
    Sleep,
    user_agent,
)
from deskwatch.core.connect.http.budget import RateBudget
from deskwatch.core.connect.http.classify import Action, Classifier, Resolution, body_excerpt, classify, describe
from deskwatch.core.connect.http.redact import auth_secrets, redact, redact_url, register_secret
from deskwatch.core.connect.http.retry import IDEMPOTENT_METHODS, RetryPolicy, _Retryable

log = logging.getLogger("deskwatch.http")

# Arguments of httpx's send() rather than build_request().
_SEND_ARGS = ("auth", "follow_redirects")


@dataclass(frozen=True)
class InFlight:
    """A request a source is waiting on: ``endpoint`` is "METHOD /path" (no query string, which
    can hold credentials), ``since`` when it was sent."""

    source: str
    endpoint: str
    since: datetime

    def seconds(self, now: datetime | None = None) -> float:
        return max(0.0, ((now or datetime.now(timezone.utc)) - self.since).total_seconds())


# source -> request id -> InFlight. The daemon reads it to show "waiting on <endpoint> for N s"
# in `deskwatch status` (connectors build their own clients, so the daemon cannot ask one).
_IN_FLIGHT: dict[str, dict[int, InFlight]] = {}
_ids = itertools.count(1)


def waiting_on(source: str) -> InFlight | None:
    """The oldest request ``source`` is waiting on right now, or None."""
    pending = _IN_FLIGHT.get(source)
    return min(pending.values(), key=lambda w: w.since) if pending else None


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
        request_deadline: float = DEFAULT_REQUEST_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ):
        self.client = client
        self.request_deadline = request_deadline
        self.max_response_bytes = max_response_bytes
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

    async def _exchange(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send the request and read its body as a stream, refusing it past ``max_response_bytes``
        so a huge reply never sits in memory whole."""
        send_kw = {k: kwargs.pop(k) for k in _SEND_ARGS if k in kwargs}
        request = self.client.build_request(method, url, **kwargs)
        response = await self.client.send(request, stream=True, **send_kw)
        try:
            limit = self.max_response_bytes
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise self._too_large(url, f"it announces {_size(int(declared))}")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise self._too_large(url, "it kept coming past that")
                chunks.append(chunk)
            response._content = b"".join(chunks)  # what .read() would set; .json()/.text use it
        finally:
            await response.aclose()
        return response

    def _too_large(self, url: str, why: str) -> ResponseTooLarge:
        return ResponseTooLarge(
            redact(f"the response to {self._where(url)} is over max_response_bytes ({_size(self.max_response_bytes)}): "
                   f"{why}; refused. Raise max_response_bytes in the source's settings if this API really sends "
                   "bodies that large, or lower page_size", self.secrets),
            source=self.source,
        )

    async def _send_once(self, method: str, url: str, *, retry_ambiguous: bool, spent: list[float], **kwargs: Any) -> httpx.Response:
        if self.budget is not None:
            await self.budget.acquire()
        self.attempts += 1
        token = next(_ids)
        _IN_FLIGHT.setdefault(self.source, {})[token] = InFlight(self.source, f"{method} {self._path(url)}", datetime.now(timezone.utc))
        started = time.monotonic()
        try:
            # httpx's timeouts bound each connect and read; this bounds the time spent waiting
            # on the server over all attempts of one request (waits between attempts are not
            # counted), so a server that accepts and never answers, or drips a byte at a time,
            # cannot hold the source for longer than request_deadline.
            remaining = self.request_deadline - spent[0]
            if remaining <= 0:
                raise asyncio.TimeoutError
            response = await asyncio.wait_for(self._exchange(method, url, **kwargs), remaining)
        except asyncio.TimeoutError:
            # Not retried here: each retry would hold the source for another deadline. The
            # daemon logs it, shows it in status, and tries the source again after its backoff.
            err = TransientError(
                redact(f"no complete answer from {method} {self._where(url)} within {self.request_deadline:g} s "
                       f"(request_deadline); the server is not answering, or answering too slowly", self.secrets),
                source=self.source,
            )
            log.warning("%s", err)
            raise err from None
        except httpx.ConnectError as e:
            # Never sent: safe to retry whatever the method.
            raise _Retryable(TransientError(redact(f"cannot connect to {self._where(url)}: {e}", self.secrets), source=self.source)) from None
        except httpx.TimeoutException as e:
            err = TransientError(redact(f"timed out talking to {self._where(url)} ({type(e).__name__} after "
                                        f"{time.monotonic() - started:.0f} s)", self.secrets), source=self.source)
            log.warning("%s", err)
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
        finally:
            spent[0] += time.monotonic() - started
            pending = _IN_FLIGHT.get(self.source, {})
            pending.pop(token, None)
            if not pending:
                _IN_FLIGHT.pop(self.source, None)
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

    def _path(self, url: str) -> str:
        """The path of ``url`` (no host, no query string: it can hold credentials)."""
        try:
            return redact(self.client.base_url.join(url).path)
        except Exception:
            return redact(url.split("?", 1)[0])

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

        spent = [0.0]  # seconds spent waiting on the server, all attempts together
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
                    return await self._send_once(method, url, retry_ambiguous=retry_ambiguous, spent=spent, **kwargs)
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
            redact(f"{problem}: {body_excerpt(response, 120, secrets)}", secrets),
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
    request_deadline: float = DEFAULT_REQUEST_DEADLINE,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> ApiClient:
    """The default ``ClientFactory``: an ApiClient for ``base_url``. Tests pass
    ``functools.partial(make_api_client, sleep=instant)`` so retries take no time."""
    secrets = tuple(secrets) + tuple(auth_secrets(auth))
    client = make_client(base_url, auth=auth, headers=headers, timeout=timeout, transport=transport)
    # Without a budget of its own the client still records the quota the server reports.
    budget = budget if budget is not None else RateBudget(sleep=sleep)
    return ApiClient(client, retry=retry, classifier=classifier, budget=budget, sleep=sleep, secrets=secrets, source=source,
                     request_deadline=request_deadline, max_response_bytes=max_response_bytes)


def client_factory(**defaults: Any) -> Callable[..., ApiClient]:
    """A ClientFactory with some arguments fixed, e.g. ``client_factory(sleep=no_sleep)``."""

    def factory(base_url: str, **kwargs: Any) -> ApiClient:
        return make_api_client(base_url, **{**defaults, **kwargs})

    return factory


async def no_sleep(seconds: float) -> None:
    """A sleep that returns at once (for tests); still yields to the event loop."""
    await asyncio.sleep(0)


DEFAULT_QUOTA_RESERVE = 0.1  # a tenth of the quota stays free for the account's other integrations


@dataclass(frozen=True)
class HttpSettings:
    """The HTTP keys every connector accepts in ``[sources.<name>]``."""

    base_url: str
    timeout: float
    retry: RetryPolicy
    requests_per_minute: float | None
    request_deadline: float = DEFAULT_REQUEST_DEADLINE
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    quota_reserve: float = DEFAULT_QUOTA_RESERVE  # share of the account's quota left to other integrations

    KEYS = ("base_url", "timeout", "max_attempts", "max_retry_wait", "requests_per_minute",
            "request_deadline", "max_response_bytes", "quota_reserve")


def http_limits(section: Section) -> dict[str, Any]:
    """``request_deadline`` (seconds one request may wait on the server, connect to last byte,
    all its attempts together) and
    ``max_response_bytes``, as keyword arguments for ``make_api_client``; only the keys the
    section sets, so a client factory that does not know them is not handed them needlessly."""
    limits: dict[str, Any] = {}
    if section.has("request_deadline"):
        limits["request_deadline"] = section.number("request_deadline", DEFAULT_REQUEST_DEADLINE, min=0.1)
    if section.has("max_response_bytes"):
        limits["max_response_bytes"] = section.integer("max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES, min=1024)
    return limits


def http_settings(section: Section, *, default_base_url: str | None = None) -> HttpSettings:
    """Read ``base_url`` (required unless a default is given; lets a connector talk to any
    compatible server such as the simulator), ``timeout``, ``max_attempts``,
    ``max_retry_wait``, ``requests_per_minute``, ``request_deadline`` and ``max_response_bytes``."""
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
        quota_reserve=section.number("quota_reserve", DEFAULT_QUOTA_RESERVE, min=0.0, max=0.9),
        **http_limits(section),
    )


def _size(n: int) -> str:
    """A byte count for a person: 52428800 -> "50 MB"."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.4g} {unit}"
    return f"{n} bytes"
