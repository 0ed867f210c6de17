"""A Salesforce REST API subset for Service Cloud Cases: OAuth2 token (client credentials and
JWT bearer), SOQL ``query``/``queryAll`` with ``nextRecordsUrl`` batches (a small SOQL evaluator:
fields, relationship fields, child sub-queries, WHERE with AND/OR, ORDER BY, LIMIT), getUpdated
and getDeleted, PATCH on Case, CaseComment creation, sObject collections, the Composite
resource (PATCH Case and POST CaseComment subrequests, ``allOrNone`` rolls back every write), ``Sforce-Limit-Info``
and the 403 REQUEST_LIMIT_EXCEEDED limit error. Shapes follow ``shared/api-samples/salesforce``."""

from __future__ import annotations

from collections import deque

import base64
import copy
import itertools
import json
import re
from datetime import datetime, timedelta
from typing import Any, Callable
from urllib.parse import parse_qs

from deskwatch.core.simulator.http import Faults, HelpdeskApp, Recorder, SimRequest, SimResponse, UpdateRecord
from deskwatch.core.simulator.soql import SoqlError, row_getter, evaluate_where, parse_soql
from deskwatch.core.simulator.world import Conversation, World
from deskwatch.core.model.timeutil import parse_time
from email.utils import parsedate_to_datetime

PRIORITY_OUT = {"low": "Low", "normal": "Medium", "high": "High", "urgent": "High"}
STATUS_OUT = {"new": "New", "open": "Working", "pending": "On Hold", "on_hold": "On Hold", "solved": "Closed", "closed": "Closed"}
ORIGIN_OUT = {"email": "Email", "web": "Web", "phone": "Phone", "chat": "Chat", "social": "Social", "api": "Web"}
CASE_FIELDS = {"Id", "CaseNumber", "Subject", "Description", "Priority", "Status", "Origin", "IsEscalated", "OwnerId",
               "AccountId", "ContactId", "SuppliedEmail", "SuppliedName", "CreatedDate", "LastModifiedDate",
               "SystemModstamp", "IsClosed", "IsDeleted", "Type", "Reason", "Affected_Users__c"}
WRITABLE = {"Priority", "Status", "OwnerId", "IsEscalated", "Type", "Reason", "Subject"}


def sf_time(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def sf_error(status: int, code: str, message: str) -> SimResponse:
    return SimResponse.json(status, [{"message": message, "errorCode": code}])


GET_DELETED_DAYS = timedelta(days=15)  # getDeleted's window (earliestDateAvailable)
SESSION_SECONDS = 7200  # an access token expires after the org's session timeout (2 hours by default): 401
DAILY_REQUESTS = 100_000  # Enterprise Edition's base daily API allocation (rolling 24 hours)
DAY = timedelta(days=1)


class SalesforceApp(HelpdeskApp):
    name = "salesforce"

    def __init__(self, world: World, clock: Callable[[], datetime], faults: Faults, rate_per_minute: int,
                 recorder: Recorder, groups: list[str], agents: list[str], client_id: str | None,
                 client_secret: str | None, daily_limit: int | None = None, batch_size: int = 200,
                 token_ttl_seconds: int = SESSION_SECONDS, api_version: str = "v60.0"):
        super().__init__(faults, rate_per_minute, recorder)
        self.world, self.clock = world, clock
        self.client_id, self.client_secret = client_id, client_secret
        # The org's rolling 24-hour quota: on with the documented limits unless given (0: none).
        self.daily_limit = daily_limit if daily_limit is not None else (DAILY_REQUESTS if rate_per_minute else 0)
        self.batch_size, self.token_ttl = batch_size, token_ttl_seconds
        self.calls: deque[datetime] = deque()  # API calls of the last 24 hours, oldest first
        self.version = api_version
        self.used = 0
        self.tokens: dict[str, datetime] = {}
        self.ids: dict[str, str] = {}
        self.by_id: dict[str, Conversation] = {}
        self.overlay: dict[str, dict[str, Any]] = {}
        self.queues = {name: f"00G5g00000{i:08d}" for i, name in enumerate(groups, 1)}
        self.users = {name: f"0055g00000{i:08d}" for i, name in enumerate(agents, 1)}
        self.deleted: list[tuple[str, datetime]] = []
        self.locators: dict[str, list[dict]] = {}
        self._seq = itertools.count(1)
        self.unmetered.add("/services/oauth2/token")
        v = r"/services/data/v[\d.]+"
        for method, pattern, fn in [
            ("POST", r"/services/oauth2/token", self.token),
            ("GET", v + r"/query", self.query),
            ("GET", v + r"/queryAll", self.query_all),
            ("GET", v + r"/query(?:All)?/([\w-]+)", self.query_more),
            ("GET", v + r"/sobjects/Case/updated", self.get_updated),
            ("GET", v + r"/sobjects/Case/deleted", self.get_deleted),
            ("GET", v + r"/sobjects/Case/describe", self.describe),
            ("PATCH", v + r"/sobjects/Case/(\w+)", self.patch_case),
            ("POST", v + r"/sobjects/CaseComment", self.create_comment),
            ("PATCH", v + r"/composite/sobjects", self.collections),
            ("POST", v + r"/composite", self.composite),
            ("GET", v + r"/limits", self.limits),
        ]:
            self.add(method, pattern, fn)

    # -- plumbing ---------------------------------------------------------------------------
    def authenticate(self, req: SimRequest) -> SimResponse | None:
        if req.path.endswith("/oauth2/token"):
            return None
        auth = req.headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        issued = self.tokens.get(token or "")
        expired = issued is not None and self.token_ttl and (self.clock() - issued).total_seconds() > self.token_ttl
        if issued is None or expired:
            return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if self.daily_limit:
            now = self.clock()
            while self.calls and now - self.calls[0] >= DAY:
                self.calls.popleft()
            self.used = len(self.calls)
            if self.used >= self.daily_limit:
                return sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            self.calls.append(now)
        self.used += 1
        return None

    def rate_limited(self, retry_after: float) -> SimResponse:
        # Salesforce has no 429: its concurrency limit is a 403 that clears within seconds.
        return sf_error(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentRequests Limit exceeded.")

    def server_error(self) -> SimResponse:
        return sf_error(503, "SERVER_UNAVAILABLE", "Simulated outage")

    def not_found(self, req: SimRequest) -> SimResponse:
        return sf_error(404, "NOT_FOUND", f"The requested resource does not exist: {req.path}")

    def extra_headers(self) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={self.used}/{self.daily_limit or 5000000}"}

    def sync_world(self) -> None:
        self.world.step(self.clock())
        for c in self.world.for_helpdesk(self.name):
            if c.key not in self.ids:
                n = len(self.ids) + 1
                cid = f"5005g00000{n:08d}"
                self.ids[c.key], self.by_id[cid] = cid, c
                self.overlay[cid] = {"modified": c.updated_at, "comments": [], "number": f"{n:08d}"}

    def modified(self, cid: str) -> datetime:
        return max(self.by_id[cid].updated_at, self.overlay[cid]["modified"])

    def base(self, req: SimRequest) -> str:
        return f"http://{req.headers.get('host', '127.0.0.1')}"

    # -- records ----------------------------------------------------------------------------
    def case_record(self, cid: str) -> dict[str, Any]:
        c, ov = self.by_id[cid], self.overlay[cid]
        o = c.customer.org
        acct = f"0015g00000{self.world.orgs.index(o):08d}"
        status = ov.get("Status", STATUS_OUT.get(c.status, "New"))
        owner = ov.get("OwnerId", next(iter(self.queues.values()), None))
        rec = {
            "attributes": {"type": "Case", "url": f"/services/data/{self.version}/sobjects/Case/{cid}"},
            "Id": cid, "CaseNumber": ov["number"], "Subject": c.subject, "Description": c.posts[0].body,
            "Priority": ov.get("Priority", PRIORITY_OUT.get(c.priority, "Medium")), "Status": status,
            "Origin": ORIGIN_OUT.get(c.channel, "Web"), "IsEscalated": bool(ov.get("IsEscalated", False)),
            "OwnerId": owner,
            "AccountId": acct, "ContactId": f"0035g00000{abs(hash(c.customer.email)) % 10**8:08d}",
            "SuppliedEmail": c.customer.email, "SuppliedName": c.customer.name,
            "CreatedDate": sf_time(c.created_at), "LastModifiedDate": sf_time(self.modified(cid)),
            "SystemModstamp": sf_time(self.modified(cid)), "IsClosed": status == "Closed", "IsDeleted": c.deleted,
            "Type": None, "Reason": None, "Affected_Users__c": c.affected_users,
            "Account": {"attributes": {"type": "Account", "url": f"/services/data/{self.version}/sobjects/Account/{acct}"},
                        "Id": acct, "Name": o.name, "AnnualRevenue": o.annual_value, "Tier__c": o.tier,
                        "Renewal_Date__c": o.renewal_date.isoformat() if o.renewal_date else None,
                        "Health_Score__c": o.health},
            "Contact": {"attributes": {"type": "Contact"}, "Name": c.customer.name, "Email": c.customer.email},
            "Owner": {"attributes": {"type": "Name"}, "Name": next((n for n, i in {**self.queues, **self.users}.items()
                                                                    if i == owner), None)},
        }
        return rec

    def comment_records(self, cid: str) -> list[dict[str, Any]]:
        c, ov = self.by_id[cid], self.overlay[cid]
        out = []
        for i, p in enumerate(c.posts[1:], 1):
            if p.author == "agent":
                out.append({"attributes": {"type": "CaseComment"}, "Id": f"00a5g{cid[-8:]}{i:05d}", "ParentId": cid,
                            "CommentBody": p.body, "IsPublished": True, "CreatedById": next(iter(self.users.values()), None),
                            "CreatedBy": {"attributes": {"type": "User"}, "UserType": "Standard"},
                            "CreatedDate": sf_time(p.at), "SystemModstamp": sf_time(p.at)})
        out.extend(ov["comments"])
        return out

    def email_records(self, cid: str) -> list[dict[str, Any]]:
        c = self.by_id[cid]
        return [{"attributes": {"type": "EmailMessage"}, "Id": f"02s5g{cid[-8:]}{i:05d}", "ParentId": cid,
                 "Incoming": True, "FromAddress": c.customer.email, "ToAddress": "support@example.com",
                 "Subject": c.subject, "TextBody": p.body, "HtmlBody": f"<p>{p.body}</p>", "MessageDate": sf_time(p.at),
                 "Status": "0", "CreatedDate": sf_time(p.at), "SystemModstamp": sf_time(p.at)}
                for i, p in enumerate(c.posts) if p.author == "customer" and i > 0]

    def rows(self, obj: str, include_deleted: bool) -> list[dict[str, Any]]:
        self.sync_world()
        if obj == "Case":
            return [self.case_record(cid) for cid in self.by_id if include_deleted or not self.by_id[cid].deleted]
        if obj == "CaseComment":
            return [r for cid in self.by_id for r in self.comment_records(cid)]
        if obj == "EmailMessage":
            return [r for cid in self.by_id for r in self.email_records(cid)]
        if obj == "Group":
            return [{"attributes": {"type": "Group"}, "Id": i, "Name": n, "DeveloperName": n.replace(" ", "_"),
                     "Type": "Queue"} for n, i in self.queues.items()]
        if obj == "User":
            return [{"attributes": {"type": "User"}, "Id": i, "Name": n, "IsActive": True,
                     "Email": f"{n.lower()}@support.example.com"} for n, i in self.users.items()]
        raise SoqlError(f"sObject type '{obj}' is not supported.")

    # -- endpoints --------------------------------------------------------------------------
    def token(self, req: SimRequest) -> SimResponse:
        form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8")).items()}
        grant = form.get("grant_type", "")
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = req.headers.get("authorization", "")
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        if grant == "client_credentials":
            ok = self.client_id is None or (client_id == self.client_id and secret == self.client_secret)
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            try:
                payload = form.get("assertion", "").split(".")[1]
                claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
                ok = self.client_id is None or claims.get("iss") == self.client_id
            except (IndexError, ValueError):
                return SimResponse.json(400, {"error": "invalid_grant", "error_description": "invalid assertion"})
        else:
            return SimResponse.json(400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"})
        if not ok:
            return SimResponse.json(400, {"error": "invalid_client", "error_description": "invalid client credentials"})
        tok = f"00D5g000000SIM!{next(self._seq):06d}.{abs(hash((client_id, self.clock()))) % 10**12:012d}"
        self.tokens[tok] = self.clock()
        return SimResponse.json(200, {"access_token": tok, "signature": "c2ltdWxhdGVk", "scope": "api",
                                      "instance_url": self.base(req), "id": f"{self.base(req)}/id/00D5g000000SIM/0055g0000000001",
                                      "token_type": "Bearer", "issued_at": str(int(self.clock().timestamp() * 1000))})

    def _run_query(self, req: SimRequest, include_deleted: bool) -> SimResponse:
        q = req.arg("q")
        if not q:
            return sf_error(400, "MALFORMED_QUERY", "Missing query parameter q")
        try:
            soql = parse_soql(q)
            records = self._select(soql, include_deleted)
        except SoqlError as e:
            return sf_error(400, "MALFORMED_QUERY", str(e))
        except KeyError as e:
            return sf_error(400, "INVALID_FIELD", f"No such column {e.args[0]!r} on entity '{soql['object']}'.")
        size = self.batch_size
        m = re.search(r"batchSize=(\d+)", req.headers.get("sforce-query-options", ""))
        if m:
            size = max(200, min(2000, int(m.group(1))))
        return self._page(records, size, req)

    def _select(self, soql: dict[str, Any], include_deleted: bool, rows: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        rows = self.rows(soql["object"], include_deleted) if rows is None else rows
        known = set(rows[0]) if rows else set()
        rows = [r for r in rows if evaluate_where(soql["where"], row_getter(r))]
        for key, desc in reversed(soql["order"]):
            rows.sort(key=lambda r: (row_getter(r)(key) is None, row_getter(r)(key) or 0), reverse=desc)
        if soql["limit"] is not None:
            rows = rows[: soql["limit"]]
        # Child rows are grouped by parent once per query, not once per parent row.
        children: list[tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]] = []
        for sub in soql["sub"]:
            child = {"CaseComments": "CaseComment", "EmailMessages": "EmailMessage"}.get(sub["object"])
            if child is None:
                raise SoqlError(f"Didn't understand relationship '{sub['object']}' in FROM part of query call.")
            grouped: dict[str, list[dict[str, Any]]] = {}
            for k in self.rows(child, False):
                grouped.setdefault(k["ParentId"], []).append(k)
            children.append((sub, grouped))
        out = []
        for r in rows:
            rec: dict[str, Any] = {"attributes": r["attributes"]}
            for f in soql["fields"]:
                head, _, rest = f.partition(".")
                if head not in r and known:
                    raise KeyError(f)
                if not rest:
                    rec[f] = r[f]
                    continue
                rel = r.get(head)
                rec.setdefault(head, None if rel is None else {"attributes": rel.get("attributes", {})})
                if rel is not None:
                    cur: Any = rel
                    for part in rest.split("."):
                        if not isinstance(cur, dict) or part not in cur:
                            raise KeyError(f)
                        cur = cur[part]
                    rec[head][rest] = cur
            for sub, grouped in children:
                kids = self._select({**sub, "sub": []}, False, rows=grouped.get(r["Id"], [])) if r["Id"] in grouped else []
                rec[sub["object"]] = {"totalSize": len(kids), "done": True, "records": kids} if kids else None
            out.append(rec)
        return out

    def _page(self, records: list[dict], size: int, req: SimRequest) -> SimResponse:
        # Child rows of sub-queries count toward the batch, as Salesforce counts them: a batch of
        # 2,000 holds fewer Cases the more comments and e-mails they carry (at least one Case).
        taken, rows = 0, 0
        for rec in records:
            weight = 1 + sum(len(v["records"]) for v in rec.values() if isinstance(v, dict) and "records" in v)
            if taken and rows + weight > size:
                break
            taken, rows = taken + 1, rows + weight
        body: dict[str, Any] = {"totalSize": len(records), "done": taken >= len(records), "records": records[:taken]}
        if taken < len(records):
            loc = f"01g5g{next(self._seq):08d}"
            self.locators[loc] = records[taken:]
            body["nextRecordsUrl"] = f"/services/data/{self.version}/query/{loc}-{size}"
        return SimResponse.json(200, body)

    def query(self, req: SimRequest) -> SimResponse:
        return self._run_query(req, include_deleted=False)

    def query_all(self, req: SimRequest) -> SimResponse:
        return self._run_query(req, include_deleted=True)

    def query_more(self, req: SimRequest, locator: str) -> SimResponse:
        loc, _, size = locator.partition("-")
        rest = self.locators.pop(loc, None)
        if rest is None:
            return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(rest, int(size or self.batch_size), req)

    def _window(self, req: SimRequest) -> tuple[datetime, datetime] | SimResponse:
        try:
            return parse_time(req.arg("start")), parse_time(req.arg("end"))
        except ValueError:
            return sf_error(400, "INVALID_REPLICATION_DATE", "start and end must be ISO 8601 date-times")

    def get_updated(self, req: SimRequest) -> SimResponse:
        self.sync_world()
        w = self._window(req)
        if isinstance(w, SimResponse):
            return w
        start, end = (t.replace(second=0, microsecond=0) for t in w)  # getUpdated truncates to minutes
        ids = [cid for cid in self.by_id if start <= self.modified(cid) < end and not self.by_id[cid].deleted]
        return SimResponse.json(200, {"ids": ids, "latestDateCovered": sf_time(min(end, self.clock()))})

    def get_deleted(self, req: SimRequest) -> SimResponse:
        self.sync_world()
        w = self._window(req)
        if isinstance(w, SimResponse):
            return w
        start, end = w
        earliest = self.clock() - GET_DELETED_DAYS
        if start < earliest - timedelta(minutes=1):
            # Deletions older than the window are purged: asking for them is an error, as it is
            # in Salesforce, not an empty answer.
            return sf_error(400, "INVALID_REPLICATION_DATE",
                            f"startDate must be on or after the earliestDateAvailable {sf_time(earliest)}")
        gone = [{"id": cid, "deletedDate": sf_time(self.modified(cid))} for cid, c in self.by_id.items()
                if c.deleted and start <= self.modified(cid) < end]
        return SimResponse.json(200, {"deletedRecords": gone,
                                      "earliestDateAvailable": sf_time(earliest),
                                      "latestDateCovered": sf_time(min(end, self.clock()))})

    def describe(self, req: SimRequest) -> SimResponse:
        pick = lambda vals: [{"value": v, "label": v, "active": True} for v in vals]  # noqa: E731
        return SimResponse.json(200, {"name": "Case", "fields": [
            {"name": "Priority", "type": "picklist", "picklistValues": pick(["High", "Medium", "Low"])},
            {"name": "Status", "type": "picklist", "picklistValues": pick(["New", "Working", "Escalated", "On Hold", "Closed"])},
            {"name": "Origin", "type": "picklist", "picklistValues": pick(["Phone", "Email", "Web", "Chat", "Social"])},
        ] + [{"name": f, "type": "string"} for f in sorted(CASE_FIELDS - {"Priority", "Status", "Origin"})]})

    def _patch(self, cid: str, data: dict[str, Any], kind: str,
               staged: list[UpdateRecord] | None = None) -> list[dict[str, Any]]:
        """Apply a Case PATCH; returns Salesforce error objects (empty on success). With
        ``staged`` the write's record is appended there instead of being recorded."""
        if cid not in self.by_id:
            return [{"message": "entity is deleted or does not exist", "errorCode": "ENTITY_IS_DELETED", "fields": []}]
        bad = [k for k in data if k not in WRITABLE and k != "attributes"]
        if bad:
            return [{"message": f"No such column '{bad[0]}' on sobject of type Case", "errorCode": "INVALID_FIELD", "fields": bad}]
        if "OwnerId" in data and data["OwnerId"] not in {*self.queues.values(), *self.users.values()}:
            return [{"message": "Owner ID: id value of incorrect type", "errorCode": "FIELD_INTEGRITY_EXCEPTION", "fields": ["OwnerId"]}]
        ov = self.overlay[cid]
        ov.update({k: v for k, v in data.items() if k != "attributes"})
        ov["modified"] = max(self.clock(), self.modified(cid))
        rec = UpdateRecord(self.name, cid, kind, {k: v for k, v in data.items() if k != "attributes"}, self.clock())
        if staged is None:
            self.recorder.record(rec)
        else:
            staged.append(rec)
        return []

    def patch_case(self, req: SimRequest, cid: str) -> SimResponse:
        self.sync_world()
        try:
            data = req.json()
        except ValueError:
            return sf_error(400, "JSON_PARSER_ERROR", "Unexpected character in request body")
        errors = self._patch(cid, data, "update")
        if errors:
            status = 404 if errors[0]["errorCode"] == "ENTITY_IS_DELETED" else 400
            return SimResponse.json(status, [{"message": e["message"], "errorCode": e["errorCode"]} for e in errors])
        return SimResponse(204)  # PATCH answers with no body

    def create_comment(self, req: SimRequest) -> SimResponse:
        self.sync_world()
        status, body = self._comment(req.json())
        return SimResponse.json(status, body)

    def _comment(self, data: Any, staged: list[UpdateRecord] | None = None) -> tuple[int, Any]:
        """Create a CaseComment: (status, body) as the sObject resource answers."""
        cid = data.get("ParentId") if isinstance(data, dict) else None
        if cid not in self.by_id:
            return 400, [{"message": "Parent ID: id value of incorrect type", "errorCode": "FIELD_INTEGRITY_EXCEPTION"}]
        body = data.get("CommentBody") or ""
        if not body or len(body.encode()) > 4000:
            return 400, [{"message": "CommentBody: 1 to 4000 bytes", "errorCode": "STRING_TOO_LONG" if body else "REQUIRED_FIELD_MISSING"}]
        new_id = f"00a5g{next(self._seq):013d}"
        now = sf_time(self.clock())
        self.overlay[cid]["comments"].append({"attributes": {"type": "CaseComment"}, "Id": new_id, "ParentId": cid,
                                              "CommentBody": body, "IsPublished": bool(data.get("IsPublished", False)),
                                              "CreatedBy": {"attributes": {"type": "User"}, "UserType": "Standard"},
                                              "CreatedById": "0055g0000000001", "CreatedDate": now, "SystemModstamp": now})
        self.overlay[cid]["modified"] = max(self.clock(), self.modified(cid))
        rec = UpdateRecord(self.name, cid, "note", data, self.clock())
        if staged is None:
            self.recorder.record(rec)
        else:
            staged.append(rec)
        return 201, {"id": new_id, "success": True, "errors": []}

    def composite(self, req: SimRequest) -> SimResponse:
        """``POST /composite``: subrequests in order; with ``allOrNone`` a failing one rolls back
        every write of the request (the others answer 400 PROCESSING_HALTED), as Salesforce does."""
        self.sync_world()
        try:
            data = req.json()
        except ValueError:
            return sf_error(400, "JSON_PARSER_ERROR", "Unexpected character in request body")
        subs = data.get("compositeRequest") if isinstance(data, dict) else None
        if not isinstance(subs, list) or not subs or len(subs) > 25:
            return sf_error(400, "INVALID_INPUT", "compositeRequest: 1 to 25 subrequests")
        all_or_none = bool(data.get("allOrNone", False))
        saved = copy.deepcopy(self.overlay) if all_or_none else None
        staged: list[UpdateRecord] = []
        out: list[dict[str, Any]] = []
        failed = False
        for sub in subs:
            ref = sub.get("referenceId") if isinstance(sub, dict) else None
            if not isinstance(ref, str) or not ref:
                if saved is not None:
                    self.overlay = saved
                return sf_error(400, "INVALID_INPUT", "each subrequest needs a referenceId")
            status, body = self._subrequest(sub, staged)
            failed = failed or status >= 400
            out.append({"body": body, "httpHeaders": {}, "httpStatusCode": status, "referenceId": ref})
        if failed and saved is not None:
            self.overlay = saved
            halted = [{"errorCode": "PROCESSING_HALTED",
                       "message": "The transaction was rolled back since another operation in the same transaction failed."}]
            out = [o if o["httpStatusCode"] >= 400 else {**o, "body": halted, "httpStatusCode": 400} for o in out]
        else:
            for rec in staged:
                self.recorder.record(rec)
        return SimResponse.json(200, {"compositeResponse": out})

    def _precondition_failed(self, cid: str, headers: Any) -> list[dict[str, Any]] | None:
        """``If-Unmodified-Since`` (an HTTP date, whole seconds) against the Case's
        LastModifiedDate: the errors of a 412, or None when the write may go ahead (or the
        value cannot be read: Salesforce answers 400 for that, the simulator lets it pass)."""
        value = headers.get("If-Unmodified-Since") if isinstance(headers, dict) else None
        if not value or cid not in self.by_id:
            return None
        try:
            since = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return [{"errorCode": "INVALID_HEADER_TYPE", "message": f"If-Unmodified-Since: not an HTTP date: {value}"}]
        if int(self.modified(cid).timestamp()) > int(since.timestamp()):
            return [{"errorCode": "PRECONDITION_FAILED",
                     "message": f"The requested resource was modified since {value}"}]
        return None

    def _subrequest(self, sub: dict[str, Any], staged: list[UpdateRecord]) -> tuple[int, Any]:
        method, url, body = str(sub.get("method", "")).upper(), str(sub.get("url", "")), sub.get("body") or {}
        m = re.fullmatch(r"/services/data/v[\d.]+/sobjects/Case/(\w+)", url)
        if method == "PATCH" and m:
            stale = self._precondition_failed(m.group(1), sub.get("httpHeaders"))
            if stale is not None:
                return 412, stale
            errors = self._patch(m.group(1), body, "update", staged)
            if errors:
                code = 404 if errors[0]["errorCode"] == "ENTITY_IS_DELETED" else 400
                return code, [{"message": e["message"], "errorCode": e["errorCode"]} for e in errors]
            return 204, None
        if method == "POST" and re.fullmatch(r"/services/data/v[\d.]+/sobjects/CaseComment", url):
            return self._comment(body, staged)
        return 400, [{"errorCode": "INVALID_INPUT", "message": f"the simulator does not support {method} {url} in composite"}]

    def collections(self, req: SimRequest) -> SimResponse:
        self.sync_world()
        data = req.json()
        records = data.get("records", [])
        if len(records) > 200:
            return sf_error(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records")
        results = []
        for r in records:
            errors = self._patch(r.get("id", ""), {k: v for k, v in r.items() if k not in ("id",)}, "bulk_update")
            results.append({"id": r.get("id"), "success": not errors,
                            "errors": [{"statusCode": e["errorCode"], "message": e["message"], "fields": e["fields"]} for e in errors]})
        return SimResponse.json(200, results)

    def limits(self, req: SimRequest) -> SimResponse:
        mx = self.daily_limit or 5000000
        return SimResponse.json(200, {"DailyApiRequests": {"Max": mx, "Remaining": mx - self.used}})
