"""A Zendesk Support API v2 subset: cursor incremental export with side-loads, comments,
ticket show/update (safe_update, additional_tags/remove_tags, private comments), update_many
with job statuses, groups and users. Shapes follow ``shared/api-samples/zendesk``."""

from __future__ import annotations

import base64
import itertools
from datetime import datetime
from typing import Any, Callable

from deskwatch.core.simulator.http import Faults, HelpdeskApp, RateWindow, Recorder, SimRequest, SimResponse, UpdateRecord, iso
from deskwatch.core.simulator.world import Conversation, World

CHANNEL_OUT = {"email": "email", "web": "web", "chat": "chat", "phone": "voice", "api": "api", "social": "twitter"}
STATUS_OUT = {"new": "new", "open": "open", "pending": "pending", "on_hold": "hold", "solved": "solved", "closed": "closed"}


def encode_cursor(ts: int, tid: int) -> str:
    return base64.b64encode(f"{ts}.0||{tid}|".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, int]:
    raw = base64.b64decode(cursor.encode()).decode()
    ts, _, rest = raw.partition("||")
    return int(float(ts)), int(rest.strip("|") or 0)


EXPORT_PER_MINUTE = 10  # Zendesk: incremental export requests per minute (30 with the add-on)
HOLD_BACK = 60  # seconds: incremental exports exclude items changed within the last minute


class ZendeskApp(HelpdeskApp):
    name = "zendesk"

    def __init__(self, world: World, clock: Callable[[], datetime], faults: Faults, rate_per_minute: int,
                 recorder: Recorder, groups: list[str], agents: list[str], email: str | None, token: str | None,
                 freshness_seconds: int | None = None):
        super().__init__(faults, rate_per_minute, recorder)
        # The incremental exports have their own limit, on top of the account's (when limits are on).
        self.export_window = RateWindow(EXPORT_PER_MINUTE if rate_per_minute else 0)
        self.world, self.clock = world, clock
        self.email, self.token = email, token
        # Zendesk's exports leave out the newest minute; on with the documented limits (None),
        # off when a test turns limits off, unless given.
        self.freshness = freshness_seconds if freshness_seconds is not None else (HOLD_BACK if rate_per_minute else 0)
        self.ids: dict[str, int] = {}
        self.by_id: dict[int, Conversation] = {}
        self.overlay: dict[int, dict[str, Any]] = {}
        self.group_ids = {name: 360000 + i for i, name in enumerate(groups, 1)}
        self.agent_ids = {name: 900000 + i for i, name in enumerate(agents, 1)}
        self.user_ids: dict[str, int] = {}
        self.org_ids: dict[str, int] = {}
        self.jobs: dict[str, dict] = {}
        self._seq = itertools.count(1)
        for method, pattern, fn in [
            ("GET", r"/api/v2/incremental/tickets/cursor(?:\.json)?", self.export),
            ("GET", r"/api/v2/incremental/ticket_events(?:\.json)?", self.ticket_events),
            ("GET", r"/api/v2/tickets/(\d+)(?:\.json)?", self.show),
            ("GET", r"/api/v2/tickets/(\d+)/comments(?:\.json)?", self.comments),
            ("PUT", r"/api/v2/tickets/update_many(?:\.json)?", self.update_many),
            ("PUT", r"/api/v2/tickets/(\d+)(?:\.json)?", self.update),
            ("GET", r"/api/v2/job_statuses/([\w-]+)(?:\.json)?", self.job_status),
            ("GET", r"/api/v2/groups(?:\.json)?", self.groups),
            ("GET", r"/api/v2/users/me(?:\.json)?", self.me),
            ("GET", r"/api/v2/users/(\d+)(?:\.json)?", self.user),
            ("GET", r"/api/v2/users(?:\.json)?", self.users),
            ("GET", r"/api/v2/organizations/(\d+)(?:\.json)?", self.organization),
        ]:
            self.add(method, pattern, fn)

    # -- plumbing ---------------------------------------------------------------------------
    def authenticate(self, req: SimRequest) -> SimResponse | None:
        if self.token is None:
            return None
        auth = req.headers.get("authorization", "")
        ok = auth == f"Bearer {self.token}"
        if auth.startswith("Basic "):
            try:
                ok = base64.b64decode(auth[6:]).decode() == f"{self.email}/token:{self.token}"
            except ValueError:
                ok = False
        return None if ok else SimResponse.json(401, {"error": "Couldn't authenticate you"})

    def rate_limited(self, retry_after: float) -> SimResponse:
        # Zendesk's 429 body is plain text, not JSON.
        return SimResponse.text(429, "Rate limit for ticket updates exceeded, please wait before updating this ticket again",
                                {"Retry-After": str(max(1, round(retry_after)))})

    def extra_headers(self) -> dict[str, str]:
        left = self.window.remaining
        return {"x-rate-limit": str(self.window.per_minute or 700), "x-rate-limit-remaining": str(left),
                "ratelimit-limit": str(self.window.per_minute or 700), "ratelimit-remaining": str(left), "ratelimit-reset": "60"}

    def sync_world(self) -> None:
        self.world.step(self.clock())
        for c in self.world.for_helpdesk(self.name):
            if c.key not in self.ids:
                tid = 1000 + len(self.ids) + 1
                self.ids[c.key] = tid
                self.by_id[tid] = c
                self.overlay[tid] = {"modified": c.updated_at, "notes": [], "tags": list(c.tags)}

    def base(self, req: SimRequest) -> str:
        return f"http://{req.headers.get('host', '127.0.0.1')}"

    def _uid(self, email: str) -> int:
        return self.user_ids.setdefault(email, 500000 + len(self.user_ids) + 1)

    def _oid(self, key: str) -> int:
        return self.org_ids.setdefault(key, 700000 + len(self.org_ids) + 1)

    def modified(self, tid: int) -> datetime:
        return max(self.by_id[tid].updated_at, self.overlay[tid]["modified"])

    # -- rendering --------------------------------------------------------------------------
    def ticket_json(self, tid: int, base: str) -> dict[str, Any]:
        c, ov = self.by_id[tid], self.overlay[tid]
        status = "deleted" if c.deleted else STATUS_OUT.get(ov.get("status") or c.status, "open")
        mod = self.modified(tid)
        return {
            "url": f"{base}/api/v2/tickets/{tid}.json", "id": tid, "external_id": None,
            "via": {"channel": CHANNEL_OUT.get(c.channel, "web"), "source": {"from": {"address": c.customer.email}, "to": {}, "rel": None}},
            "created_at": iso(c.created_at), "updated_at": iso(mod), "type": None,
            "subject": c.subject, "raw_subject": c.subject, "description": c.posts[0].body,
            "priority": ov.get("priority", c.priority), "status": status, "recipient": None,
            "requester_id": self._uid(c.customer.email), "submitter_id": self._uid(c.customer.email),
            "assignee_id": ov.get("assignee_id"), "organization_id": self._oid(c.customer.org.key),
            "group_id": ov.get("group_id"), "collaborator_ids": [], "follower_ids": [], "email_cc_ids": [],
            "forum_topic_id": None, "problem_id": None, "has_incidents": False, "is_public": True, "due_at": None,
            "tags": list(ov["tags"]), "custom_fields": [{"id": 1, "value": c.affected_users}] if c.affected_users else [],
            "satisfaction_rating": ov.get("satisfaction_rating"), "sharing_agreement_ids": [], "fields": [], "followup_ids": [],
            "allow_channelback": False, "allow_attachments": True, "from_messaging_channel": False,
            "generated_timestamp": int(mod.timestamp()),
        }

    def user_json(self, email: str, base: str) -> dict[str, Any]:
        for c in self.world.customers:
            if c.email == email:
                uid = self._uid(email)
                return {"id": uid, "url": f"{base}/api/v2/users/{uid}.json", "name": c.name, "email": c.email,
                        "role": "end-user", "organization_id": self._oid(c.org.key), "active": True}
        raise KeyError(email)

    def org_json(self, key: str, base: str) -> dict[str, Any]:
        o = next(o for o in self.world.orgs if o.key == key)
        oid = self._oid(key)
        return {"id": oid, "url": f"{base}/api/v2/organizations/{oid}.json", "name": o.name, "tags": [],
                "organization_fields": {"annual_value": o.annual_value, "tier": o.tier,
                                        "renewal_date": o.renewal_date.isoformat() if o.renewal_date else None,
                                        "health_score": o.health}}

    def sideloads(self, tids: list[int], include: str, base: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        wanted = {w.strip() for w in include.split(",") if w.strip()}
        convs = [self.by_id[t] for t in tids]
        if "users" in wanted:
            # Requesters and the assigned agents, as Zendesk side-loads the users a ticket names.
            out["users"] = [self.user_json(e, base) for e in dict.fromkeys(c.customer.email for c in convs)]
            assigned = {self.overlay[t].get("assignee_id") for t in tids} - {None}
            out["users"] += [self._agent_json(n, a) for n, a in self.agent_ids.items() if a in assigned]
        if "groups" in wanted:
            used = {self.overlay[t].get("group_id") for t in tids} - {None}
            out["groups"] = [{"id": g, "name": n} for n, g in self.group_ids.items() if g in used]
        if "organizations" in wanted:
            out["organizations"] = [self.org_json(k, base) for k in dict.fromkeys(c.customer.org.key for c in convs)]
        return out

    # -- endpoints --------------------------------------------------------------------------
    def export(self, req: SimRequest) -> SimResponse:
        self.sync_world()
        per_page = min(int(req.arg("per_page", "1000") or 1000), 1000)
        cursor = req.arg("cursor")
        try:
            after = decode_cursor(cursor) if cursor else (int(req.arg("start_time", "0") or 0) - 1, 10**12)
        except (ValueError, UnicodeDecodeError):
            return SimResponse.json(400, {"error": "InvalidPaginationParameter", "description": "cursor is invalid"})
        horizon = int(self.clock().timestamp()) - self.freshness
        rows = sorted((int(self.modified(t).timestamp()), t) for t in self.by_id)
        # The cursor is (generated_timestamp, id); the newest `freshness` seconds are held back.
        rows = [r for r in rows if r > after and r[0] <= horizon]
        if req.arg("exclude_deleted") == "true":
            rows = [r for r in rows if not self.by_id[r[1]].deleted]
        page = rows[:per_page]
        base = self.base(req)
        last = page[-1] if page else after
        next_cursor = encode_cursor(*last) if page or cursor else encode_cursor(max(0, after[0]), 0)
        body = {
            "tickets": [self.ticket_json(t, base) for _, t in page],
            "after_url": f"{base}/api/v2/incremental/tickets/cursor.json?cursor={next_cursor}&per_page={per_page}",
            "before_url": None, "after_cursor": next_cursor, "before_cursor": None,
            "end_of_stream": len(rows) <= per_page,
        }
        body.update(self.sideloads([t for _, t in page], req.arg("include", "") or "", base))
        return SimResponse.json(200, body)

    def _ticket_or_404(self, tid: str) -> int | SimResponse:
        self.sync_world()
        t = int(tid)
        if t not in self.by_id:
            return SimResponse.json(404, {"error": "RecordNotFound", "description": "Not found"})
        return t

    def show(self, req: SimRequest, tid: str) -> SimResponse:
        t = self._ticket_or_404(tid)
        if isinstance(t, SimResponse):
            return t
        base = self.base(req)
        body = {"ticket": self.ticket_json(t, base)}
        body.update(self.sideloads([t], req.arg("include", "") or "", base))
        return SimResponse.json(200, body)

    def comments(self, req: SimRequest, tid: str) -> SimResponse:
        t = self._ticket_or_404(tid)
        if isinstance(t, SimResponse):
            return t
        items = self._comment_items(t)
        size = min(int(req.arg("page[size]", "100") or 100), 100)
        after = req.arg("page[after]")
        start = int(base64.b64decode(after).decode()) if after else 0
        chunk = items[start:start + size]
        has_more = start + size < len(items)
        nxt = base64.b64encode(str(start + size).encode()).decode()
        base = self.base(req)
        return SimResponse.json(200, {
            "comments": [{"id": cid, "type": "Comment", "author_id": a, "body": b, "html_body": f"<p>{b}</p>",
                          "plain_body": b, "public": pub, "attachments": [], "audit_id": cid + 1,
                          "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
                          "created_at": iso(at), "metadata": {"system": {}, "custom": {}}}
                         for at, cid, a, b, pub in chunk],
            "meta": {"has_more": has_more, "after_cursor": nxt if has_more else None, "before_cursor": None},
            "links": {"prev": None, "next": f"{base}/api/v2/tickets/{t}/comments.json?page[size]={size}&page[after]={nxt}"},
        })

    def _comment_items(self, t: int) -> list[tuple[datetime, int, int, str, bool]]:
        """(created_at, comment id, author id, body, public) of a ticket's comments, oldest first."""
        c, ov = self.by_id[t], self.overlay[t]
        items = []
        for i, p in enumerate(c.posts):
            author = self._uid(c.customer.email) if p.author == "customer" else 900000
            items.append((p.at, t * 1000 + i, author, p.body, p.public))
        for j, (at, author, body, public) in enumerate(ov["notes"]):
            items.append((at, t * 1000 + 500 + j, author, body, public))
        items.sort()
        return items

    def _audits(self, t: int, with_comments: bool) -> list[dict[str, Any]]:
        """A ticket's audits as the ticket events export lists them: one at creation (with
        ``Create`` child events), one per comment (its ``Comment`` child carries the comment's
        own id, only with ``include=comment_events``) and one at the last change."""
        c = self.by_id[t]
        items = self._comment_items(t)
        audits: list[tuple[datetime, list[dict[str, Any]]]] = [(c.created_at, [
            {"id": t * 100000 + 99999, "event_type": "Create", "field_name": "subject", "value": c.subject}])]
        for at, cid, author, body, public in items:
            child = {"id": cid, "event_type": "Comment", "type": "Comment", "author_id": author, "body": body,
                     "html_body": f"<p>{body}</p>", "public": public, "attachments": [], "audit_id": cid + 1}
            if at <= c.created_at:
                audits[0][1].append(child)  # the first comment belongs to the creating audit
            else:
                audits.append((at, [child]))
        audits.append((self.modified(t), [{"id": t * 100000 + 99998, "event_type": "Change", "field_name": "updated_at"}]))
        out = []
        for k, (at, children) in enumerate(audits):
            kids = [x for x in children if with_comments or x["event_type"] != "Comment"]
            out.append({"id": t * 100000 + k, "ticket_id": t, "timestamp": int(at.timestamp()), "created_at": iso(at),
                        "updater_id": 900000, "via": {"channel": "web"}, "event_type": "Audit", "child_events": kids})
        return out

    def ticket_events(self, req: SimRequest) -> SimResponse:
        """``/api/v2/incremental/ticket_events.json``: time-based paging (``start_time``,
        ``end_time``, ``next_page``, ``end_of_stream``), 1,000 events a page, never splitting a
        second, and like every incremental export it holds back the newest ``freshness`` seconds."""
        self.sync_world()
        try:
            start = int(req.arg("start_time", "") or "")
        except ValueError:
            return SimResponse.json(400, {"error": "InvalidValue", "description": "start_time is required (unix seconds)"})
        horizon = int(self.clock().timestamp()) - self.freshness
        if start > horizon:
            return SimResponse.json(400, {"error": "InvalidValue",
                                          "description": "Too recent start_time. Use a start_time older than one minute"
                                          if self.freshness else "start_time is in the future"})
        comments = "comment_events" in (req.arg("include", "") or "")
        rows = sorted((e for t in self.by_id for e in self._audits(t, comments) if start <= e["timestamp"] <= horizon),
                      key=lambda e: (e["timestamp"], e["id"]))
        page = rows[:1000]
        while len(page) < len(rows) and page and rows[len(page)]["timestamp"] == page[-1]["timestamp"]:
            page.append(rows[len(page)])  # a second is never split across pages
        end = page[-1]["timestamp"] if page else start
        base = self.base(req)
        include = "&include=comment_events" if comments else ""
        return SimResponse.json(200, {"ticket_events": page, "count": len(page), "end_time": end,
                                      "next_page": f"{base}/api/v2/incremental/ticket_events.json?start_time={end}{include}",
                                      "end_of_stream": len(page) == len(rows)})

    def _apply(self, t: int, data: dict[str, Any], kind: str) -> tuple[list[dict], SimResponse | None]:
        """Apply one ticket update; returns the audit events, or an error response."""
        ov = self.overlay[t]
        if data.get("safe_update") and data.get("updated_stamp") and data["updated_stamp"] != iso(self.modified(t)):
            return [], SimResponse.json(409, {"error": "UpdateConflict",
                                              "description": "Ticket has been updated since you last viewed it"})
        unknown_group = data.get("group_id") is not None and data["group_id"] not in self.group_ids.values()
        if unknown_group:
            return [], SimResponse.json(422, {"error": "RecordInvalid", "description": "Record validation errors",
                                              "details": {"group_id": [{"description": "Group: is invalid", "error": "InvalidValue"}]}})
        events = []
        before = self.ticket_json(t, "")
        for field in ("priority", "status", "group_id", "assignee_id"):
            if field in data:
                value = data[field]
                ov[field if field != "status" else "status"] = ({v: k for k, v in STATUS_OUT.items()}.get(value, value)
                                                                 if field == "status" else value)
                events.append({"type": "Change", "field_name": field, "value": value, "previous_value": before.get(field)})
        tags = list(ov["tags"])
        if "tags" in data:
            tags = list(dict.fromkeys(data["tags"]))
        tags += [x for x in data.get("additional_tags", []) if x not in tags]
        tags = [x for x in tags if x not in set(data.get("remove_tags", []))]
        if tags != ov["tags"]:
            events.append({"type": "Change", "field_name": "tags", "value": tags, "previous_value": ov["tags"]})
            ov["tags"] = tags
        comment = data.get("comment")
        if comment:
            ov["notes"].append((self.clock(), 900000, comment.get("body", ""), bool(comment.get("public", True))))
            events.append({"type": "Comment", "body": comment.get("body", ""), "public": bool(comment.get("public", True))})
        ov["modified"] = max(self.clock(), self.modified(t))
        self.recorder.record(UpdateRecord(self.name, str(t), kind, data, self.clock()))
        return events, None

    def update(self, req: SimRequest, tid: str) -> SimResponse:
        t = self._ticket_or_404(tid)
        if isinstance(t, SimResponse):
            return t
        try:
            data = req.json().get("ticket")
        except ValueError:
            return SimResponse.json(400, {"error": "InvalidJSON", "description": "body is not JSON"})
        if not isinstance(data, dict):
            return SimResponse.json(400, {"error": "InvalidParameter", "description": "ticket: expected an object"})
        events, err = self._apply(t, data, "update")
        if err:
            return err
        return SimResponse.json(200, {"ticket": self.ticket_json(t, self.base(req)),
                                      "audit": {"id": next(self._seq), "ticket_id": t, "created_at": iso(self.clock()),
                                                "author_id": 900000, "events": events}})

    def update_many(self, req: SimRequest) -> SimResponse:
        self.sync_world()
        body = req.json()
        if "tickets" in body:
            items = body["tickets"]
        else:
            ids = [int(x) for x in (req.arg("ids", "") or "").split(",") if x]
            items = [{"id": i, **body.get("ticket", {})} for i in ids]
        if len(items) > 100:
            return SimResponse.json(400, {"error": "TooManyValues",
                                          "description": "You have specified too many values for the parameter tickets",
                                          "max_count": 100})
        results = []
        for item in items:
            t = int(item.get("id", 0))
            if t not in self.by_id:
                results.append({"id": t, "action": "update", "success": False, "status": "Failed",
                                "error": "TicketNotFound", "details": "Ticket not found"})
                continue
            _, err = self._apply(t, {k: v for k, v in item.items() if k != "id"}, "bulk_update")
            results.append({"id": t, "action": "update", "success": err is None,
                            "status": "Updated" if err is None else "Failed"})
        jid = f"V3-{next(self._seq):032x}"
        base = self.base(req)
        self.jobs[jid] = {"id": jid, "url": f"{base}/api/v2/job_statuses/{jid}.json", "total": len(items),
                          "progress": len(items), "status": "completed", "message": "Completed at " + iso(self.clock()),
                          "results": results, "polls": 0}
        return SimResponse.json(200, {"job_status": {"id": jid, "url": self.jobs[jid]["url"], "total": len(items),
                                                     "progress": None, "status": "queued", "message": None, "results": None}})

    def job_status(self, req: SimRequest, jid: str) -> SimResponse:
        job = self.jobs.get(jid)
        if job is None:
            return SimResponse.json(404, {"error": "RecordNotFound", "description": "Not found"})
        job["polls"] += 1
        if job["polls"] == 1:  # one "working" answer first, as the real job queue gives
            return SimResponse.json(200, {"job_status": {**{k: v for k, v in job.items() if k != "polls"},
                                                         "status": "working", "results": None, "progress": 0}})
        return SimResponse.json(200, {"job_status": {k: v for k, v in job.items() if k != "polls"}})

    def groups(self, req: SimRequest) -> SimResponse:
        return SimResponse.json(200, {"groups": [{"id": gid, "name": n, "deleted": False} for n, gid in self.group_ids.items()],
                                      "next_page": None, "previous_page": None, "count": len(self.group_ids)})

    def _agent_json(self, name: str, aid: int) -> dict[str, Any]:
        return {"id": aid, "name": name, "email": f"{name.lower().replace(' ', '.')}@support.example.com", "role": "agent"}

    def me(self, req: SimRequest) -> SimResponse:
        return SimResponse.json(200, {"user": {"id": 900000, "name": "deskwatch", "email": self.email or "admin@example.com",
                                               "role": "admin"}})

    def user(self, req: SimRequest, uid: str) -> SimResponse:
        u = int(uid)
        for name, aid in self.agent_ids.items():
            if aid == u:
                return SimResponse.json(200, {"user": self._agent_json(name, aid)})
        for email, i in self.user_ids.items():
            if i == u:
                return SimResponse.json(200, {"user": self.user_json(email, self.base(req))})
        return SimResponse.json(404, {"error": "RecordNotFound", "description": "Not found"})

    def users(self, req: SimRequest) -> SimResponse:
        return SimResponse.json(200, {"users": [self._agent_json(n, a) for n, a in self.agent_ids.items()],
                                      "next_page": None, "count": len(self.agent_ids)})

    def organization(self, req: SimRequest, oid: str) -> SimResponse:
        for key, i in self.org_ids.items():
            if i == int(oid):
                return SimResponse.json(200, {"organization": self.org_json(key, self.base(req))})
        return SimResponse.json(404, {"error": "RecordNotFound", "description": "Not found"})

    def limited(self, req: SimRequest) -> float:
        """The incremental export's own 10 requests/minute."""
        return self.export_window.take() if "/incremental/" in req.path else 0.0
