"""A Freshdesk API v2 subset: ticket listing by ``updated_since`` ascending with the Link
header and the page cap, spam/deleted filter passes, conversations, ticket update, private
notes, companies, groups and agents, with X-Ratelimit-* headers. Shapes follow
``shared/api-samples/freshdesk``."""

from __future__ import annotations

import base64
import itertools
from datetime import datetime
from typing import Any, Callable
from urllib.parse import urlencode

from deskwatch.core.simulator.http import Faults, HelpdeskApp, RateWindow, Recorder, SimRequest, SimResponse, UpdateRecord, iso
from deskwatch.core.simulator.world import Conversation, World
from deskwatch.core.model.timeutil import parse_time

PRIORITY_OUT = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
STATUS_OUT = {"new": 2, "open": 2, "pending": 3, "on_hold": 3, "solved": 4, "closed": 5}
INCLUDE_CREDITS = 2  # extra credits per include on GET /api/v2/tickets (Freshdesk API docs)
SOURCE_OUT = {"email": 1, "web": 2, "phone": 3, "chat": 7, "social": 5, "api": 2}
# Per-endpoint sub-limits (calls a minute) below the account's, by plan (its account limit):
# Growth 200, Pro 400, Enterprise 700 (Freshdesk API docs, "Rate Limit"). Another account
# limit gets the Pro shares of it.
SUB_LIMITS = {
    200: {"tickets_list": 20, "ticket_update": 80, "ticket_create": 80},
    400: {"tickets_list": 100, "ticket_update": 160, "ticket_create": 160},
    700: {"tickets_list": 200, "ticket_update": 280, "ticket_create": 280},
}


def sub_limits(per_minute: int) -> dict[str, int]:
    """The per-endpoint sub-limits of an account allowed ``per_minute`` (0: none)."""
    if per_minute <= 0:
        return {}
    return SUB_LIMITS.get(per_minute) or {"tickets_list": max(1, per_minute // 4), "ticket_update": max(1, per_minute * 2 // 5),
                                          "ticket_create": max(1, per_minute * 2 // 5)}


def endpoint(req: SimRequest) -> str | None:
    """Which sub-limited endpoint a request calls, if any."""
    path = req.path.rstrip("/")
    if req.method == "GET" and path == "/api/v2/tickets":
        return "tickets_list"
    if req.method == "PUT" and path.startswith("/api/v2/tickets/") and path.rsplit("/", 1)[-1].isdigit():
        return "ticket_update"
    if req.method == "POST" and path == "/api/v2/tickets":
        return "ticket_create"
    return None


class FreshdeskApp(HelpdeskApp):
    name = "freshdesk"

    def __init__(self, world: World, clock: Callable[[], datetime], faults: Faults, rate_per_minute: int,
                 recorder: Recorder, groups: list[str], agents: list[str], api_key: str | None, page_cap: int = 300):
        super().__init__(faults, rate_per_minute, recorder)
        self.world, self.clock, self.api_key, self.page_cap = world, clock, api_key, page_cap
        self.sub_windows = {name: RateWindow(n) for name, n in sub_limits(rate_per_minute).items()}
        self.ids: dict[str, int] = {}
        self.by_id: dict[int, Conversation] = {}
        self.overlay: dict[int, dict[str, Any]] = {}
        self.group_ids = {name: 43000000 + i for i, name in enumerate(groups, 1)}
        self.agent_ids = {name: 67013400000 + i for i, name in enumerate(agents, 1)}
        self.user_ids: dict[str, int] = {}
        self.company_ids: dict[str, int] = {}
        self._note_ids = itertools.count(9000)
        self.companies_at = clock()  # the world's organizations never change after this
        for method, pattern, fn in [
            ("GET", r"/api/v2/tickets", self.list_tickets),
            ("GET", r"/api/v2/tickets/(\d+)", self.show),
            ("GET", r"/api/v2/tickets/(\d+)/conversations", self.conversations),
            ("GET", r"/api/v2/tickets/(\d+)/satisfaction_ratings", self.satisfaction_ratings),
            ("PUT", r"/api/v2/tickets/(\d+)", self.update),
            ("POST", r"/api/v2/tickets/(\d+)/notes", self.note),
            ("GET", r"/api/v2/companies", self.list_companies),
            ("GET", r"/api/v2/companies/(\d+)", self.company),
            ("GET", r"/api/v2/groups", self.groups),
            ("GET", r"/api/v2/agents", self.agents),
            ("GET", r"/api/v2/agents/me", self.me),
        ]:
            self.add(method, pattern, fn)

    def authenticate(self, req: SimRequest) -> SimResponse | None:
        if self.api_key is None:
            return None
        auth = req.headers.get("authorization", "")
        try:
            ok = auth.startswith("Basic ") and base64.b64decode(auth[6:]).decode().split(":", 1)[0] == self.api_key
        except ValueError:
            ok = False
        if ok:
            return None
        return SimResponse.json(401, {"code": "invalid_credentials", "message": "You have to be logged in to perform this action."})

    def rate_limited(self, retry_after: float) -> SimResponse:
        return SimResponse.json(429, {"code": "too_many_requests", "message": "API rate limit exceeded."},
                                {"Retry-After": str(max(1, round(retry_after)))})

    def server_error(self) -> SimResponse:
        return SimResponse.json(500, {"code": "internal_error", "message": "Simulated server error"})

    def not_found(self, req: SimRequest) -> SimResponse:
        return SimResponse.json(404, {"code": "not_found", "message": f"No route for {req.method} {req.path}"})

    def extra_headers(self) -> dict[str, str]:
        return {"X-Ratelimit-Total": str(self.window.per_minute or 700), "X-Ratelimit-Remaining": str(self.window.remaining),
                "X-Ratelimit-Used-CurrentRequest": "1", "X-Freshdesk-Api-Version": "latest=v2; requested=v2"}

    def cost(self, req: SimRequest) -> int:
        """Credits: 1 a call, plus INCLUDE_CREDITS for each ``include`` on a ticket listing
        (1 on a single ticket), as Freshdesk charges them (X-Ratelimit-Used-CurrentRequest)."""
        includes = [i for i in (req.arg("include", "") or "").split(",") if i]
        if not includes or req.method != "GET":
            return 1
        per = INCLUDE_CREDITS if req.path.rstrip("/") == "/api/v2/tickets" else 1
        return 1 + per * len(includes)

    def limited(self, req: SimRequest) -> float:
        """The endpoint's own sub-limit (a 429 like the account limit's)."""
        window = self.sub_windows.get(endpoint(req) or "")
        return window.take() if window is not None else 0.0

    def charge_headers(self, cost: int) -> dict[str, str]:
        return {"X-Ratelimit-Used-CurrentRequest": str(cost)}

    def sync_world(self) -> None:
        self.world.step(self.clock())
        for c in self.world.for_helpdesk(self.name):
            if c.key not in self.ids:
                tid = len(self.ids) + 1
                self.ids[c.key], self.by_id[tid] = tid, c
                self.overlay[tid] = {"modified": c.updated_at, "notes": [], "tags": list(c.tags)}

    def modified(self, tid: int) -> datetime:
        return max(self.by_id[tid].updated_at, self.overlay[tid]["modified"])

    def _uid(self, email: str) -> int:
        return self.user_ids.setdefault(email, 67042900000 + len(self.user_ids) + 1)

    def _cid(self, key: str) -> int:
        return self.company_ids.setdefault(key, 67001200000 + len(self.company_ids) + 1)

    def ticket_json(self, tid: int, include: set[str]) -> dict[str, Any]:
        c, ov = self.by_id[tid], self.overlay[tid]
        status = ov.get("status", STATUS_OUT.get(c.status, 2))
        d: dict[str, Any] = {
            "cc_emails": [], "fwd_emails": [], "reply_cc_emails": [], "ticket_cc_emails": [], "fr_escalated": False,
            "spam": c.spam, "email_config_id": None, "group_id": ov.get("group_id"),
            "priority": ov.get("priority", PRIORITY_OUT.get(c.priority, 1)), "requester_id": self._uid(c.customer.email),
            "responder_id": ov.get("responder_id"), "source": SOURCE_OUT.get(c.channel, 2),
            "company_id": self._cid(c.customer.org.key), "status": status, "subject": c.subject,
            "association_type": None, "to_emails": None, "product_id": None, "id": tid, "type": None,
            "due_by": None, "fr_due_by": None, "is_escalated": bool(ov.get("is_escalated", False)),
            "custom_fields": {"cf_affected_users": c.affected_users} if c.affected_users else {},
            "created_at": iso(c.created_at), "updated_at": iso(self.modified(tid)),
            "associated_tickets_count": None, "tags": list(ov["tags"]), "nr_due_by": None, "nr_escalated": False,
        }
        if "description" in include:
            d["description"] = f"<div>{c.posts[0].body}</div>"
            d["description_text"] = c.posts[0].body
        if "requester" in include:
            d["requester"] = {"id": self._uid(c.customer.email), "name": c.customer.name, "email": c.customer.email,
                              "mobile": None, "phone": None}
        if "company" in include:
            d["company"] = {"id": self._cid(c.customer.org.key), "name": c.customer.org.name}
        if "stats" in include:
            agent_posts = [p for p in c.posts if p.author == "agent"]
            d["stats"] = {"agent_responded_at": iso(agent_posts[-1].at) if agent_posts else None,
                          "requester_responded_at": None,
                          "first_responded_at": iso(agent_posts[0].at) if agent_posts else None,
                          "status_updated_at": iso(c.updated_at), "reopened_at": None, "resolved_at": None,
                          "closed_at": None, "pending_since": iso(c.updated_at) if status == 3 else None}
        return d

    def list_tickets(self, req: SimRequest) -> SimResponse:
        self.sync_world()
        try:
            per_page = int(req.arg("per_page", "30") or 30)
            page = int(req.arg("page", "1") or 1)
        except ValueError:
            return SimResponse.json(400, {"description": "Validation failed", "errors": [
                {"field": "page", "message": "It should be a/an Positive Integer", "code": "datatype_mismatch"}]})
        if per_page > 100:
            return SimResponse.json(400, {"description": "Validation failed", "errors": [
                {"field": "per_page", "message": "Has to be less than or equal to 100", "code": "invalid_value"}]})
        if page > self.page_cap:
            return SimResponse.json(400, {"description": "Validation failed", "errors": [
                {"field": "page", "message": f"You cannot access pages beyond {self.page_cap}", "code": "invalid_value"}]})
        flt = req.arg("filter")
        since = req.arg("updated_since")
        rows = list(self.by_id)
        if flt == "deleted":
            rows = [t for t in rows if self.by_id[t].deleted]
        elif flt == "spam":
            rows = [t for t in rows if self.by_id[t].spam]
        else:
            rows = [t for t in rows if not self.by_id[t].deleted and not self.by_id[t].spam]
        if since:
            try:
                floor = parse_time(since)
            except ValueError:
                return SimResponse.json(400, {"description": "Validation failed", "errors": [
                    {"field": "updated_since", "message": "It should be in the 'valid date time' format", "code": "invalid_value"}]})
            rows = [t for t in rows if self.modified(t) >= floor]
        else:  # Freshdesk's quiet default: only tickets created in the past 30 days
            rows = [t for t in rows if (self.clock() - self.by_id[t].created_at).days < 30]
        key = req.arg("order_by", "created_at")
        desc = req.arg("order_type", "desc") == "desc"
        stamp = (lambda t: self.modified(t)) if key == "updated_at" else (lambda t: self.by_id[t].created_at)
        rows.sort(key=lambda t: (stamp(t), t), reverse=desc)
        chunk = rows[(page - 1) * per_page: page * per_page]
        include = set((req.arg("include", "") or "").split(","))
        headers = {}
        if page * per_page < len(rows) and page < self.page_cap:
            q = {k: v[0] for k, v in req.query.items()}
            q["page"] = str(page + 1)
            headers["link"] = f"<http://{req.headers.get('host')}/api/v2/tickets?{urlencode(q)}>; rel=\"next\""
        return SimResponse.json(200, [self.ticket_json(t, include) for t in chunk], headers)

    def _find(self, tid: str) -> int | SimResponse:
        self.sync_world()
        t = int(tid)
        if t not in self.by_id:
            return SimResponse.json(404, {"code": "not_found", "message": "Ticket not found"})
        return t

    def show(self, req: SimRequest, tid: str) -> SimResponse:
        t = self._find(tid)
        if isinstance(t, SimResponse):
            return t
        return SimResponse.json(200, self.ticket_json(t, set((req.arg("include", "") or "").split(",")) | {"description"}))

    def conversations(self, req: SimRequest, tid: str) -> SimResponse:
        t = self._find(tid)
        if isinstance(t, SimResponse):
            return t
        c, ov = self.by_id[t], self.overlay[t]
        items = []
        for i, p in enumerate(c.posts[1:], 1):  # the first post is the ticket's description
            incoming = p.author == "customer"
            items.append({"body": f"<div>{p.body}</div>", "body_text": p.body, "id": t * 1000 + i, "incoming": incoming,
                          "private": False, "user_id": self._uid(c.customer.email) if incoming else 67013400000,
                          "support_email": None, "source": 0, "ticket_id": t, "to_emails": [],
                          "from_email": c.customer.email if incoming else None, "cc_emails": [], "bcc_emails": [],
                          "created_at": iso(p.at), "updated_at": iso(p.at), "attachments": []})
        items.extend(ov["notes"])
        items.sort(key=lambda x: (x["created_at"], x["id"]))
        per_page = min(int(req.arg("per_page", "30") or 30), 100)
        page = int(req.arg("page", "1") or 1)
        headers = {}
        if page * per_page < len(items):
            headers["link"] = (f"<http://{req.headers.get('host')}/api/v2/tickets/{t}/conversations?"
                               f"page={page + 1}&per_page={per_page}>; rel=\"next\"")
        return SimResponse.json(200, items[(page - 1) * per_page: page * per_page], headers)

    def satisfaction_ratings(self, req: SimRequest, tid: str) -> SimResponse:
        """The ticket's survey answers (core/simulator/team.py has customers rate resolved tickets)."""
        t = self._find(tid)
        if isinstance(t, SimResponse):
            return t
        return SimResponse.json(200, list(self.overlay[t].get("ratings", [])))

    def update(self, req: SimRequest, tid: str) -> SimResponse:
        t = self._find(tid)
        if isinstance(t, SimResponse):
            return t
        try:
            data = req.json()
        except ValueError:
            return SimResponse.json(400, {"description": "Validation failed", "errors": [
                {"field": "body", "message": "Invalid JSON", "code": "invalid_json"}]})
        errors = []
        if "priority" in data and data["priority"] not in (1, 2, 3, 4):
            errors.append({"field": "priority", "message": "It should be one of these values: '1,2,3,4'", "code": "invalid_value"})
        if "status" in data and data["status"] not in (2, 3, 4, 5, 6, 7):
            errors.append({"field": "status", "message": "It should be one of these values: '2,3,4,5'", "code": "invalid_value"})
        if data.get("group_id") is not None and data["group_id"] not in self.group_ids.values():
            errors.append({"field": "group_id", "message": "There is no group matching the given group_id", "code": "invalid_value"})
        allowed = {"priority", "status", "group_id", "responder_id", "tags", "type", "custom_fields", "subject"}
        errors += [{"field": k, "message": "Unexpected/invalid field in request", "code": "invalid_field"} for k in data if k not in allowed]
        if errors:
            return SimResponse.json(400, {"description": "Validation failed", "errors": errors})
        ov = self.overlay[t]
        for k in ("priority", "status", "group_id", "responder_id"):
            if k in data:
                ov[k] = data[k]
        if "tags" in data:
            ov["tags"] = list(dict.fromkeys(data["tags"]))
        ov["modified"] = max(self.clock(), self.modified(t))
        self.recorder.record(UpdateRecord(self.name, str(t), "update", data, self.clock()))
        return SimResponse.json(200, self.ticket_json(t, {"description"}))

    def note(self, req: SimRequest, tid: str) -> SimResponse:
        t = self._find(tid)
        if isinstance(t, SimResponse):
            return t
        data = req.json()
        if not data.get("body"):
            return SimResponse.json(400, {"description": "Validation failed", "errors": [
                {"field": "body", "message": "It should not be blank as this is a mandatory field", "code": "missing_field"}]})
        now = iso(self.clock())
        note = {"body": data["body"], "body_text": data["body"], "id": next(self._note_ids), "incoming": False,
                "private": bool(data.get("private", True)), "user_id": 67013400000, "support_email": None, "source": 2,
                "ticket_id": t, "to_emails": [], "from_email": None, "cc_emails": [], "bcc_emails": [],
                "created_at": now, "updated_at": now, "attachments": []}
        self.overlay[t]["notes"].append(note)
        self.overlay[t]["modified"] = max(self.clock(), self.modified(t))
        self.recorder.record(UpdateRecord(self.name, str(t), "note", data, self.clock()))
        return SimResponse.json(201, note)

    def _company_json(self, key: str, i: int) -> dict[str, Any]:
        o = next(o for o in self.world.orgs if o.key == key)
        # Freshdesk's own company fields, plus a custom field for the contract value.
        return {"id": i, "name": o.name, "description": None, "domains": [],
                "account_tier": o.tier, "health_score": o.health,
                "renewal_date": o.renewal_date.isoformat() if o.renewal_date else None,
                "custom_fields": {"annual_value": o.annual_value},
                "created_at": iso(self.companies_at), "updated_at": iso(self.companies_at)}

    def list_companies(self, req: SimRequest) -> SimResponse:
        """Companies, 100 a page at most, ``updated_since`` honoured (the world's organizations
        do not change, so they all count as updated at the world's start)."""
        self.sync_world()
        per_page = min(100, int(req.arg("per_page", "30") or 30))
        page = int(req.arg("page", "1") or 1)
        since = req.arg("updated_since")
        keys = [o.key for o in self.world.orgs]
        if since and parse_time(since) > self.companies_at:
            keys = []
        rows = [self._company_json(k, self._cid(k)) for k in keys][(page - 1) * per_page: page * per_page]
        headers = {}
        if page * per_page < len(keys):
            q = {k: v[0] for k, v in req.query.items()}
            q["page"] = str(page + 1)
            headers["link"] = f"<http://{req.headers.get('host')}/api/v2/companies?{urlencode(q)}>; rel=\"next\""
        return SimResponse.json(200, rows, headers)

    def company(self, req: SimRequest, cid: str) -> SimResponse:
        for key, i in self.company_ids.items():
            if i == int(cid):
                o = next(o for o in self.world.orgs if o.key == key)
                # Freshdesk's own company fields, plus a custom field for the contract value.
                return SimResponse.json(200, {"id": i, "name": o.name, "description": None, "domains": [],
                                              "account_tier": o.tier, "health_score": o.health,
                                              "renewal_date": o.renewal_date.isoformat() if o.renewal_date else None,
                                              "custom_fields": {"annual_value": o.annual_value},
                                              "created_at": iso(self.companies_at), "updated_at": iso(self.companies_at)})
        return SimResponse.json(404, {"code": "not_found", "message": "Company not found"})

    def groups(self, req: SimRequest) -> SimResponse:
        return SimResponse.json(200, [{"id": gid, "name": n, "description": None} for n, gid in self.group_ids.items()])

    def agents(self, req: SimRequest) -> SimResponse:
        return SimResponse.json(200, [{"id": aid, "available": True, "contact": {
            "name": n, "email": f"{n.lower().replace(' ', '.')}@support.example.com"}} for n, aid in self.agent_ids.items()])

    def me(self, req: SimRequest) -> SimResponse:
        return SimResponse.json(200, {"id": 67013400000, "contact": {"name": "deskwatch", "email": "admin@example.com"}})
