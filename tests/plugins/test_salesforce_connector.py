"""The Salesforce connector against mocked HTTP (pytest-httpx): fetch, paging, auth, limits, updates."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import httpx
import pluggy
import pytest

from deskwatch.core.connect import hookspecs
from deskwatch.core.connect.contract import AuthError, BadResponse, RateLimited, TransientError
from deskwatch.core.connect.errors import OutcomeUnknown
from deskwatch.core.connect.http import PaginationLoop, client_factory
from deskwatch.core.model import TicketUpdate
from deskwatch.core.model.settings import Section
from deskwatch.plugins import salesforce as plugin
from deskwatch.plugins.salesforce import mapping, writeback
from deskwatch.plugins.salesforce.settings import parse_settings

from .test_salesforce_mapping import case_record

LOGIN = "https://acme.my.salesforce.com/services/oauth2/token"
API = "https://na1.salesforce.com/services/data/v61.0"
QUERY_ALL = re.compile(r"^https://na1\.salesforce\.com/services/data/v61\.0/queryAll\?q=.*")
QUERY = re.compile(r"^https://na1\.salesforce\.com/services/data/v61\.0/query\?q=.*")
DELETED = re.compile(r"^https://na1\.salesforce\.com/services/data/v61\.0/sobjects/Case/deleted/\?.*")
UNTIL = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
SECRET = "consumer-s3cret-value"


def sample(api_samples, name):
    return json.loads((api_samples / "salesforce" / name).read_text())


class Sleeps:
    def __init__(self):
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


def make_settings(**extra):
    data = {
        "base_url": "https://acme.my.salesforce.com",
        "client_id": "3MVG9-consumer-key",
        "client_secret": "${SF_CONN_SECRET}",
        "start_time": "2026-11-01T00:00:00Z",
        "account_tier_field": "Tier__c",
        "tags_field": "Tags__c",
        "max_attempts": 3,
        **extra,
    }
    return parse_settings(Section(data, "sources.acme", "config.toml"))


@pytest.fixture
def connector(monkeypatch, sleeps):
    monkeypatch.setenv("SF_CONN_SECRET", SECRET)

    def build(**extra):
        return plugin.create("acme", make_settings(**extra), client_factory(sleep=sleeps))

    return build


@pytest.fixture
def token(httpx_mock, api_samples):
    """The recorded token response (instance_url https://na1.salesforce.com), reusable."""
    httpx_mock.add_response(method="POST", url=LOGIN, json=sample(api_samples, "oauth_token_success_response.json"), is_reusable=True, is_optional=True)


def query_body(records, next_url=None):
    return {"totalSize": len(records), "done": next_url is None, **({"nextRecordsUrl": next_url} if next_url else {}), "records": records}


def soql_of(request: httpx.Request) -> str:
    return parse_qs(urlsplit(str(request.url)).query)["q"][0]


def deleted_empty():
    return {"deletedRecords": [], "earliestDateAvailable": "2026-10-25T00:00:00.000+0000", "latestDateCovered": "2026-11-23T09:59:00.000+0000"}


async def collect(conn, bookmark=None, until=UNTIL):
    pages = []
    async with conn:
        async for p in conn.fetch(bookmark, until=until):
            pages.append(p)
    return pages


# ---------------------------------------------------------------------------------------------
# fetch


async def test_one_bad_account_does_not_halt_the_sync(httpx_mock, token, connector, api_samples, caplog):
    # The recorded last-page envelope (totalSize, done) with two Cases whose Accounts were
    # typed by people: health 150 and the value "n/a". Both tickets sync; the values are dropped.
    body = sample(api_samples, "query_last_page_done_true.json")
    bad = case_record(Id="5005e00000AAAAAAB1", SystemModstamp="2026-11-23T09:00:00.000+0000")
    bad["Account"] = {**bad["Account"], "Health_Score__c": 150}
    worse = case_record(Id="5005e00000AAAAAAB2", SystemModstamp="2026-11-23T09:00:01.000+0000", AccountId="0015e00000NoValAAA")
    worse["Account"] = {**worse["Account"], "AnnualRevenue": "n/a"}
    body["records"] = [bad, worse]
    httpx_mock.add_response(url=QUERY_ALL, json=body)
    httpx_mock.add_response(url=DELETED, json=deleted_empty())

    with caplog.at_level("WARNING", logger="deskwatch.plugins.salesforce"):
        pages = await collect(connector(account_health_field="Health_Score__c"))
    tickets = [t for p in pages for t in p.tickets]
    assert [t.native_id for t in tickets] == ["5005e00000AAAAAAB1", "5005e00000AAAAAAB2"]
    assert tickets[0].organization.health is None and tickets[0].organization.annual_value == 1250000.0
    assert tickets[1].organization.annual_value is None and tickets[1].organization.health == pytest.approx(0.42)
    assert pages[-1].done and pages[0].bookmark["since"] == "2026-11-23T09:00:01Z"  # the bookmark moved on
    text = caplog.text
    assert "Account 0015e00000QwErTAAU" in text and "Health_Score__c is the number 150" in text
    assert "Account 0015e00000NoValAAA" in text and 'AnnualRevenue is the string "n/a"' in text


async def test_fetch_pages_tombstones_and_bookmarks(httpx_mock, token, connector, api_samples):
    c1 = case_record(Id="5005e00000AAAAAAA1", SystemModstamp="2026-11-23T09:00:00.000+0000")
    gone = case_record(Id="5005e00000AAAAAAA2", SystemModstamp="2026-11-23T09:00:00.000+0000", IsDeleted=True)
    c3 = case_record(Id="5005e00000AAAAAAA3", SystemModstamp="2026-11-23T09:30:00.000+0000", Origin="Phone")
    httpx_mock.add_response(url=QUERY_ALL, json=query_body([c1, gone], "/services/data/v61.0/query/01gD-2000"), headers={"Sforce-Limit-Info": "api-usage=18/5000"})
    httpx_mock.add_response(url=f"{API}/query/01gD-2000", json=query_body([c3]))
    httpx_mock.add_response(url=DELETED, json=sample(api_samples, "get_deleted_response.json"))

    pages = await collect(connector())
    assert [len(p.tickets) for p in pages] == [1, 1, 0]
    assert pages[0].deleted == ("acme:5005e00000AAAAAAA2",)
    assert pages[2].deleted == ("acme:a00D0000008pQRAIA2",)  # the recorded getDeleted row
    assert [p.done for p in pages] == [False, False, True]
    assert pages[0].bookmark == {"since": "2026-11-23T09:00:00Z", "seen": ["5005e00000AAAAAAA1|2026-11-23T09:00:00+00:00", "5005e00000AAAAAAA2|2026-11-23T09:00:00+00:00"]}
    assert pages[1].bookmark["since"] == "2026-11-23T09:30:00Z"
    assert pages[1].tickets[0].channel == "phone" and pages[1].tickets[0].id == "acme:5005e00000AAAAAAA3"
    # the final bookmark is JSON and never passes the signpost
    final = json.loads(json.dumps(pages[-1].bookmark))
    assert final["since"] < "2026-11-23T10:00:00Z" and final["deleted_since"] <= "2026-11-23T10:00:00Z"

    requests = httpx_mock.get_requests()
    soql = soql_of(requests[1])
    assert "SystemModstamp >= 2026-11-01T00:00:00Z AND SystemModstamp < 2026-11-23T10:00:00Z" in soql
    assert "ORDER BY SystemModstamp ASC, Id ASC" in soql and "IsDeleted" in soql and "Account.AnnualRevenue" in soql
    assert requests[1].headers["Authorization"].startswith("Bearer 00Dx0000000BV7z!")
    assert requests[1].headers["Sforce-Query-Options"] == "batchSize=2000"  # the most Salesforce allows
    token_form = parse_qs(requests[0].content.decode())
    assert token_form["grant_type"] == ["client_credentials"] and token_form["client_id"] == ["3MVG9-consumer-key"]
    deleted_params = parse_qs(urlsplit(str(requests[-1].url)).query)
    assert deleted_params["end"] == ["2026-11-23T10:00:00Z"]
    assert deleted_params["start"] >= ["2026-11-08T10:00:00Z"]  # getDeleted reaches back 15 days only


async def test_resume_skips_delivered_versions_at_the_boundary_but_not_newer_ones(httpx_mock, token, connector):
    bookmark = {"since": "2026-11-23T09:30:00Z", "seen": ["5005e00000AAAAAAA3|2026-11-23T09:30:00+00:00"], "deleted_since": "2026-11-23T09:59:00Z"}
    again = case_record(Id="5005e00000AAAAAAA3", SystemModstamp="2026-11-23T09:30:00.000+0000")
    newer_same_second = case_record(Id="5005e00000AAAAAAA3", SystemModstamp="2026-11-23T09:30:00.400+0000", Priority="Low")
    other = case_record(Id="5005e00000AAAAAAA4", SystemModstamp="2026-11-23T09:30:00.000+0000")
    httpx_mock.add_response(url=QUERY_ALL, json=query_body([again, other, newer_same_second]))
    httpx_mock.add_response(url=DELETED, json=deleted_empty())

    pages = await collect(connector(), bookmark)
    ids = [(t.native_id, t.priority) for t in pages[0].tickets]
    assert ids == [("5005e00000AAAAAAA4", "high"), ("5005e00000AAAAAAA3", "low")]
    assert "SystemModstamp >= 2026-11-23T09:30:00Z" in soql_of(httpx_mock.get_requests()[1])
    assert len(pages[0].bookmark["seen"]) == 3
    assert pages[-1].bookmark["deleted_since"] == "2026-11-23T09:59:00Z"


async def test_empty_result_keeps_the_bookmark(httpx_mock, token, connector, api_samples):
    httpx_mock.add_response(url=QUERY_ALL, json=sample(api_samples, "query_empty_response.json"))
    httpx_mock.add_response(url=DELETED, json=deleted_empty())
    bookmark = {"since": "2026-11-23T09:30:00Z", "seen": ["x|y"]}
    pages = await collect(connector(), bookmark)
    assert [(p.tickets, p.deleted) for p in pages] == [((), ()), ((), ())]
    assert pages[0].bookmark == bookmark and pages[-1].done


async def test_nothing_to_do_when_the_bookmark_reached_until(httpx_mock, token, connector):
    pages = await collect(connector(), {"since": "2026-11-23T10:00:00Z", "seen": [], "deleted_since": "2026-11-23T09:59:30Z"})
    assert len(pages) == 1 and pages[0].done and pages[0].tickets == ()
    assert httpx_mock.get_requests() == []  # no call needed, not even a token


async def test_repeated_next_records_url_stops_with_a_loop_error(httpx_mock, token, connector):
    c1 = case_record(Id="5005e00000AAAAAAA1")
    httpx_mock.add_response(url=QUERY_ALL, json=query_body([c1], "/services/data/v61.0/query/01gLOOP-200"))
    httpx_mock.add_response(url=f"{API}/query/01gLOOP-200", json=query_body([case_record(Id="5005e00000AAAAAAA2")], "/services/data/v61.0/query/01gLOOP-200"))
    pages = []
    with pytest.raises(PaginationLoop, match="twice"):
        async for p in connector().fetch(None, until=UNTIL):
            pages.append(p)
    assert len(pages) == 1 and pages[0].tickets[0].native_id == "5005e00000AAAAAAA1"


async def test_recorded_pages_follow_the_relative_next_url_and_reject_non_cases(httpx_mock, token, connector, api_samples):
    httpx_mock.add_response(url=QUERY_ALL, json=sample(api_samples, "query_first_page_with_nextRecordsUrl.json"))
    with pytest.raises(BadResponse, match=r"Case\[0\]\.Id: missing"):
        await collect(connector())


async def test_recorded_last_page_reached_through_next_records_url(httpx_mock, token, connector, api_samples):
    httpx_mock.add_response(url=QUERY_ALL, json=query_body([case_record(Id="5005e00000AAAAAAA1")], "/services/data/v26.0/query/01gD"))
    httpx_mock.add_response(url="https://na1.salesforce.com/services/data/v26.0/query/01gD", json=sample(api_samples, "query_last_page_done_true.json"))
    with pytest.raises(BadResponse, match=r"Case\[0\]\.Id: missing"):  # a "Whizbang" record, not a Case
        await collect(connector())


async def test_non_json_body_is_bad_response(httpx_mock, token, connector):
    httpx_mock.add_response(url=QUERY_ALL, text="<html>Down for maintenance</html>", headers={"content-type": "text/html"})
    with pytest.raises(BadResponse, match="expected a JSON body"):
        await collect(connector())


async def test_expired_query_locator_restarts_from_the_last_bookmark(httpx_mock, token, connector):
    c1 = case_record(Id="5005e00000AAAAAAA1", SystemModstamp="2026-11-23T09:00:00.000+0000")
    c2 = case_record(Id="5005e00000AAAAAAA2", SystemModstamp="2026-11-23T09:05:00.000+0000")
    httpx_mock.add_response(url=QUERY_ALL, json=query_body([c1], "/services/data/v61.0/query/01gOLD-200"))
    httpx_mock.add_response(url=f"{API}/query/01gOLD-200", status_code=400, json=[{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}])
    httpx_mock.add_response(url=QUERY_ALL, json=query_body([c1, c2]))
    httpx_mock.add_response(url=DELETED, json=deleted_empty())
    pages = await collect(connector())
    assert [t.native_id for p in pages for t in p.tickets] == ["5005e00000AAAAAAA1", "5005e00000AAAAAAA2"]
    assert "SystemModstamp >= 2026-11-23T09:00:00Z" in soql_of(httpx_mock.get_requests()[3])


async def test_large_comment_subquery_is_paged(httpx_mock, token, connector):
    rec = case_record(Id="5005e00000AAAAAAA1")
    first = rec["CaseComments"]["records"][0]
    rec["CaseComments"] = {"totalSize": 2, "done": False, "nextRecordsUrl": "/services/data/v61.0/query/01gSUB-1", "records": [first]}
    more = dict(first, Id="00a5e000009", CommentBody="second batch", CreatedDate="2026-11-23T08:45:00.000+0000")
    httpx_mock.add_response(url=QUERY_ALL, json=query_body([rec]))
    httpx_mock.add_response(url=f"{API}/query/01gSUB-1", json=query_body([more]))
    httpx_mock.add_response(url=DELETED, json=deleted_empty())
    pages = await collect(connector())
    assert "second batch" in [m.body for m in pages[0].tickets[0].messages]


async def test_api_budget_stops_the_sync_after_a_committed_page(httpx_mock, token, connector):
    httpx_mock.add_response(url=QUERY_ALL, json=query_body([case_record(Id="5005e00000AAAAAAA1")], "/services/data/v61.0/query/01gB-200"), headers={"Sforce-Limit-Info": "api-usage=4700/5000"})
    pages = []
    with pytest.raises(RateLimited, match=r"4700/5000 \(94%\), at or above api_budget 90%"):
        async for p in connector().fetch(None, until=UNTIL):
            pages.append(p)
    assert len(pages) == 1 and pages[0].bookmark["since"]


# ---------------------------------------------------------------------------------------------
# auth, retries, limits


async def test_invalid_session_refreshes_the_token_once(httpx_mock, token, connector, api_samples):
    httpx_mock.add_response(url=QUERY_ALL, status_code=401, json=sample(api_samples, "error_401_invalid_session_id.json"))
    httpx_mock.add_response(url=QUERY_ALL, json=query_body([case_record()]))
    httpx_mock.add_response(url=DELETED, json=deleted_empty())
    pages = await collect(connector())
    assert len(pages[0].tickets) == 1
    assert [r.url.path for r in httpx_mock.get_requests()].count("/services/oauth2/token") == 2


async def test_session_refused_twice_is_an_auth_error_without_secrets(httpx_mock, token, connector, api_samples):
    httpx_mock.add_response(url=QUERY_ALL, status_code=401, json=sample(api_samples, "error_401_invalid_session_id.json"), is_reusable=True)
    with pytest.raises(AuthError) as e:
        await collect(connector())
    text = str(e.value)
    assert "INVALID_SESSION_ID" in text and "client_secret" in text
    assert SECRET not in text and "00Dx0000000BV7z!" not in text


@pytest.mark.parametrize("name", ["oauth_token_error_invalid_grant.json", "oauth_refresh_error_expired_token.json"])
async def test_refused_credentials_make_check_fail_with_the_reason(httpx_mock, connector, api_samples, name):
    body = sample(api_samples, name)
    httpx_mock.add_response(method="POST", url=LOGIN, status_code=400, json=body)
    result = await connector().check()
    assert not result.ok and result.kind == "auth"
    assert body["error_description"] in result.message and SECRET not in result.message


async def test_check_reports_the_api_usage(httpx_mock, token, connector):
    httpx_mock.add_response(url=QUERY, json=query_body([{"attributes": {"type": "Case"}, "Id": "5005e00000AAAAAAA1"}]), headers={"Sforce-Limit-Info": "api-usage=25/5000; per-app-api-usage=17/250(appName=deskwatch)"})
    async with connector() as conn:
        result = await conn.check()
        assert result.ok and "https://na1.salesforce.com" in result.message and "25/5000" in result.message
        assert conn.api_usage == mapping.ApiUsage(25, 5000)


async def test_429_honours_retry_after_then_succeeds(httpx_mock, token, connector, sleeps):
    httpx_mock.add_response(url=QUERY_ALL, status_code=429, headers={"Retry-After": "7"}, text="slow down")
    httpx_mock.add_response(url=QUERY_ALL, json=query_body([case_record()]))
    httpx_mock.add_response(url=DELETED, json=deleted_empty())
    pages = await collect(connector())
    assert len(pages[0].tickets) == 1 and 7 in sleeps.waits


async def test_5xx_is_retried_for_reads(httpx_mock, token, connector, sleeps):
    httpx_mock.add_response(url=QUERY_ALL, status_code=503, text="Service Unavailable")
    httpx_mock.add_response(url=QUERY_ALL, json=query_body([case_record()]))
    httpx_mock.add_response(url=DELETED, json=deleted_empty())
    pages = await collect(connector())
    assert len(pages[0].tickets) == 1 and len(sleeps.waits) == 1


async def test_5xx_that_persists_is_a_transient_error(httpx_mock, token, connector):
    httpx_mock.add_response(url=QUERY_ALL, status_code=500, json=[{"message": "An unexpected error occurred", "errorCode": "UNKNOWN_EXCEPTION"}], is_reusable=True)
    with pytest.raises(TransientError, match="gave up after 3 attempts"):
        await collect(connector())


async def test_daily_request_limit_is_rate_limited_without_retrying(httpx_mock, token, connector, sleeps):
    httpx_mock.add_response(url=QUERY_ALL, status_code=403, json=[{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    with pytest.raises(RateLimited, match="daily API request limit") as e:
        await collect(connector())
    assert e.value.retry_after == 3600 and sleeps.waits == []


async def test_concurrent_request_limit_is_retried_soon(httpx_mock, token, connector, sleeps):
    httpx_mock.add_response(url=QUERY_ALL, status_code=403, json=[{"message": "ConcurrentPerOrgLongTxn Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    httpx_mock.add_response(url=QUERY_ALL, json=query_body([case_record()]))
    httpx_mock.add_response(url=DELETED, json=deleted_empty())
    pages = await collect(connector())
    assert len(pages[0].tickets) == 1 and sleeps.waits == [5.0]


async def test_invalid_field_names_the_setting_to_fix(httpx_mock, token, connector, api_samples):
    httpx_mock.add_response(url=QUERY_ALL, status_code=400, json=sample(api_samples, "error_400_query_invalid_field.json"))
    with pytest.raises(Exception, match=r"INVALID_FIELD: error_message; check account_\*_field / tags_field"):
        await collect(connector())


async def test_jwt_bearer_signs_an_rs256_assertion(httpx_mock, connector, api_samples, monkeypatch):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    monkeypatch.setenv("SF_JWT_KEY", pem)
    httpx_mock.add_response(method="POST", url="https://login.salesforce.com/services/oauth2/token", json=sample(api_samples, "oauth_token_success_response.json"))
    httpx_mock.add_response(url=QUERY, json=query_body([]))
    conn = connector(auth="jwt_bearer", username="integration@acme.example", private_key="${SF_JWT_KEY}", login_url="https://login.salesforce.com", client_secret=None)
    assert (await conn.check()).ok
    form = parse_qs(httpx_mock.get_requests()[0].content.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    head, payload, sig = form["assertion"][0].split(".")
    pad = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))  # noqa: E731
    assert json.loads(pad(head)) == {"alg": "RS256", "typ": "JWT"}
    claims = json.loads(pad(payload))
    assert (claims["iss"], claims["sub"], claims["aud"]) == ("3MVG9-consumer-key", "integration@acme.example", "https://login.salesforce.com")
    key.public_key().verify(pad(sig), f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())  # raises if bad
    assert "BEGIN" not in repr(conn.settings)


# ---------------------------------------------------------------------------------------------
# updates

CASE = "5005e00000AbCdEAAZ"
COMMENTS_Q = re.compile(r"^https://na1\.salesforce\.com/services/data/v61\.0/query\?q=SELECT\+Id%2C\+CommentBody\+FROM\+CaseComment.*")
STATE_Q = re.compile(r"^https://na1\.salesforce\.com/services/data/v61\.0/query\?q=SELECT\+Id%2C\+LastModifiedDate.*FROM\+Case\+WHERE.*")
MODIFIED = "2026-11-23T09:59:58.250+0000"


def case_state(httpx_mock, tags: str | None = None, modified: str = MODIFIED, **kw) -> None:
    """The Case read each update is planned against (tags and LastModifiedDate)."""
    row = {"attributes": {"type": "Case"}, "Id": CASE, "LastModifiedDate": modified, **({"Tags__c": tags} if tags is not None else {})}
    httpx_mock.add_response(url=STATE_Q, json=query_body([row]), **kw)
DESCRIBE = {
    "name": "Case",
    "fields": [
        {"name": "Priority", "picklistValues": [{"value": "High", "active": True}, {"value": "Medium", "active": True}, {"value": "Low", "active": True}, {"value": "Critical", "active": False}]},
        {"name": "Status", "picklistValues": [{"value": "New", "active": True}, {"value": "Working", "active": True}, {"value": "Escalated", "active": True}, {"value": "Closed", "active": True}]},
        {"name": "Subject", "picklistValues": []},
    ],
}


def upd(**kw):
    return TicketUpdate(ticket_id=f"acme:{CASE}", source="acme", idempotency_key="9b1c2d3e4f5a6b7c", **kw)


COMPOSITE = f"{API}/composite"


def composite_ok(patched: bool = True) -> dict:
    rows = [{"body": None, "httpHeaders": {}, "httpStatusCode": 204, "referenceId": "deskwatchCase"}] if patched else []
    rows.append({"body": {"id": "00a5e000001NEWAAA", "success": True, "errors": []}, "httpHeaders": {}, "httpStatusCode": 201,
                 "referenceId": "deskwatchNote"})
    return {"compositeResponse": rows}


def composite_requests(httpx_mock) -> list[dict]:
    return [json.loads(r.content) for r in httpx_mock.get_requests() if r.method == "POST" and r.url.path.endswith("/composite")]


async def test_update_sends_the_patch_and_the_marker_as_one_all_or_none_request(httpx_mock, token, connector):
    httpx_mock.add_response(url=COMMENTS_Q, json=query_body([{"attributes": {"type": "CaseComment"}, "Id": "00a1", "CommentBody": "Customer called back"}]))
    case_state(httpx_mock, tags="billing;export")
    httpx_mock.add_response(url=re.compile(r".*/query\?q=SELECT\+Id%2C\+Name\+FROM\+Group.*"), json=query_body([{"Id": "00G5e000001QueUEAA", "Name": "Tier 2"}]))
    httpx_mock.add_response(url=f"{API}/sobjects/Case/describe", json=DESCRIBE)
    httpx_mock.add_response(method="POST", url=COMPOSITE, json=composite_ok())

    u = upd(priority="high", status="open", escalated=True, group="Tier 2", tags_add=("vip",), tags_remove=("export",), private_note="Renewal at risk; Tier 2 to call today.")
    async with connector() as conn:
        result = await conn.update(u)
    assert result.outcome == "applied" and result.ticket_id == f"acme:{CASE}"
    assert not [r for r in httpx_mock.get_requests() if r.method == "PATCH" or r.url.path.endswith("/sobjects/CaseComment")]
    [sent] = composite_requests(httpx_mock)
    assert sent["allOrNone"] is True
    patch, note = sent["compositeRequest"]
    assert (patch["method"], patch["url"]) == ("PATCH", f"/services/data/v61.0/sobjects/Case/{CASE}")
    assert patch["body"] == {"Priority": "High", "Status": "Working", "IsEscalated": True, "OwnerId": "00G5e000001QueUEAA", "Tags__c": "billing;vip"}
    assert (note["method"], note["url"]) == ("POST", "/services/data/v61.0/sobjects/CaseComment")
    assert note["body"]["ParentId"] == CASE and note["body"]["IsPublished"] is False
    assert note["body"]["CommentBody"].startswith("[deskwatch dw-9b1c2d3e4f5a]\nRenewal at risk")


async def test_update_seen_before_is_already_applied_and_changes_nothing(httpx_mock, token, connector):
    body = writeback.marker("9b1c2d3e4f5a6b7c") + "\nRenewal at risk"
    httpx_mock.add_response(url=COMMENTS_Q, json=query_body([{"Id": "00a1", "CommentBody": body}]))
    async with connector() as conn:
        result = await conn.update(upd(priority="high", private_note="Renewal at risk"))
    assert result.outcome == "already_applied"
    assert [r.method for r in httpx_mock.get_requests() if r.method != "POST" or "token" not in r.url.path] == ["GET"]


async def test_lost_answer_is_settled_by_the_marker_and_never_resent(httpx_mock, token, connector):
    httpx_mock.add_response(url=COMMENTS_Q, json=query_body([]))
    case_state(httpx_mock, is_optional=True)
    httpx_mock.add_exception(httpx.ReadTimeout("read timed out"), method="POST", url=COMPOSITE)
    httpx_mock.add_response(url=COMMENTS_Q, json=query_body([{"Id": "00a9", "CommentBody": writeback.marker("9b1c2d3e4f5a6b7c") + "\n- escalated -> yes"}]))
    async with connector() as conn:
        result = await conn.update(upd(escalated=True))
    assert result.outcome == "applied"
    assert len(composite_requests(httpx_mock)) == 1  # never re-sent


async def test_answer_cut_short_is_settled_by_the_marker_not_counted_as_refused(httpx_mock, token, connector):
    httpx_mock.add_response(url=COMMENTS_Q, json=query_body([]))
    case_state(httpx_mock, is_optional=True)
    httpx_mock.add_response(method="POST", url=COMPOSITE, content=b'{"compositeResponse": [{"body": nu', headers={"content-type": "application/json"})
    httpx_mock.add_response(url=COMMENTS_Q, json=query_body([{"Id": "00a9", "CommentBody": writeback.marker("9b1c2d3e4f5a6b7c")}]))
    async with connector() as conn:
        result = await conn.update(upd(escalated=True))
    assert result.outcome == "applied"
    assert len(composite_requests(httpx_mock)) == 1


async def test_lost_answer_without_the_marker_is_raised_for_a_later_retry(httpx_mock, token, connector):
    httpx_mock.add_response(url=COMMENTS_Q, json=query_body([]), is_reusable=True)
    case_state(httpx_mock, is_optional=True)
    httpx_mock.add_exception(httpx.ReadTimeout("read timed out"), method="POST", url=COMPOSITE)
    async with connector() as conn:
        with pytest.raises(TransientError, match="not applied.*timed out") as raised:
            await conn.update(upd(escalated=True))
    assert not isinstance(raised.value, OutcomeUnknown)  # the read settled it: nothing landed


async def test_lost_answer_that_cannot_be_checked_is_unknown_not_failed(httpx_mock, token, connector):
    httpx_mock.add_response(url=COMMENTS_Q, json=query_body([]))
    case_state(httpx_mock, is_optional=True)
    httpx_mock.add_exception(httpx.ReadTimeout("read timed out"), method="POST", url=COMPOSITE)
    httpx_mock.add_response(url=COMMENTS_Q, status_code=503, json=[{"message": "down", "errorCode": "SERVER_UNAVAILABLE"}], is_reusable=True)
    async with connector() as conn:
        with pytest.raises(OutcomeUnknown, match="answer was lost.*could not be read"):
            await conn.update(upd(escalated=True))


async def test_refused_subrequest_rolls_back_and_is_a_failed_update(httpx_mock, token, connector):
    httpx_mock.add_response(url=COMMENTS_Q, json=query_body([]))
    case_state(httpx_mock, is_optional=True)
    halted = [{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since another operation in the same transaction failed."}]
    httpx_mock.add_response(method="POST", url=COMPOSITE, json={"compositeResponse": [
        {"body": [{"errorCode": "INVALID_FIELD", "message": "No such column 'foo' on sobject of type Case"}], "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "deskwatchCase"},
        {"body": halted, "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "deskwatchNote"}]})
    async with connector() as conn:
        result = await conn.update(upd(escalated=False))
    assert result.outcome == "failed" and "No such column 'foo'" in result.message and "PROCESSING_HALTED" not in result.message
    assert "nothing changed" in result.message


async def test_limit_on_the_composite_request_is_rate_limited(httpx_mock, token, connector):
    httpx_mock.add_response(url=COMMENTS_Q, json=query_body([]))
    case_state(httpx_mock, is_optional=True)
    httpx_mock.add_response(method="POST", url=COMPOSITE, status_code=403,
                            json=[{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    async with connector() as conn:
        with pytest.raises(RateLimited):
            await conn.update(upd(escalated=True))


async def test_value_the_org_lacks_fails_before_any_write(httpx_mock, token, connector):
    httpx_mock.add_response(url=COMMENTS_Q, json=query_body([]))
    case_state(httpx_mock, is_optional=True)
    httpx_mock.add_response(url=f"{API}/sobjects/Case/describe", json=DESCRIBE)
    async with connector() as conn:
        result = await conn.update(upd(status="pending"))
    assert result.outcome == "failed" and "status 'pending'" in result.message and "Closed, Escalated, New, Working" in result.message
    assert not [r for r in httpx_mock.get_requests() if r.method in ("PATCH",) or "CaseComment" in r.url.path and r.method == "POST"]


async def test_bad_ticket_id_is_refused_without_a_call(httpx_mock, connector):
    result = await connector().update(TicketUpdate(ticket_id="acme:1' OR Id != '", source="acme", idempotency_key="k", escalated=True))
    assert result.outcome == "failed" and httpx_mock.get_requests() == []


# ---------------------------------------------------------------------------------------------
# plugin registration


def test_the_plugin_registers_its_connector_type():
    pm = pluggy.PluginManager("deskwatch")
    pm.add_hookspecs(hookspecs)
    pm.register(plugin)
    registered = []
    pm.hook.deskwatch_register_connector_types(register=registered.append)
    (ct,) = registered
    assert ct.name == "salesforce" and ct.parse_settings is plugin.parse_settings


async def test_connector_type_builds_a_connector_from_config(monkeypatch):
    monkeypatch.setenv("SF_CONN_SECRET", SECRET)
    settings = plugin.CONNECTOR_TYPE.parse_settings(Section({"base_url": "http://127.0.0.1:8765", "client_id": "id", "client_secret": "${SF_CONN_SECRET}", "instance_url": "http://127.0.0.1:8765"}, "sources.sim", "c.toml"))
    conn = plugin.CONNECTOR_TYPE.create("sim", settings, client_factory())
    assert conn.source == "sim" and conn.api_base == "http://127.0.0.1:8765"
    assert SECRET not in repr(conn) and SECRET not in repr(conn.settings)
    await conn.close()
    await conn.close()  # safe twice


# ---------------------------------------------------------------------------------------------
# bulk updates (sObject Collections)

CASE_B = "5005e00000BbBbBAAZ"
CASE_C = "5005e00000CcCcCAAZ"


async def test_update_many_reads_each_collection_row(httpx_mock, token, connector, api_samples):
    done_before = writeback.marker("key-c-000000000") + "\nalready done"
    httpx_mock.add_response(url=re.compile(r".*/query\?q=SELECT\+ParentId%2C\+CommentBody\+FROM\+CaseComment\+WHERE\+ParentId\+IN.*"),
                            json=query_body([{"ParentId": CASE_C, "CommentBody": done_before}, {"ParentId": CASE, "CommentBody": "unrelated"}]))
    # the recorded partial failure: first row ok, second row MALFORMED_ID (200 all the same)
    httpx_mock.add_response(method="PATCH", url=f"{API}/composite/sobjects", json=sample(api_samples, "docs_example_sobject_collections_update_partial_failure.json"))
    httpx_mock.add_response(method="POST", url=f"{API}/sobjects/CaseComment", status_code=201, json=sample(api_samples, "create_success_response.json"))
    ups = [
        TicketUpdate(ticket_id=f"acme:{CASE}", source="acme", idempotency_key="key-a-000000000", escalated=True),
        TicketUpdate(ticket_id=f"acme:{CASE_B}", source="acme", idempotency_key="key-b-000000000", escalated=True),
        TicketUpdate(ticket_id=f"acme:{CASE_C}", source="acme", idempotency_key="key-c-000000000", escalated=True),
    ]
    async with connector() as conn:
        results = await conn.update_many(ups)
    assert [r.outcome for r in results] == ["applied", "failed", "already_applied"]
    assert "MALFORMED_ID" in results[1].message and results[1].ticket_id == f"acme:{CASE_B}"
    patch = json.loads(next(r for r in httpx_mock.get_requests() if r.method == "PATCH").content)
    assert patch["allOrNone"] is False
    assert patch["records"] == [
        {"attributes": {"type": "Case"}, "id": CASE, "IsEscalated": True},
        {"attributes": {"type": "Case"}, "id": CASE_B, "IsEscalated": True},
    ]
    notes = [json.loads(r.content) for r in httpx_mock.get_requests() if r.method == "POST" and "CaseComment" in r.url.path]
    assert [n["ParentId"] for n in notes] == [CASE]  # no note where the PATCH failed or was done before


async def test_update_many_daily_limit_fails_what_is_left(httpx_mock, token, connector):
    httpx_mock.add_response(url=re.compile(r".*/query\?q=SELECT\+ParentId.*"), json=query_body([]))
    httpx_mock.add_response(method="PATCH", url=f"{API}/composite/sobjects", status_code=403, json=[{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    ups = [TicketUpdate(ticket_id=f"acme:{c}", source="acme", idempotency_key=f"k{c}", priority=None, escalated=True) for c in (CASE, CASE_B)]
    async with connector() as conn:
        results = await conn.update_many(ups)
    assert [r.outcome for r in results] == ["failed", "failed"] and "daily API request limit" in results[0].message
