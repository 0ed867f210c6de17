"""A reusable base for the in-memory helpdesk a connector's tests talk to.

Subclass ``FakeHelpdesk``, implement ``serve(request)`` (your API's routes over your own
tickets) and ``authorized(request)`` (does the request carry ``self.secret`` the way your API
wants it?), and install it on pytest-httpx::

    class FakeMyDesk(FakeHelpdesk):
        def authorized(self, request):
            return request.headers.get("X-Api-Key") == self.secret

        def serve(self, request):
            ...                                   # return an httpx.Response

    fake = FakeMyDesk("https://desk.example.test", "key-123").install(httpx_mock)

What the base gives every fake:

* **Queued failures** (``fail_next``): answer the next request, or the next one that matches a
  method, a path pattern or "writes only", with a status instead of serving it; with
  ``land=True`` the request is served (the write lands) and only its answer is replaced: the
  "answer lost" case that exactly-once updates must survive.
* **Auth rejection**: ``reject_auth = True`` answers every request with ``unauthorized()``
  (401 unless you override it).
* **A clock** (``FakeClock``): ``clock.tick()`` gives a time later than any before, for
  ``updated_at`` stamps; ``clock.advance(seconds)`` moves it on.
* **A log**: ``requests`` (every request seen) and ``writes`` (every write served, as
  ``(method, path)``), for tests that count calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class FakeClock:
    """The fake helpdesk's time: moves only when told to (``advance``) or when a change needs
    a stamp later than every earlier one (``tick``)."""

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(seconds=1)):
        self.now = start or datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
        self.step = step

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def tick(self) -> datetime:
        """A stamp for a change made now: one step after the previous one."""
        self.now += self.step
        return self.now

    def at_least(self, at: datetime) -> None:
        """Never behind ``at`` (seeding tickets in the past or future moves the clock along)."""
        self.now = max(self.now, at)


@dataclass
class QueuedFailure:
    """One queued answer; see ``FakeHelpdesk.fail_next``."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str | bytes | Any = ""
    method: str | None = None
    path: re.Pattern[str] | None = None
    writes_only: bool = False
    land: bool = False
    after: int = 0  # matching requests to let through first

    def matches(self, request: httpx.Request) -> bool:
        if self.method is not None and request.method != self.method:
            return False
        if self.writes_only and request.method not in WRITE_METHODS:
            return False
        return self.path is None or bool(self.path.search(request.url.path))

    def response(self) -> httpx.Response:
        if isinstance(self.body, (dict, list)):
            return httpx.Response(self.status, headers=self.headers, json=self.body)
        if isinstance(self.body, bytes):
            return httpx.Response(self.status, headers=self.headers, content=self.body)
        return httpx.Response(self.status, headers=self.headers, text=str(self.body))


class FakeHelpdesk:
    """Base of an in-memory helpdesk API for connector tests (see the module docstring)."""

    def __init__(self, base_url: str = "https://desk.example.test", secret: str = "fake-key-0123456789",
                 clock: FakeClock | None = None):
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.reject_auth = False
        self.clock = clock or FakeClock()
        self.failures: list[QueuedFailure] = []
        self.requests: list[httpx.Request] = []
        self.writes: list[tuple[str, str]] = []

    # -- to implement ---------------------------------------------------------------------------
    def serve(self, request: httpx.Request) -> httpx.Response:
        """Answer one authorized request (your API's routes)."""
        raise NotImplementedError("FakeHelpdesk subclasses implement serve(request)")

    def authorized(self, request: httpx.Request) -> bool:
        """Whether the request carries valid credentials (default: any request is)."""
        return True

    def unauthorized(self, request: httpx.Request) -> httpx.Response:
        """The answer to a request with refused credentials."""
        return httpx.Response(401, json={"error": "invalid credentials"})

    # -- given ------------------------------------------------------------------------------------
    def fail_next(self, status: int, headers: dict[str, str] | None = None, body: str | bytes | Any = "", *,
                  method: str | None = None, path: str | None = None, writes_only: bool = False, land: bool = False,
                  after: int = 0) -> None:
        """Answer a coming request with ``status`` (and ``headers``, ``body``) instead of serving
        it. Without ``method``/``path``/``writes_only`` it is the very next request; with them,
        the next request that matches (``path`` is a regular expression searched in the URL
        path). With ``land=True`` the request is served first (a write lands) and only the
        answer is replaced. ``after=n`` lets the first ``n`` matching requests through (fail
        the second write of an update: ``writes_only=True, after=1``). Queued failures are used
        in order, each once."""
        self.failures.append(QueuedFailure(status, dict(headers or {}), body, method.upper() if method else None,
                                           re.compile(path) if path else None, writes_only, land, after))

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The pytest-httpx callback: log, queued failure, auth, then ``serve``."""
        self.requests.append(request)
        failure = next((f for f in self.failures if f.matches(request)), None)
        if failure is not None and failure.after > 0:
            failure.after -= 1
            failure = None
        if failure is not None:
            self.failures.remove(failure)
            if not failure.land:
                return failure.response()
        if self.reject_auth or not self.authorized(request):
            return self.unauthorized(request)
        response = self.serve(request)
        if request.method in WRITE_METHODS and response.status_code < 400:
            self.writes.append((request.method, request.url.path))
        return failure.response() if failure is not None else response

    def install(self, httpx_mock: Any) -> "FakeHelpdesk":
        """Answer every request through ``handle`` (pytest-httpx's ``httpx_mock``); returns self."""
        httpx_mock.add_callback(self.handle, is_reusable=True, is_optional=True)
        return self

    def transport(self) -> httpx.MockTransport:
        """An httpx transport serving through ``handle``, for tests without pytest-httpx."""
        return httpx.MockTransport(self.handle)
