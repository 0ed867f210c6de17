"""An in-memory Example Desk server, for tests: install ``FakeExampleDesk.handle`` as an
httpx mock callback (pytest-httpx: ``httpx_mock.add_callback(fake.handle, is_reusable=True)``).

It implements what deskwatch's conformance suite asks of a fake API (``add_tickets``,
``fail_next``, ``reject_auth``, ``secret``), and keeps real semantics: ordering by
(updated_at, id), cursors, updates that bump updated_at.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from deskwatch.core.connect.kit import format_time


class FakeExampleDesk:
    def __init__(self, base_url: str = "https://desk.example.test", secret: str = "ex-key-0123456789"):
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.reject_auth = False
        self.tickets: dict[int, dict[str, Any]] = {}
        self.failures: list[tuple[int, dict[str, str], str]] = []
        self.writes: list[tuple[str, str]] = []  # (method, path) of every accepted write
        self.clock = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
        self._next_id = 1

    # -- what the conformance suite uses ------------------------------------------------------
    def add_tickets(self, count: int, *, start: datetime, step: timedelta) -> list[str]:
        """Seed ``count`` tickets updated at start, start+step, …; returns their native ids."""
        ids = []
        for i in range(count):
            at = start + i * step
            tid = self._next_id
            self._next_id += 1
            self.tickets[tid] = {
                "id": tid, "subject": f"Ticket {tid}", "status": "open", "priority": "normal",
                "requester_email": f"user{tid}@customer.example", "tags": [], "group": None, "assignee": None,
                "created_at": format_time(at), "updated_at": format_time(at),
                "messages": [{"author": "customer", "created_at": format_time(at), "body": f"Help with {tid}", "public": True}],
            }
            self.clock = max(self.clock, at)
            ids.append(str(tid))
        return ids

    def fail_next(self, status: int, headers: dict[str, str] | None = None, body: str = "") -> None:
        """Answer the next request with this status instead of serving it."""
        self.failures.append((status, dict(headers or {}), body))

    # -- the server -------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.failures:
            status, headers, body = self.failures.pop(0)
            return httpx.Response(status, headers=headers, text=body)
        if self.reject_auth or request.headers.get("X-Api-Key") != self.secret:
            return httpx.Response(401, json={"error": "invalid api key"})
        path = request.url.path
        parts = path.strip("/").split("/")
        if request.method == "GET" and path == "/api/me":
            return httpx.Response(200, json={"user": {"email": "agent@desk.example.test"}})
        if request.method == "GET" and path == "/api/tickets":
            return self._list(request)
        if len(parts) >= 3 and parts[:2] == ["api", "tickets"] and parts[2].isdigit():
            tid = int(parts[2])
            if tid not in self.tickets:
                return httpx.Response(404, json={"error": f"ticket {tid} not found"})
            if request.method == "GET" and len(parts) == 3:
                return httpx.Response(200, json={"ticket": self.tickets[tid]})
            if request.method == "PUT" and len(parts) == 3:
                return self._update(tid, json.loads(request.content))
            if request.method == "POST" and parts[3:] == ["notes"]:
                return self._note(tid, json.loads(request.content))
        return httpx.Response(404, json={"error": f"no route {request.method} {path}"})

    def _list(self, request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after", "")
        limit = int(request.url.params.get("limit", "100"))
        key_after = _key(after) if after else ("", 0)
        ordered = sorted(self.tickets.values(), key=lambda t: (t["updated_at"], t["id"]))
        rest = [t for t in ordered if (t["updated_at"], t["id"]) > key_after]
        page = rest[:limit]
        more = len(rest) > limit
        return httpx.Response(200, json={"tickets": page, "next": f"{page[-1]['updated_at']}|{page[-1]['id']}" if more else None},
                              headers={"X-Rate-Limit": "100", "X-Rate-Limit-Remaining": "99"})

    def _touch(self, tid: int) -> None:
        self.clock += timedelta(seconds=1)
        self.tickets[tid]["updated_at"] = format_time(self.clock)

    def _update(self, tid: int, body: dict[str, Any]) -> httpx.Response:
        t = self.tickets[tid]
        for k in ("priority", "status", "group", "assignee", "tags"):
            if k in body:
                t[k] = body[k]
        self._touch(tid)
        self.writes.append(("PUT", f"/api/tickets/{tid}"))
        return httpx.Response(200, json={"ticket": t})

    def _note(self, tid: int, body: dict[str, Any]) -> httpx.Response:
        note = {"author": "agent", "created_at": format_time(self.clock), "body": body.get("body", ""), "public": False}
        self.tickets[tid]["messages"].append(note)
        self._touch(tid)
        self.writes.append(("POST", f"/api/tickets/{tid}/notes"))
        return httpx.Response(201, json={"note": note})


def _key(cursor: str) -> tuple[str, int]:
    at, _, tid = cursor.partition("|")
    return at, int(tid or 0)
