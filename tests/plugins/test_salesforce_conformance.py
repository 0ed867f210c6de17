"""The deskwatch connector conformance suite, run on the Salesforce connector against a small
in-memory Salesforce (token endpoint, SOQL on Case/CaseComment, nextRecordsUrl batches of 3,
getDeleted, describe, Case PATCH, CaseComment create)."""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import httpx
import pytest

from deskwatch.core.model.settings import Section
from deskwatch.plugins.salesforce import create, parse_settings
from deskwatch.testing import ConnectorConformance

BASE = "https://fake.my.salesforce.com"
DATA = "/services/data/v61.0"


def sf(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def soql_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class FakeSalesforce:
    batch = 3  # Salesforce may return fewer rows than batchSize asks for; this keeps pages small

    def __init__(self) -> None:
        self.secret = "fake-sf-consumer-secret-42"
        self.reject_auth = False
        self.cases: dict[str, dict] = {}
        self.comments: dict[str, list[dict]] = {}
        self.failures: list[tuple[int, dict, str]] = []
        self.locators: dict[str, list[dict]] = {}
        self.seq = itertools.count(1)
        self.clock = datetime(2026, 11, 20, tzinfo=timezone.utc)
        self.deleted: list[tuple[str, datetime]] = []

    # -- the FakeApi protocol -------------------------------------------------------------
    def add_tickets(self, count: int, *, start: datetime, step: timedelta) -> list[str]:
        ids = []
        for i in range(count):
            n = next(self.seq)
            cid = f"5005e{n:010d}AAA"
            at = start + i * step
            self.cases[cid] = {
                "attributes": {"type": "Case"}, "Id": cid, "CaseNumber": f"{n:08d}", "Subject": f"Case {n}",
                "Description": "The export fails", "Priority": "Medium", "Status": "New", "Origin": "Web",
                "IsEscalated": False, "IsClosed": False, "IsDeleted": False, "OwnerId": "0055e000000AAAAAAA",
                "Owner": {"Name": "Dana"}, "AccountId": None, "Account": None, "ContactId": None, "Contact": None,
                "SuppliedEmail": f"c{n}@example.org", "SuppliedName": "Customer", "CreatedDate": sf(at),
                "LastModifiedDate": sf(at), "SystemModstamp": sf(at), "Tags__c": None,
            }  # fmt: skip
            self.comments[cid] = []
            self.clock = max(self.clock, at)
            ids.append(cid)
        return ids

    def fail_next(self, status: int, headers: dict[str, str] | None = None, body: str = "") -> None:
        self.failures.append((status, headers or {}, body))

    # -- the optional parts the change tests use (not fail_next's keywords: no half-applied test) --
    def change_ticket(self, native_id: str) -> None:
        self.touch(self.cases[native_id])

    def delete_ticket(self, native_id: str) -> None:
        """Deleted to the recycle bin: queryAll returns it with IsDeleted = true. (A hard delete
        shows in getDeleted, which works in whole minutes of the real clock: the
        simulator's tests cover that.)"""
        self.cases[native_id]["IsDeleted"] = True
        self.touch(self.cases[native_id])

    def set_ticket_status(self, native_id: str, status: str) -> None:
        self.cases[native_id]["Status"] = status
        self.cases[native_id]["IsClosed"] = status == "Closed"
        self.touch(self.cases[native_id])

    def ticket_notes(self, native_id: str) -> list[str]:
        return [c["CommentBody"] for c in self.comments[native_id] if not c["IsPublished"]]

    def ticket_escalated(self, native_id: str) -> bool:
        return bool(self.cases[native_id]["IsEscalated"])

    # -- the server --------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/services/oauth2/token":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            if self.reject_auth or form.get("client_secret") != self.secret:
                return httpx.Response(400, json={"error": "invalid_client", "error_description": "invalid client credentials"})
            return httpx.Response(200, json={"access_token": "00DFAKE!token-value-123", "instance_url": BASE, "token_type": "Bearer"})
        if request.headers.get("authorization") != "Bearer 00DFAKE!token-value-123":
            return httpx.Response(401, json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
        if self.failures:
            status, headers, body = self.failures.pop(0)
            return httpx.Response(status, headers=headers, text=body)
        headers = {"Sforce-Limit-Info": "api-usage=10/5000"}
        if path in (f"{DATA}/query", f"{DATA}/queryAll"):
            return self.query(request.url.params["q"], headers)
        if m := re.fullmatch(rf"{DATA}/query/(\w+)-3", path):
            rest = self.locators.pop(m.group(1), None)
            if rest is None:
                return httpx.Response(400, json=[{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}])
            return self.page(rest, headers)
        if path == f"{DATA}/sobjects/Case/deleted/":
            start, end = request.url.params["start"], request.url.params["end"]
            gone = [{"id": cid, "deletedDate": sf(at)} for cid, at in self.deleted if soql_time(start) <= at < soql_time(end)]
            return httpx.Response(200, json={"deletedRecords": gone, "latestDateCovered": end}, headers=headers)
        if path == f"{DATA}/sobjects/Case/describe":
            values = [{"value": v, "active": True} for v in ("Low", "Medium", "High", "Urgent")]
            return httpx.Response(200, json={"fields": [{"name": "Priority", "picklistValues": values}, {"name": "Status", "picklistValues": [{"value": "New"}, {"value": "Working"}]}]}, headers=headers)
        if m := re.fullmatch(rf"{DATA}/sobjects/Case/(\w+)", path):
            case = self.cases.get(m.group(1))
            if case is None:
                return httpx.Response(404, json=[{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}])
            if request.method == "GET":
                return httpx.Response(200, json=case, headers=headers)
            case.update(json.loads(request.content))
            self.touch(case)
            return httpx.Response(204, headers=headers)
        if path == f"{DATA}/sobjects/CaseComment" and request.method == "POST":
            body = json.loads(request.content)
            self.comments[body["ParentId"]].append({"Id": f"00a{next(self.seq)}", "CommentBody": body["CommentBody"], "IsPublished": body["IsPublished"], "CreatedDate": sf(self.clock)})
            self.touch(self.cases[body["ParentId"]])
            return httpx.Response(201, json={"id": "00aNEW", "success": True, "errors": []}, headers=headers)
        if path == f"{DATA}/composite" and request.method == "POST":
            return self.composite(request, headers)
        return httpx.Response(404, json=[{"message": f"no route {request.method} {path}", "errorCode": "NOT_FOUND"}])

    def composite(self, request: httpx.Request, headers: dict) -> httpx.Response:
        """Subrequests through ``handle`` (all of them succeed here; the simulator covers rollback)."""
        out = []
        for sub in json.loads(request.content)["compositeRequest"]:
            r = self.handle(httpx.Request(sub["method"], BASE + sub["url"], json=sub["body"], headers={"authorization": request.headers["authorization"]}))
            out.append({"body": r.json() if r.content else None, "httpHeaders": {}, "httpStatusCode": r.status_code, "referenceId": sub["referenceId"]})
        return httpx.Response(200, json={"compositeResponse": out}, headers=headers)

    def touch(self, case: dict) -> None:
        self.clock += timedelta(minutes=1)
        case["SystemModstamp"] = case["LastModifiedDate"] = sf(self.clock)

    def query(self, q: str, headers: dict) -> httpx.Response:
        obj = re.search(r"FROM (\w+)(?: WHERE (.*?))?(?: ORDER BY .*)?$", q).groups()
        if obj[0] == "CaseComment":
            parent = re.search(r"ParentId = '(\w+)'", q).group(1)
            return self.page(list(self.comments.get(parent, [])), headers)
        rows = sorted(self.cases.values(), key=lambda c: (c["SystemModstamp"], c["Id"]))
        if m := re.search(r"WHERE Id = '(\w+)'", q):
            rows = [c for c in rows if c["Id"] == m.group(1)]
        if m := re.search(r"SystemModstamp >= (\S+)", q):
            rows = [c for c in rows if soql_time(c["SystemModstamp"]) >= soql_time(m.group(1))]
        if m := re.search(r"SystemModstamp < (\S+)", q):
            rows = [c for c in rows if soql_time(c["SystemModstamp"]) < soql_time(m.group(1))]
        rows = [{**c, "CaseComments": {"totalSize": len(self.comments[c["Id"]]), "done": True, "records": self.comments[c["Id"]]} if self.comments[c["Id"]] else None} for c in rows]
        return self.page(rows, headers)

    def page(self, rows: list[dict], headers: dict) -> httpx.Response:
        body = {"totalSize": len(rows), "done": len(rows) <= self.batch, "records": rows[: self.batch]}
        if len(rows) > self.batch:
            loc = f"01g{next(self.seq)}"
            self.locators[loc] = rows[self.batch:]
            body["nextRecordsUrl"] = f"{DATA}/query/{loc}-3"
        return httpx.Response(200, json=body, headers=headers)


class TestSalesforceConformance(ConnectorConformance):
    status_cases = {"New": "new", "Working": "open", "Escalated": "open", "On Hold": "on_hold", "Closed": "closed"}

    @pytest.fixture
    def fake_api(self, httpx_mock):
        fake = FakeSalesforce()
        httpx_mock.add_callback(fake.handle, is_reusable=True, is_optional=True)
        return fake

    @pytest.fixture
    def connector_factory(self, fake_api):
        settings = parse_settings(
            Section({"base_url": BASE, "client_id": "3MVG9-fake", "client_secret": fake_api.secret, "tags_field": "Tags__c"}, "sources.test")
        )
        return lambda client_factory: create("test", settings, client_factory)
