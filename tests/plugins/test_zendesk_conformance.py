"""The deskwatch connector conformance suite, run on the Zendesk connector against a small
in-memory Zendesk (cursor export keyed on (generated_timestamp, id), safe_update, tags as
additional/remove, private comments)."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from deskwatch.core.model.settings import Section
from deskwatch.plugins.zendesk import create, parse_settings
from deskwatch.testing import ConnectorConformance, FakeHelpdesk


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode(ts: int, tid: int) -> str:
    return base64.b64encode(f"{ts}.0||{tid}|".encode()).decode()


def decode(cursor: str) -> tuple[int, int]:
    ts, _, rest = base64.b64decode(cursor).decode().partition("||")
    return int(float(ts)), int(rest.strip("|"))


class FakeZendesk(FakeHelpdesk):
    email = "admin@fake.test"

    def __init__(self) -> None:
        super().__init__("https://fake.zendesk.test", "fake-zendesk-token-0042")
        self.tickets: dict[int, dict] = {}
        self.comments: dict[int, list[dict]] = {}
        self._next = 100

    # -- the conformance suite's FakeApi protocol ----------------------------------------------
    def add_tickets(self, count: int, *, start: datetime, step: timedelta) -> list[str]:
        ids = []
        for i in range(count):
            tid, self._next = self._next, self._next + 1
            ts = int((start + i * step).timestamp())
            self.tickets[tid] = {
                "id": tid, "via": {"channel": "web"}, "subject": f"Ticket {tid}", "description": "Help",
                "status": "open", "priority": "normal", "requester_id": 1, "assignee_id": None, "group_id": None,
                "organization_id": None, "tags": [], "created_at": iso(ts), "updated_at": iso(ts), "generated_timestamp": ts,
            }
            self.comments[tid] = [{"id": tid * 10, "author_id": 1, "body": "Help", "public": True, "created_at": iso(ts)}]
            ids.append(str(tid))
        return ids

    # -- the optional parts the change tests use ---------------------------------------------------
    def _stamp(self, tid: int) -> None:
        ts = max(x["generated_timestamp"] for x in self.tickets.values()) + 60
        self.tickets[tid]["updated_at"], self.tickets[tid]["generated_timestamp"] = iso(ts), ts

    def change_ticket(self, native_id: str) -> None:
        self._stamp(int(native_id))

    def delete_ticket(self, native_id: str) -> None:
        self.tickets[int(native_id)]["status"] = "deleted"
        self._stamp(int(native_id))

    def set_ticket_status(self, native_id: str, status: str) -> None:
        self.tickets[int(native_id)]["status"] = status
        self._stamp(int(native_id))

    def ticket_notes(self, native_id: str) -> list[str]:
        return [c["body"] for c in self.comments[int(native_id)] if not c.get("public", True)]

    def ticket_escalated(self, native_id: str) -> bool:
        return "escalated" in self.tickets[int(native_id)]["tags"]

    # -- the API -------------------------------------------------------------------------------
    def authorized(self, request: httpx.Request) -> bool:
        good = "Basic " + base64.b64encode(f"{self.email}/token:{self.secret}".encode()).decode()
        return request.headers.get("authorization") == good

    def unauthorized(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "Couldn't authenticate you"})

    def serve(self, request: httpx.Request) -> httpx.Response:
        path, q = request.url.path, request.url.params
        if path == "/api/v2/users/me.json":
            return httpx.Response(200, json={"user": {"id": 1, "name": "Admin", "role": "admin"}})
        if path == "/api/v2/incremental/tickets/cursor.json":
            after = decode(q["cursor"]) if "cursor" in q else (int(q["start_time"]) - 1, 10**12)
            rows = sorted((t["generated_timestamp"], tid) for tid, t in self.tickets.items())
            rows = [r for r in rows if r > after]
            page = rows[: int(q.get("per_page", 1000))]
            cursor = encode(*(page[-1] if page else after))
            return httpx.Response(200, json={
                "tickets": [self.tickets[tid] for _, tid in page], "after_cursor": cursor, "before_cursor": None,
                "end_of_stream": len(rows) <= len(page),
            })
        m = re.fullmatch(r"/api/v2/tickets/(\d+)(/comments)?\.json", path)
        if not m or int(m.group(1)) not in self.tickets:
            return httpx.Response(404, json={"error": "RecordNotFound", "description": "Not found"})
        tid = int(m.group(1))
        if m.group(2):
            return httpx.Response(200, json={"comments": self.comments[tid], "meta": {"has_more": False, "after_cursor": None}})
        if request.method == "GET":
            return httpx.Response(200, json={"ticket": self.tickets[tid]})
        return self.update(tid, json.loads(request.content)["ticket"])

    def update(self, tid: int, data: dict) -> httpx.Response:
        t = self.tickets[tid]
        if data.get("safe_update") and data.get("updated_stamp") != t["updated_at"]:
            return httpx.Response(409, json={"error": "UpdateConflict"})
        for key in ("priority", "status", "group_id", "assignee_id"):
            if key in data:
                t[key] = data[key]
        t["tags"] = [x for x in [*t["tags"], *(a for a in data.get("additional_tags", []) if a not in t["tags"])]
                     if x not in data.get("remove_tags", [])]
        ts = max(x["generated_timestamp"] for x in self.tickets.values()) + 60
        if data.get("comment"):
            self.comments[tid].append({"id": ts, "author_id": 2, "body": data["comment"]["body"],
                                       "public": data["comment"].get("public", True), "created_at": iso(ts)})
        t["updated_at"], t["generated_timestamp"] = iso(ts), ts
        return httpx.Response(200, json={"ticket": t, "audit": {"events": []}})


class TestZendeskConformance(ConnectorConformance):
    status_cases = {"new": "new", "hold": "on_hold", "pending": "pending", "solved": "solved", "closed": "closed"}

    @pytest.fixture
    def fake_api(self, httpx_mock):
        return FakeZendesk().install(httpx_mock)

    @pytest.fixture
    def connector_factory(self, fake_api):
        settings = parse_settings(
            Section(
                {"base_url": fake_api.base_url, "email": fake_api.email, "token": fake_api.secret, "page_size": 2,
                 "start_time": "2026-01-01T00:00:00Z"},
                "sources.test",
            )
        )
        return lambda client_factory: create("test", settings, client_factory)
