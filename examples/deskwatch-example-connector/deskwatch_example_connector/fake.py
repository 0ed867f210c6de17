"""An in-memory Example Desk server, for tests, built on deskwatch's ``FakeHelpdesk``
(queued failures, auth rejection, a clock). Install it with ``FakeExampleDesk().install(httpx_mock)``.

It implements what deskwatch's conformance suite asks of a fake API (``add_tickets``,
``fail_next``, ``reject_auth``, ``secret``) and the optional parts (``change_ticket``,
``delete_ticket``, ``set_ticket_status``, ``ticket_notes``, ``ticket_escalated``), and keeps real semantics: ordering by
(updated_at, id), cursors, updates that bump updated_at.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx

from deskwatch.core.connect.kit import format_time
from deskwatch.testing import FakeHelpdesk


class FakeExampleDesk(FakeHelpdesk):
    def __init__(self, base_url: str = "https://desk.example.test", secret: str = "ex-key-0123456789"):
        super().__init__(base_url, secret)
        self.tickets: dict[int, dict[str, Any]] = {}
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
            self.clock.at_least(at)
            ids.append(str(tid))
        return ids

    def change_ticket(self, native_id: str) -> None:
        """An agent changes the ticket now (after every other change)."""
        self._touch(int(native_id))

    def delete_ticket(self, native_id: str) -> None:
        """The ticket is deleted: it stays in the listing as a ``deleted`` row (a tombstone)."""
        self.tickets[int(native_id)]["status"] = "deleted"
        self._touch(int(native_id))

    def set_ticket_status(self, native_id: str, status: str) -> None:
        self.tickets[int(native_id)]["status"] = status
        self._touch(int(native_id))

    def ticket_notes(self, native_id: str) -> list[str]:
        return [m["body"] for m in self.tickets[int(native_id)]["messages"] if not m.get("public", True)]

    def ticket_escalated(self, native_id: str) -> bool:
        return "escalated" in self.tickets[int(native_id)]["tags"]

    # -- the server -------------------------------------------------------------------------
    def authorized(self, request: httpx.Request) -> bool:
        return request.headers.get("X-Api-Key") == self.secret

    def unauthorized(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid api key"})

    def serve(self, request: httpx.Request) -> httpx.Response:
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
        self.tickets[tid]["updated_at"] = format_time(self.clock.tick())

    def _update(self, tid: int, body: dict[str, Any]) -> httpx.Response:
        t = self.tickets[tid]
        for k in ("priority", "status", "group", "assignee", "tags"):
            if k in body:
                t[k] = body[k]
        self._touch(tid)
        return httpx.Response(200, json={"ticket": t})

    def _note(self, tid: int, body: dict[str, Any]) -> httpx.Response:
        note = {"author": "agent", "created_at": format_time(self.clock()), "body": body.get("body", ""), "public": False}
        self.tickets[tid]["messages"].append(note)
        self._touch(tid)
        return httpx.Response(201, json={"note": note})


def _key(cursor: str) -> tuple[str, int]:
    at, _, tid = cursor.partition("|")
    return at, int(tid or 0)
