"""The simulator's HTTP layer: a request/response model, fault injection, rate limits, and a
threaded stdlib server per helpdesk on 127.0.0.1.

Each helpdesk gets its own port so that the real connectors talk to it unchanged through their
``base_url`` setting. Handlers are plain functions of a ``SimRequest``; everything a test needs
to prove exactly-once write-back is in the ``Recorder``.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit


@dataclass
class SimRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        if not self.body:
            return {}
        return json.loads(self.body.decode("utf-8"))


@dataclass
class SimResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: Any, headers: dict[str, str] | None = None) -> "SimResponse":
        h = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return cls(status, json.dumps(data).encode("utf-8"), h)

    @classmethod
    def text(cls, status: int, text: str, headers: dict[str, str] | None = None) -> "SimResponse":
        return cls(status, text.encode("utf-8"), {"Content-Type": "text/plain; charset=utf-8", **(headers or {})})


class Drop(Exception):
    """Close the connection without answering (a dropped connection fault)."""


@dataclass
class Faults:
    """Fault injection for one helpdesk. Rates are probabilities per request."""

    error_rate: float = 0.0  # answer 500/503
    burst_429_rate: float = 0.0  # start a burst of rate-limit answers
    burst_length: int = 3
    slow_rate: float = 0.0
    slow_seconds: float = 0.5
    malformed_rate: float = 0.0  # a 200 whose body is cut short
    drop_rate: float = 0.0  # close the connection without answering
    # A write (any method but GET/HEAD) is applied, then the connection closes without an
    # answer: the client cannot tell whether it landed and must settle it by reading.
    lost_rate: float = 0.0
    seed: int = 0


@dataclass
class UpdateRecord:
    """One write the simulator received: what tests compare to prove exactly-once write-back."""

    helpdesk: str
    ticket_id: str  # native id
    kind: str  # update | note | bulk_update
    payload: dict
    at: datetime


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.updates: list[UpdateRecord] = []
        self.requests: dict[str, int] = {}
        self.lost: dict[str, int] = {}  # writes applied whose answer was dropped (lost_rate)
        self.credits: dict[str, int] = {}  # what the helpdesk charged: includes cost extra credits

    def record(self, rec: UpdateRecord) -> None:
        with self._lock:
            self.updates.append(rec)

    def count_request(self, helpdesk: str) -> None:
        with self._lock:
            self.requests[helpdesk] = self.requests.get(helpdesk, 0) + 1

    def count_lost(self, helpdesk: str) -> None:
        with self._lock:
            self.lost[helpdesk] = self.lost.get(helpdesk, 0) + 1
    def count_credits(self, helpdesk: str, credits: int) -> None:
        with self._lock:
            self.credits[helpdesk] = self.credits.get(helpdesk, 0) + credits

    def for_helpdesk(self, helpdesk: str) -> list[UpdateRecord]:
        with self._lock:
            return [u for u in self.updates if u.helpdesk == helpdesk]


class RateWindow:
    """A sliding one-minute window: at most ``per_minute`` requests (0 = unlimited)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self.hits: deque[float] = deque()
        self.lock = threading.Lock()

    def take(self, cost: int = 1) -> float:
        """Record a request costing ``cost`` slots (credits); returns 0 when allowed, else the
        seconds until enough slots free."""
        if self.per_minute <= 0:
            return 0.0
        cost = max(1, min(cost, self.per_minute))
        with self.lock:
            now = self.clock()
            while self.hits and now - self.hits[0] >= 60:
                self.hits.popleft()
            if len(self.hits) + cost > self.per_minute:
                return max(0.01, 60 - (now - self.hits[len(self.hits) + cost - self.per_minute - 1]))
            self.hits.extend([now] * cost)
            return 0.0

    @property
    def remaining(self) -> int:
        if self.per_minute <= 0:
            return 1_000_000
        with self.lock:
            now = self.clock()
            return max(0, self.per_minute - sum(1 for h in self.hits if now - h < 60))


Route = tuple[str, re.Pattern[str], Callable[..., SimResponse]]


class HelpdeskApp:
    """Dispatch, faults and rate limits shared by the three helpdesk adapters."""

    name = "helpdesk"

    def __init__(self, faults: Faults, rate_per_minute: int, recorder: Recorder):
        self.faults = faults
        self.rng = random.Random(faults.seed)
        self.window = RateWindow(rate_per_minute)
        self.recorder = recorder
        self.lock = threading.RLock()  # adapters mutate shared state from server threads
        self._burst_left = 0
        self.routes: list[Route] = []
        self.unmetered: set[str] = set()  # paths outside the API quota (OAuth token requests)

    def add(self, method: str, pattern: str, handler: Callable[..., SimResponse]) -> None:
        self.routes.append((method, re.compile(pattern + r"/?$"), handler))

    # Subclasses answer these in their helpdesk's own words.
    def rate_limited(self, retry_after: float) -> SimResponse:
        return SimResponse.text(429, "Too Many Requests", {"Retry-After": str(max(1, round(retry_after)))})

    def server_error(self) -> SimResponse:
        return SimResponse.json(503, {"error": "ServiceUnavailable", "description": "Simulated outage"})

    def not_found(self, req: SimRequest) -> SimResponse:
        return SimResponse.json(404, {"error": "RecordNotFound", "description": f"No route for {req.method} {req.path}"})

    def authenticate(self, req: SimRequest) -> SimResponse | None:
        return None

    def extra_headers(self) -> dict[str, str]:
        return {}

    def cost(self, req: SimRequest) -> int:
        """What a request costs against the quota; 1 unless the helpdesk charges more."""
        return 1

    def limited(self, req: SimRequest) -> float:
        """Seconds to wait from a limit of the endpoint's own (0: none hit)."""
        return 0.0

    def charge_headers(self, cost: int) -> dict[str, str]:
        return {}

    def handle(self, req: SimRequest) -> SimResponse:
        self.recorder.count_request(self.name)
        f = self.faults
        with self.lock:
            roll = self.rng.random
            if f.drop_rate and roll() < f.drop_rate:
                raise Drop()
            if f.slow_rate and roll() < f.slow_rate:
                time.sleep(f.slow_seconds)
            if self._burst_left == 0 and f.burst_429_rate and roll() < f.burst_429_rate:
                self._burst_left = f.burst_length
            if self._burst_left > 0:
                self._burst_left -= 1
                return self.rate_limited(1)
            if f.error_rate and roll() < f.error_rate:
                return self.server_error()
            malformed = bool(f.malformed_rate and roll() < f.malformed_rate)
            lost = req.method not in ("GET", "HEAD") and bool(f.lost_rate and roll() < f.lost_rate)
        cost = 0 if req.path in self.unmetered else self.cost(req)
        wait = (self.limited(req) or self.window.take(cost)) if cost else 0.0
        if wait:
            return self.rate_limited(wait)
        denied = self.authenticate(req)
        if denied is not None:
            return denied
        for method, pattern, handler in self.routes:
            m = pattern.match(req.path)
            if m and method == req.method:
                with self.lock:
                    resp = handler(req, *m.groups())
                break
        else:
            resp = self.not_found(req)
        if lost and resp.status < 300:
            self.recorder.count_lost(self.name)
            raise Drop()  # the write is applied; only its answer goes missing
        resp.headers.update(self.extra_headers())
        if cost:
            self.recorder.count_credits(self.name, cost)
            resp.headers.update(self.charge_headers(cost))
        if malformed and resp.status == 200 and resp.body:
            resp.body = resp.body[: max(1, len(resp.body) // 2)]
        return resp


def serve(app: HelpdeskApp, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Start ``app`` on a background thread; returns the server (``server_address`` has the port)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle's algorithm the body then waits for
        # the client's delayed ACK (40 ms on Linux loopback) on every keep-alive request.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            req = SimRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            try:
                resp = app.handle(req)
            except Drop:
                self.close_connection = True
                try:
                    self.connection.shutdown(2)
                except OSError:
                    pass
                return
            except Exception as e:  # a simulator bug must not look like a hang to the client
                resp = SimResponse.json(500, {"error": "SimulatorError", "description": f"{type(e).__name__}: {e}"})
            self.send_response(resp.status)
            for k, v in resp.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the demo owns the terminal
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            # A client that hangs up mid-request (or a dropped-connection fault) is normal here.
            import sys

            if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
                super().handle_error(request, client_address)

    server = Server((host, port), Handler)
    threading.Thread(target=server.serve_forever, name=f"sim-{app.name}", daemon=True).start()
    return server


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
