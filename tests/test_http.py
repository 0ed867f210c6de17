"""HTTP building blocks: retries, classification, redaction, paginators, auth, rate budget."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from deskwatch.core.connect import http
from deskwatch.core.connect.contract import AuthError, BadResponse, ConnectorError, RateLimited, TransientError
from deskwatch.core.model.settings import ConfigError, Secret, Section

BASE = "https://acme.example.com"
TOKEN = "tok_9f8e7d6c5b4a39281706"


class Sleeps:
    """An instant sleep that records what it was asked to wait."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def client(sleeps: Sleeps, **kw) -> http.ApiClient:
    return http.make_api_client(BASE, sleep=sleeps, source="acme", **kw)


# -- retries ----------------------------------------------------------------------------------


async def test_429_waits_for_retry_after_seconds_then_succeeds(httpx_mock, sleeps):
    httpx_mock.add_response(url=f"{BASE}/tickets", status_code=429, headers={"Retry-After": "7"}, text="Rate limit for ticket updates exceeded")
    httpx_mock.add_response(url=f"{BASE}/tickets", json={"tickets": [1]})
    async with client(sleeps) as c:
        assert await c.get_json("/tickets") == {"tickets": [1]}
        assert c.attempts == 2
    assert sleeps.calls == [7.0]


async def test_retry_after_as_http_date(httpx_mock, sleeps):
    when = datetime.now(timezone.utc) + timedelta(seconds=20)
    httpx_mock.add_response(status_code=503, headers={"Retry-After": format_datetime(when, usegmt=True)})
    httpx_mock.add_response(json={})
    async with client(sleeps) as c:
        await c.get_json("/x")
    assert len(sleeps.calls) == 1 and 17 <= sleeps.calls[0] <= 20.5


def test_parse_retry_after_forms():
    now = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    assert http.parse_retry_after("12", now=now) == 12.0
    assert http.parse_retry_after("Mon, 23 Nov 2026 10:01:00 GMT", now=now) == 60.0
    assert http.parse_retry_after("Mon, 23 Nov 2026 09:00:00 GMT", now=now) == 0.0  # in the past: go now
    assert http.parse_retry_after("soon", now=now) is None
    assert http.parse_retry_after(None) is None


async def test_retry_after_is_honoured_even_past_max_delay(httpx_mock, sleeps):
    httpx_mock.add_response(status_code=429, headers={"Retry-After": "93"})
    httpx_mock.add_response(json={"ok": True})
    async with client(sleeps, retry=http.RetryPolicy(max_delay=60, max_total_wait=120)) as c:
        await c.get_json("/x")
    assert sleeps.calls == [93.0]  # waiting less would only earn another 429


async def test_retry_after_beyond_the_wait_budget_gives_up_and_passes_it_on(httpx_mock, sleeps):
    httpx_mock.add_response(status_code=429, headers={"Retry-After": "3600"})
    async with client(sleeps, retry=http.RetryPolicy(max_delay=60, max_total_wait=120)) as c:
        with pytest.raises(RateLimited) as e:
            await c.get_json("/x")
    assert sleeps.calls == [] and e.value.retry_after == 3600


async def test_truncated_json_read_is_sent_again(httpx_mock, sleeps):
    httpx_mock.add_response(content=b'{"tickets": [{"id": 1', headers={"content-type": "application/json"})
    httpx_mock.add_response(json={"tickets": []})
    async with client(sleeps) as c:
        assert await c.get_json("/x") == {"tickets": []}
    assert len(sleeps.calls) == 1


async def test_truncated_json_after_a_write_is_not_sent_again(httpx_mock, sleeps):
    httpx_mock.add_response(method="POST", content=b'{"id": ', headers={"content-type": "application/json"})
    async with client(sleeps) as c:
        with pytest.raises(BadResponse, match="cut short or corrupted"):
            await c.json("POST", "/notes", json={"body": "x"})


async def test_5xx_backs_off_exponentially_with_a_cap_then_gives_up(httpx_mock, sleeps):
    for _ in range(6):
        httpx_mock.add_response(status_code=502, text="bad gateway")
    policy = http.RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=5.0, max_total_wait=1000)
    async with client(sleeps, retry=policy) as c:
        with pytest.raises(TransientError) as e:
            await c.get("/x")
        assert c.attempts == 6
    assert "gave up after 6 attempts" in str(e.value) and "502" in str(e.value)
    assert len(sleeps.calls) == 5
    assert all(w <= 5.0 for w in sleeps.calls)
    # equal jitter: each wait is at least half its exponential step
    for i, w in enumerate(sleeps.calls, start=1):
        assert w >= min(5.0, 2 ** (i - 1)) / 2


async def test_total_wait_budget_stops_retrying_early(httpx_mock, sleeps):
    httpx_mock.add_response(status_code=429, headers={"Retry-After": "40"}, is_reusable=True)
    policy = http.RetryPolicy(max_attempts=10, max_total_wait=100)
    async with client(sleeps, retry=policy) as c:
        with pytest.raises(RateLimited) as e:
            await c.get("/x")
    assert sleeps.calls == [40.0, 40.0]  # a third 40 s wait would exceed 100 s
    assert e.value.retry_after == 40.0


async def test_post_is_not_retried_on_5xx_but_is_on_429(httpx_mock, sleeps):
    httpx_mock.add_response(method="POST", url=f"{BASE}/notes", status_code=500)
    async with client(sleeps) as c:
        with pytest.raises(TransientError):
            await c.request("POST", "/notes", json={"body": "x"})
        assert c.attempts == 1
    httpx_mock.add_response(method="POST", url=f"{BASE}/notes", status_code=429, headers={"Retry-After": "1"})
    httpx_mock.add_response(method="POST", url=f"{BASE}/notes", status_code=201, json={"id": 5})
    async with client(sleeps) as c:
        assert await c.json("POST", "/notes", json={"body": "x"}) == {"id": 5}


async def test_connection_refused_is_retried_then_reported_as_transient(httpx_mock, sleeps):
    httpx_mock.add_exception(httpx.ConnectError("connection refused"), is_reusable=True)
    async with client(sleeps, retry=http.RetryPolicy(max_attempts=3)) as c:
        with pytest.raises(TransientError) as e:
            await c.get("/x")
    assert "cannot connect" in str(e.value) and "gave up after 3 attempts" in str(e.value)


async def test_4xx_fails_at_once_and_401_is_an_auth_error(httpx_mock, sleeps):
    httpx_mock.add_response(status_code=404, json={"error": "RecordNotFound", "description": "Not found"})
    httpx_mock.add_response(status_code=401, json={"error": "Couldn't authenticate you"})
    async with client(sleeps) as c:
        with pytest.raises(ConnectorError) as e404:
            await c.get("/tickets/9.json")
        with pytest.raises(AuthError) as e401:
            await c.get("/tickets/9.json")
    assert type(e404.value) is ConnectorError and "RecordNotFound" in str(e404.value) and "404" in str(e404.value)
    assert "credentials were refused" in str(e401.value)
    assert sleeps.calls == []


async def test_custom_classifier_is_asked_first(httpx_mock, sleeps):
    def salesforce(response: httpx.Response):
        if response.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in response.text:
            return http.Resolution(http.Action.RATE_LIMITED, "daily API limit reached", retry_after=5)
        return None

    httpx_mock.add_response(status_code=403, json=[{"message": "ConcurrentRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    httpx_mock.add_response(json={"records": []})
    async with client(sleeps, classifier=salesforce) as c:
        assert await c.get_json("/query") == {"records": []}
    assert sleeps.calls == [5]


async def test_non_json_body_is_a_bad_response(httpx_mock, sleeps):
    httpx_mock.add_response(text="<html>maintenance</html>", headers={"content-type": "text/html"})
    async with client(sleeps) as c:
        with pytest.raises(BadResponse, match="expected a JSON body.*text/html"):
            await c.get_json("/x")


# -- classification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status,action",
    [(200, "ok"), (204, "ok"), (304, "ok"), (429, "rate_limited"), (500, "retry"), (503, "retry"), (408, "retry"),
     (401, "reauthenticate"), (403, "fail"), (404, "fail"), (409, "fail"), (422, "fail")],
)
def test_classify(status, action):
    r = httpx.Response(status, request=httpx.Request("GET", f"{BASE}/x"))
    assert http.classify(r).action.value == action


# -- redaction --------------------------------------------------------------------------------


def test_redact_masks_headers_urls_query_and_known_values():
    text = (
        f"GET https://bob:hunter22@acme.example.com/api?access_token={TOKEN}&page=2 "
        f"Authorization: Basic YWxpY2U6c2VjcmV0 and 'authorization': 'Bearer abc.def.ghi' plus {TOKEN}"
    )
    out = http.redact(text, secrets=[TOKEN])
    assert TOKEN not in out and "hunter22" not in out and "YWxpY2U6c2VjcmV0" not in out and "abc.def.ghi" not in out
    assert "page=2" in out and "acme.example.com/api" in out
    assert http.redact("my key is s3cr3t-value", secrets=[Secret("s3cr3t-value")]) == "my key is ***"


async def test_a_token_never_reaches_exception_messages_or_logs(httpx_mock, sleeps, caplog):
    secret = "zd-api-token-0123456789abcdef"
    auth = http.zendesk_token_auth("ops@acme.example.com", Secret(secret, "${ZENDESK_TOKEN}"))
    # The server echoes what it got, credentials included (some do).
    echo = f"bad token {secret} for url ?token={secret}"
    httpx_mock.add_response(status_code=503, text=echo)
    httpx_mock.add_response(status_code=401, text=echo)
    caplog.set_level(logging.DEBUG)
    async with http.make_api_client(BASE, auth=auth, sleep=sleeps, source="zd") as c:
        with pytest.raises(AuthError) as e:
            await c.get(f"/api/v2/tickets.json?token={secret}")
    rendered = [r.getMessage() for r in caplog.records]
    assert rendered, "the retry should have been logged"
    for text in [str(e.value), repr(e.value), *rendered, repr(auth)]:
        assert secret not in text
    assert "***" in str(e.value)


def test_redacting_filter_cleans_log_records(caplog):
    http.register_secret("pw-4242-very-secret")
    logger = logging.getLogger("deskwatch.test.redact")
    f = http.RedactingFilter()
    logger.addFilter(f)
    try:
        with caplog.at_level(logging.INFO, logger="deskwatch.test.redact"):
            logger.info("login with %s", "pw-4242-very-secret")
    finally:
        logger.removeFilter(f)
    assert caplog.records[0].getMessage() == "login with ***"


# -- paginators -------------------------------------------------------------------------------


async def test_cursor_paginator_follows_cursor_and_stops_on_end_of_stream(httpx_mock, sleeps):
    url = f"{BASE}/api/v2/incremental/tickets/cursor.json"
    httpx_mock.add_response(url=f"{url}?start_time=100", json={"tickets": [{"id": 1}], "after_cursor": "c1", "end_of_stream": False})
    httpx_mock.add_response(url=f"{url}?start_time=100&cursor=c1", json={"tickets": [{"id": 2}], "after_cursor": "c2", "end_of_stream": True})
    p = http.CursorPaginator("after_cursor", end_path="end_of_stream")
    async with client(sleeps) as c:
        pages = [pg async for pg in http.paginate(c, url, p, params={"start_time": 100}, records="tickets")]
    assert [pg.records for pg in pages] == [({"id": 1},), ({"id": 2},)]
    assert [pg.token for pg in pages] == [None, "c1"]
    assert [pg.last for pg in pages] == [False, True]
    assert p.last_cursor == "c2"  # where the next sync resumes


async def test_cursor_loop_is_detected(httpx_mock, sleeps):
    httpx_mock.add_response(json={"comments": [{"id": 1}], "meta": {"has_more": True, "after_cursor": "A"}})
    httpx_mock.add_response(json={"comments": [{"id": 2}], "meta": {"has_more": True, "after_cursor": "B"}})
    httpx_mock.add_response(json={"comments": [{"id": 3}], "meta": {"has_more": True, "after_cursor": "A"}})
    p = http.CursorPaginator("meta.after_cursor", cursor_param="page[after]", has_more_path="meta.has_more")
    seen = []
    async with client(sleeps) as c:
        with pytest.raises(http.PaginationLoop, match="loop detected in pagination"):
            async for pg in http.paginate(c, "/comments.json", p, records="comments"):
                seen.extend(pg.records)
    assert seen == [{"id": 1}, {"id": 2}]


async def test_cursor_stops_on_empty_page_even_if_api_says_more(httpx_mock, sleeps):
    httpx_mock.add_response(json={"comments": [], "meta": {"has_more": True, "after_cursor": "Z"}})
    p = http.CursorPaginator("meta.after_cursor", has_more_path="meta.has_more")
    async with client(sleeps) as c:
        pages = [pg async for pg in http.paginate(c, "/c", p, records="comments")]
    assert len(pages) == 1 and pages[0].last


async def test_page_number_paginator_stops_on_short_page_and_respects_cap(httpx_mock, sleeps):
    for page in (1, 2):
        httpx_mock.add_response(url=f"{BASE}/api/v2/tickets?updated_since=2026-01-01T00%3A00%3A00Z&page={page}&per_page=2", json=[{"id": page * 10}, {"id": page * 10 + 1}])
    httpx_mock.add_response(url=f"{BASE}/api/v2/tickets?updated_since=2026-01-01T00%3A00%3A00Z&page=3&per_page=2", json=[{"id": 30}])
    p = http.PageNumberPaginator(per_page=2)
    async with client(sleeps) as c:
        pages = [pg async for pg in http.paginate(c, "/api/v2/tickets", p, params={"updated_since": "2026-01-01T00:00:00Z"}, records=lambda b: b)]
    assert [len(pg.records) for pg in pages] == [2, 2, 1] and [pg.token for pg in pages] == [None, 2, 3]
    assert not p.capped

    for page in (1, 2):
        httpx_mock.add_response(url=f"{BASE}/t?page={page}&per_page=1", json=[{"id": page}])
    capped = http.PageNumberPaginator(per_page=1, max_pages=2)
    async with client(sleeps) as c:
        pages = [pg async for pg in http.paginate(c, "/t", capped, records=lambda b: b)]
    assert len(pages) == 2 and capped.capped


async def test_page_number_with_link_header(httpx_mock, sleeps):
    httpx_mock.add_response(url=f"{BASE}/t?page=1", json=[{"id": 1}], headers={"link": f'<{BASE}/t?page=2>; rel="next"'})
    httpx_mock.add_response(url=f"{BASE}/t?page=2", json=[{"id": 2}])
    p = http.PageNumberPaginator(use_link_header=True)
    async with client(sleeps) as c:
        pages = [pg async for pg in http.paginate(c, "/t", p, records=lambda b: b)]
    assert [pg.records for pg in pages] == [({"id": 1},), ({"id": 2},)]


async def test_next_url_paginator_follows_next_records_url(httpx_mock, sleeps):
    q = f"{BASE}/services/data/v59.0/query?q=SELECT+Id+FROM+Case"
    httpx_mock.add_response(url=q, json={"done": False, "records": [{"Id": "a"}], "nextRecordsUrl": "/services/data/v59.0/query/01g-2000"})
    httpx_mock.add_response(url=f"{BASE}/services/data/v59.0/query/01g-2000", json={"done": True, "records": [{"Id": "b"}]})
    p = http.NextUrlPaginator("nextRecordsUrl", done_path="done")
    async with client(sleeps) as c:
        ids = [r["Id"] async for pg in http.paginate(c, "/services/data/v59.0/query", p, params={"q": "SELECT Id FROM Case"}, records="records") for r in pg.records]
    assert ids == ["a", "b"]


async def test_records_path_that_is_not_a_list_names_the_field(httpx_mock, sleeps):
    httpx_mock.add_response(json={"tickets": {"id": 1}})
    async with client(sleeps) as c:
        with pytest.raises(BadResponse, match="tickets: expected a list, got dict"):
            async for _ in http.paginate(c, "/t", http.CursorPaginator("after_cursor"), records="tickets"):
                pass
    with pytest.raises(BadResponse, match="meta: expected an object with 'after_cursor', got list"):
        http.dig({"meta": []}, "meta.after_cursor")


# -- auth -------------------------------------------------------------------------------------


async def test_basic_auth_helpers_send_the_documented_headers(httpx_mock, sleeps):
    httpx_mock.add_response(json={})
    httpx_mock.add_response(json={})
    async with http.make_api_client(BASE, auth=http.zendesk_token_auth("a@b.co", Secret("tok1234")), sleep=sleeps) as c:
        await c.get("/z")
    async with http.make_api_client(BASE, auth=http.freshdesk_key_auth(Secret("key5678")), sleep=sleeps) as c:
        await c.get("/f")
    z, f = httpx_mock.get_requests()
    assert z.headers["Authorization"] == httpx.BasicAuth("a@b.co/token", "tok1234")._auth_header
    assert f.headers["Authorization"] == httpx.BasicAuth("key5678", "X")._auth_header
    assert z.headers["User-Agent"].startswith("deskwatch")


async def test_api_key_and_bearer(httpx_mock, sleeps):
    httpx_mock.add_response(json={})
    httpx_mock.add_response(json={})
    async with http.make_api_client(BASE, auth=http.ApiKeyAuth("X-Api-Key", "k-123456"), sleep=sleeps) as c:
        await c.get("/a")
    async with http.make_api_client(BASE, auth=http.BearerAuth(Secret("b-123456")), sleep=sleeps) as c:
        await c.get("/b")
    a, b = httpx_mock.get_requests()
    assert a.headers["X-Api-Key"] == "k-123456" and b.headers["Authorization"] == "Bearer b-123456"


TOKEN_URL = "https://login.example.com/services/oauth2/token"


async def test_oauth2_refreshes_once_on_401(httpx_mock, sleeps):
    httpx_mock.add_response(url=TOKEN_URL, json={"access_token": "AT-first-000", "instance_url": "https://na1.example.com"})
    httpx_mock.add_response(url="https://na1.example.com/services/data/v59.0/limits", status_code=401,
                            json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    httpx_mock.add_response(url=TOKEN_URL, json={"access_token": "AT-second-000", "instance_url": "https://na1.example.com"})
    httpx_mock.add_response(url="https://na1.example.com/services/data/v59.0/limits", json={"DailyApiRequests": {}})
    auth = http.OAuth2Auth(TOKEN_URL, client_id="cid", client_secret=Secret("csecret-000"), use_instance_url=True)
    async with http.make_api_client("https://placeholder.invalid", auth=auth, sleep=sleeps) as c:
        assert await c.get_json("/services/data/v59.0/limits") == {"DailyApiRequests": {}}
        # cached: no third token request
        httpx_mock.add_response(url="https://na1.example.com/services/data/v59.0/x", json={})
        await c.get("/services/data/v59.0/x")
    assert auth.token_requests == 2
    reqs = httpx_mock.get_requests()
    assert reqs[3].headers["Authorization"] == "Bearer AT-second-000"
    assert b"grant_type=client_credentials" in reqs[0].content


async def test_oauth2_second_401_is_an_auth_error(httpx_mock, sleeps):
    httpx_mock.add_response(url=TOKEN_URL, json={"access_token": "AT-aaaa-111"}, is_reusable=True)
    httpx_mock.add_response(url=f"{BASE}/api", status_code=401, is_reusable=True)
    auth = http.OAuth2Auth(TOKEN_URL, client_id="cid", client_secret="csecret-111")
    async with http.make_api_client(BASE, auth=auth, sleep=sleeps) as c:
        with pytest.raises(AuthError) as e:
            await c.get("/api")
    assert auth.token_requests == 2
    assert "AT-aaaa-111" not in str(e.value) and "csecret-111" not in str(e.value)


async def test_oauth2_jwt_bearer_and_token_refusal(httpx_mock, sleeps):
    httpx_mock.add_response(url=TOKEN_URL, status_code=400, json={"error": "invalid_grant", "error_description": "user hasn't approved this consumer"})
    auth = http.OAuth2Auth(TOKEN_URL, assertion=lambda: "eyJhbGciOiJSUzI1NiJ9.claims.sig")
    async with http.make_api_client(BASE, auth=auth, sleep=sleeps, source="sf") as c:
        with pytest.raises(AuthError) as e:
            await c.get("/api")
    msg = str(e.value)
    assert "invalid_grant" in msg and "hasn't approved" in msg and msg.startswith("sf: ")
    assert b"jwt-bearer" in httpx_mock.get_requests()[0].content
    assert "eyJhbGciOiJSUzI1NiJ9.claims.sig" not in msg


async def test_oauth2_refreshes_ahead_of_expiry(httpx_mock, sleeps):
    now = [1000.0]
    httpx_mock.add_response(url=TOKEN_URL, json={"access_token": "T1-xxxx", "expires_in": 3600})
    httpx_mock.add_response(url=TOKEN_URL, json={"access_token": "T2-xxxx", "expires_in": 3600})
    httpx_mock.add_response(url=f"{BASE}/a", json={}, is_reusable=True)
    auth = http.OAuth2Auth(TOKEN_URL, client_id="c", client_secret="s-123456", clock=lambda: now[0])
    async with http.make_api_client(BASE, auth=auth, sleep=sleeps) as c:
        await c.get("/a")
        now[0] += 1000
        await c.get("/a")
        assert auth.token_requests == 1
        now[0] += 3000
        await c.get("/a")
    assert auth.token_requests == 2


# -- rate budget ------------------------------------------------------------------------------


def _resp(headers):
    return httpx.Response(200, headers=headers, request=httpx.Request("GET", BASE))


def test_budget_reads_helpdesk_headers():
    b = http.RateBudget()
    b.observe(_resp({"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "698"}))
    assert (b.limit, b.remaining) == (700, 698)
    b.observe(_resp({"X-Ratelimit-Total": "400", "X-Ratelimit-Remaining": "12"}))
    assert (b.limit, b.remaining) == (400, 12)
    b.observe(_resp({"Sforce-Limit-Info": "api-usage=18/5000"}))
    assert (b.limit, b.remaining, b.snapshot().observed_header) == (5000, 4982, "sforce-limit-info")
    assert b.snapshot().as_dict()["remaining"] == 4982


async def test_token_bucket_spaces_calls(sleeps):
    t = [0.0]
    b = http.RateBudget(per_minute=2, clock=lambda: t[0], sleep=sleeps)
    await b.acquire()
    await b.acquire()
    await b.acquire()  # bucket empty: wait 30 s for the next token
    assert sleeps.calls == [30.0]
    t[0] += 60
    await b.acquire()
    assert sleeps.calls == [30.0]


async def test_budget_holds_back_near_the_reported_floor(httpx_mock, sleeps):
    httpx_mock.add_response(json={}, headers={"X-Ratelimit-Remaining": "3"}, is_reusable=True)
    budget = http.RateBudget(reserve=5, reserve_wait=2.0, sleep=sleeps)
    async with client(sleeps, budget=budget) as c:
        await c.get("/a")
        await c.get("/a")
    assert sleeps.calls == [2.0]
    assert budget.snapshot().remaining == 3


# -- settings ---------------------------------------------------------------------------------


def test_http_settings_defaults_and_errors():
    s = http.http_settings(Section({"base_url": "https://x.zendesk.com/", "max_attempts": 3}, "sources.zd", "c.toml"))
    assert s.base_url == "https://x.zendesk.com" and s.retry.max_attempts == 3 and s.requests_per_minute is None
    with pytest.raises(ConfigError, match=r"c.toml: sources.zd.base_url: expected an http\(s\) URL"):
        http.http_settings(Section({"base_url": "x.zendesk.com"}, "sources.zd", "c.toml"))
    with pytest.raises(ConfigError, match="sources.zd.base_url: missing"):
        http.http_settings(Section({}, "sources.zd", "c.toml"))
    assert http.http_settings(Section({}, "sources.zd"), default_base_url="https://d.example").base_url == "https://d.example"


async def test_oauth2_concurrent_calls_share_one_token_fetch_and_one_refresh(httpx_mock, sleeps):
    import asyncio

    httpx_mock.add_response(url=TOKEN_URL, json={"access_token": "AT-one-0001"})
    httpx_mock.add_response(url=TOKEN_URL, json={"access_token": "AT-two-0002"})
    state = {"valid": "AT-one-0001"}

    def api(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] != f"Bearer {state['valid']}":
            return httpx.Response(401, json=[{"errorCode": "INVALID_SESSION_ID"}])
        return httpx.Response(200, json={"ok": True})

    httpx_mock.add_callback(api, url=f"{BASE}/api", is_reusable=True)
    auth = http.OAuth2Auth(TOKEN_URL, client_id="cid", client_secret="csecret-222")
    async with http.make_api_client(BASE, auth=auth, sleep=sleeps) as c:
        await asyncio.gather(*(c.get("/api") for _ in range(5)))
        assert auth.token_requests == 1
        state["valid"] = "AT-two-0002"  # the session expires server-side
        await asyncio.gather(*(c.get("/api") for _ in range(5)))
    assert auth.token_requests == 2


def test_redirects_fail_naming_the_host_and_304_is_ok():
    from deskwatch.core.connect.errors import Redirected

    classify, Action = http.classify, http.Action
    req = httpx.Request("GET", "https://acme.example/api/v2/tickets?token=abcd1234")
    res = classify(httpx.Response(302, headers={"Location": "https://sso.acme.example/login?next=%2Fapi"}, request=req))
    assert res.action is Action.FAIL and res.location_host == "sso.acme.example"
    err = res.error("zd")
    assert isinstance(err, Redirected) and "redirected to sso.acme.example" in str(err)
    assert "login" not in str(err) and "abcd1234" not in str(err)
    assert classify(httpx.Response(304, request=req)).action is Action.OK
