"""The Freshdesk connector against a mocked Freshdesk (pytest-httpx).

``FakeFreshdesk`` answers like the real list endpoint: ``updated_since`` inclusive, ascending
``updated_at``, ``page``/``per_page``, ``filter=deleted|spam``, a ``Link: rel="next"`` header
except on the last page, and at most ``page_cap`` pages per query. Recorded bodies from
shared/api-samples/freshdesk are served as they are; synthetic tickets cover the edge cases.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import httpx
import pluggy
import pytest

from deskwatch.core.connect import hookspecs
from deskwatch.core.connect.contract import AuthError, BadResponse, ConnectorError, Page, RateLimited, TransientError
from deskwatch.core.connect.http import PaginationLoop, client_factory
from deskwatch.core.model import TicketUpdate
from deskwatch.core.model.settings import Section
from deskwatch.core.model.timeutil import format_time, parse_time
from deskwatch.plugins import freshdesk as plugin
from deskwatch.plugins.freshdesk.connector import FreshdeskConnector, read_bookmark
from deskwatch.plugins.freshdesk.settings import parse_settings
from deskwatch.testing.conformance import ConnectorConformance

BASE = "https://acme.freshdesk.com"
API_KEY = "s3cr3t-freshdesk-key"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
UNTIL = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def load(api_samples, name):
    return json.loads((api_samples / "freshdesk" / name).read_text(encoding="utf-8"))


def at(seconds: int) -> str:
    return format_time(T0 + timedelta(seconds=seconds))


def synthetic(tid: int, updated: int, **kw) -> dict[str, Any]:
    return {
        "id": tid,
        "subject": f"Ticket {tid}",
        "status": 2,
        "priority": 2,
        "source": 1,
        "requester_id": 1000 + tid,
        "responder_id": None,
        "group_id": None,
        "company_id": None,
        "tags": [],
        "created_at": at(0),
        "updated_at": at(updated),
        "description_text": f"Help with {tid}",
        **kw,
    }


class FakeFreshdesk:
    """An in-memory Freshdesk API v2, enough for the connector (and the conformance suite's
    ``FakeApi``: ``secret``, ``reject_auth``, ``add_tickets``, ``fail_next``)."""

    base_url = BASE
    secret = API_KEY

    def __init__(self, headers: dict[str, str] | None = None, page_cap: int = 300):
        self.reject_auth = False
        self.tickets: dict[int, dict[str, Any]] = {}
        self.conversations: dict[int, list[dict[str, Any]]] = {}
        self.companies: dict[int, dict[str, Any]] = {}
        self.groups: list[dict[str, Any]] = []
        self.agents: list[dict[str, Any]] = []
        self.agents_forbidden = False
        self.headers = headers or {}
        self.page_cap = page_cap
        self.requests: list[httpx.Request] = []
        self.before_list: Callable[[FakeFreshdesk, dict[str, str]], None] | None = None
        self.failures: list[httpx.Response] = []  # served first, one per request

    def add(self, *tickets: dict[str, Any]) -> None:
        for t in tickets:
            self.tickets[t["id"]] = copy.deepcopy(t)

    def touch(self, tid: int, seconds: int) -> None:
        self.tickets[tid]["updated_at"] = at(seconds)

    def bump(self, tid: int) -> str:
        """Mark a ticket changed now: one second after the newest change in the account."""
        newest = max(parse_time(t["updated_at"]) for t in self.tickets.values())
        self.tickets[tid]["updated_at"] = format_time(newest + timedelta(seconds=1))
        return self.tickets[tid]["updated_at"]

    def add_tickets(self, count: int, *, start: datetime, step: timedelta) -> list[str]:
        first = max(self.tickets, default=0) + 1
        for i in range(count):
            when = format_time(start + i * step)
            self.add(synthetic(first + i, 0, created_at=when, updated_at=when))
        return [str(first + i) for i in range(count)]

    def fail_next(self, status: int, headers: dict[str, str] | None = None, body: str = "") -> None:
        self.failures.append(httpx.Response(status, text=body, headers=headers or {}))

    def list_calls(self) -> list[dict[str, str]]:
        return [dict(r.url.params) for r in self.requests if r.method == "GET" and r.url.path == "/api/v2/tickets"]

    def respond(self, status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.Response(status, json=body, headers={**self.headers, **(headers or {})})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.reject_auth or request.headers.get("authorization") != httpx.BasicAuth(self.secret, "X")._auth_header:
            return self.respond(401, {"code": "invalid_credentials", "message": "You have to be logged in to perform this action."})
        if self.failures:
            return self.failures.pop(0)
        path = request.url.path
        if request.method == "GET" and path == "/api/v2/tickets":
            return self._list(dict(request.url.params), request)
        m = re.fullmatch(r"/api/v2/tickets/(\d+)(/conversations|/notes)?", path)
        if m:
            tid, sub = int(m.group(1)), m.group(2)
            if tid not in self.tickets:
                return self.respond(404, {"description": "Record not found", "errors": []})
            if sub == "/conversations":
                return self._paged(self.conversations.get(tid, []), dict(request.url.params), request)
            if sub == "/notes":
                return self._note(tid, json.loads(request.content))
            if request.method == "PUT":
                return self._put(tid, json.loads(request.content))
            return self.respond(200, self.tickets[tid])
        if path == "/api/v2/groups":
            return self._paged(self.groups, dict(request.url.params), request)
        if path == "/api/v2/agents":
            if self.agents_forbidden:
                return self.respond(403, {"code": "access_denied", "message": "You are not authorized to perform this action."})
            return self._paged(self.agents, dict(request.url.params), request)
        m = re.fullmatch(r"/api/v2/companies/(\d+)", path)
        if m and int(m.group(1)) in self.companies:
            return self.respond(200, self.companies[int(m.group(1))])
        return self.respond(404, {"description": "Not found"})

    def _list(self, params: dict[str, str], request: httpx.Request) -> httpx.Response:
        if self.before_list:
            self.before_list(self, params)
        # without updated_since Freshdesk lists recent tickets only (30 days by created_at)
        since = parse_time(params.get("updated_since", "2026-10-24T00:00:00Z"))
        flt = params.get("filter")
        rows = [
            t
            for t in self.tickets.values()
            if parse_time(t["updated_at"] if "updated_since" in params else t["created_at"]) >= since
            and (flt == "deleted") == bool(t.get("deleted"))
            and (flt == "spam") == bool(t.get("spam"))
        ]
        rows.sort(key=lambda t: (parse_time(t["updated_at"]), t["id"]))
        return self._paged(rows, params, request)

    def _paged(self, rows: list[Any], params: dict[str, str], request: httpx.Request) -> httpx.Response:
        page, per_page = int(params.get("page", 1)), int(params.get("per_page", 30))
        if page > self.page_cap:
            return self.respond(400, {"description": "Validation failed", "errors": [{"field": "page", "message": "too high", "code": "invalid_value"}]})
        chunk = rows[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(rows) and page < self.page_cap:
            nxt = request.url.copy_merge_params({"page": page + 1})
            headers["link"] = f'<{nxt}>;rel="next"'
        return self.respond(200, copy.deepcopy(chunk), headers)

    def _note(self, tid: int, body: dict[str, Any]) -> httpx.Response:
        note = {
            "id": 9000 + len(self.conversations.get(tid, [])),
            "body": body["body"],
            "body_text": re.sub(r"<[^>]+>", "\n", body["body"]).strip(),
            "private": body.get("private", True),
            "incoming": False,
            "user_id": 77,
            "source": 2,
            "ticket_id": tid,
        }
        note["created_at"] = note["updated_at"] = self.bump(tid)
        self.conversations.setdefault(tid, []).append(note)
        return self.respond(201, note)

    def _put(self, tid: int, body: dict[str, Any]) -> httpx.Response:
        self.tickets[tid].update(body)
        self.bump(tid)
        return self.respond(200, self.tickets[tid])


class Sleeps:
    def __init__(self):
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def fake(httpx_mock):
    server = FakeFreshdesk()
    httpx_mock.add_callback(server, is_reusable=True, is_optional=True)
    return server


def make(sleeps, **extra) -> FreshdeskConnector:
    data = {"base_url": BASE, "api_key": API_KEY, "start_time": format_time(T0), **extra}
    settings = parse_settings(Section(data, "sources.helpdesk", "config.toml"))
    return FreshdeskConnector("helpdesk", settings, client_factory(sleep=sleeps), budget_sleep=sleeps)


async def collect(connector, bookmark=None, until=UNTIL) -> list[Page]:
    return [p async for p in connector.fetch(bookmark, until=until)]


def ids(pages: list[Page]) -> list[str]:
    return [t.id for p in pages for t in p.tickets]


# -- registration ------------------------------------------------------------------------------


def test_registers_the_freshdesk_type_through_the_hook():
    pm = pluggy.PluginManager("deskwatch")
    pm.add_hookspecs(hookspecs)
    pm.register(plugin)
    found = []
    pm.hook.deskwatch_register_connector_types(register=found.append)
    assert [t.name for t in found] == ["freshdesk"]
    assert found[0].parse_settings is parse_settings


async def test_connector_built_through_the_type(fake, sleeps):
    settings = plugin.FRESHDESK.parse_settings(Section({"domain": "acme", "api_key": API_KEY}, "sources.fd"))
    async with plugin.FRESHDESK.create("fd", settings, client_factory(sleep=sleeps)) as c:
        assert isinstance(c, FreshdeskConnector) and c.source == "fd"
        assert API_KEY not in repr(c)


# -- fetch: the recorded list page ----------------------------------------------------------------


async def test_recorded_page_with_conversations_and_company(fake, api_samples, sleeps):
    recorded = load(api_samples, "tickets_list_page_include_requester_stats_description.json")[0]
    fake.add(recorded)
    fake.conversations[21] = load(api_samples, "conversations_list.json")
    fake.companies[67001265522] = {"id": 67001265522, "name": "Globex", "account_tier": "Premium", "custom_fields": {"annual_value": 250000}}
    # A closed ticket's conversations and include=stats cost credits; both asked for here.
    async with make(sleeps, start_time="2022-11-01T00:00:00Z", backfill_closed_conversations=True, include_stats=True) as c:
        pages = await collect(c)
    assert ids(pages) == ["helpdesk:21"]
    t = pages[0].tickets[0]
    assert (t.channel, t.status, t.priority) == ("email", "closed", "low")
    assert (t.organization.name, t.organization.tier, t.organization.annual_value) == ("Globex", "Premium", 250000.0)
    assert [m.body for m in t.messages] == ["This is a private note", "This is a reply", "Test"]
    assert pages[-1].done and [p.done for p in pages[:-1]] == [False] * (len(pages) - 1)
    first = fake.list_calls()[0]
    assert first == {
        "updated_since": "2022-11-01T00:00:00Z",
        "order_by": "updated_at",
        "order_type": "asc",
        "per_page": "100",
        "page": "1",
        "include": "requester,description,stats",
    }
    assert [c.get("filter") for c in fake.list_calls()] == [None, "deleted", "spam"]
    # API key as the basic-auth user, "X" as the password
    auth = fake.requests[0].headers["authorization"]
    assert auth == httpx.BasicAuth(API_KEY, "X")._auth_header
    mark = read_bookmark(pages[-1].bookmark, T0)["all"]
    assert (format_time(mark.since), mark.seen) == ("2022-11-16T15:59:28Z", frozenset({21}))


# -- fetch: windows, duplicates, caps -------------------------------------------------------------


async def test_window_moves_after_each_page_and_boundary_duplicates_are_dropped(fake, sleeps):
    # 7 tickets, three of them sharing second 20 across a page boundary
    fake.add(synthetic(1, 10), synthetic(2, 15), synthetic(3, 20), synthetic(4, 20), synthetic(5, 20), synthetic(6, 30), synthetic(7, 40))
    async with make(sleeps, page_size=3, conversations=False, sync_deleted=False) as c:
        pages = await collect(c)
    assert ids(pages) == [f"helpdesk:{i}" for i in range(1, 8)]  # each exactly once
    calls = fake.list_calls()
    assert [(p["updated_since"], p["page"]) for p in calls] == [
        (at(0), "1"),  # 1, 2, 3
        (at(20), "1"),  # 3 (seen), 4, 5
        (at(20), "2"),  # the whole page shared second 20: walk it by page number -> 6, 7
    ]
    assert pages[-1].done
    assert read_bookmark(pages[-1].bookmark, T0)["all"].since == T0 + timedelta(seconds=40)


async def test_a_ticket_updated_mid_sync_does_not_push_another_out_of_view(fake, sleeps):
    """Page-number walking of one query would skip ticket 4 here: ticket 2 moves to the end
    after page 1, so ticket 4 slides onto page 1. Moving the window does not skip it."""
    fake.add(*(synthetic(i, i * 10) for i in range(1, 7)))
    state = {"n": 0}

    def update_ticket_2_after_first_page(server, params):
        state["n"] += 1
        if state["n"] == 2:
            server.touch(2, 500)

    fake.before_list = update_ticket_2_after_first_page
    async with make(sleeps, page_size=3, conversations=False, sync_deleted=False) as c:
        pages = await collect(c)
    got = ids(pages)
    assert sorted(set(got)) == [f"helpdesk:{i}" for i in range(1, 7)]
    assert got.count("helpdesk:2") == 2  # the new version is delivered too


async def test_resume_from_a_mid_way_bookmark_loses_and_repeats_nothing(fake, sleeps):
    fake.add(*(synthetic(i, 10 + (i // 2)) for i in range(1, 10)))  # pairs share seconds
    async with make(sleeps, page_size=3, conversations=False, sync_deleted=False) as c:
        pages = await collect(c)
    everything = ids(pages)
    assert sorted(everything, key=lambda s: int(s.split(":")[1])) == [f"helpdesk:{i}" for i in range(1, 10)]
    for cut in range(len(pages) - 1):
        async with make(sleeps, page_size=3, conversations=False, sync_deleted=False) as c:
            rest = await collect(c, pages[cut].bookmark)
        before = ids(pages[: cut + 1])
        assert sorted(before + ids(rest)) == sorted(everything), f"resume after page {cut}"
    # bookmarks only move forward
    sinces = [read_bookmark(p.bookmark, T0)["all"].since for p in pages]
    assert sinces == sorted(sinces)


async def test_nothing_new_yields_one_empty_done_page(fake, sleeps):
    async with make(sleeps, sync_deleted=False) as c:
        pages = await collect(c)
    assert len(pages) == 1 and pages[0].tickets == () and pages[0].done
    assert read_bookmark(pages[0].bookmark, T0)["all"].since == T0


async def test_bookmark_never_passes_the_sync_start(fake, sleeps):
    until = T0 + timedelta(seconds=25)
    fake.add(synthetic(1, 10), synthetic(2, 25), synthetic(3, 30), synthetic(4, 40))
    async with make(sleeps, page_size=2, conversations=False, sync_deleted=False) as c:
        pages = await collect(c, until=until)
        mark = read_bookmark(pages[-1].bookmark, T0)["all"]
        assert mark.since == until and mark.seen == frozenset({2})
        for p in pages:
            assert read_bookmark(p.bookmark, T0)["all"].since <= until
        # tickets changed after the sync start are left for the next sync
        assert ids(pages) == ["helpdesk:1", "helpdesk:2"]
        later = await collect(c, pages[-1].bookmark, until=T0 + timedelta(seconds=100))
    assert ids(later) == ["helpdesk:3", "helpdesk:4"]


async def test_same_second_run_longer_than_the_page_cap_fails_clearly(fake, sleeps):
    fake.page_cap = 2
    fake.add(*(synthetic(i, 50) for i in range(1, 8)))
    async with make(sleeps, page_size=2, page_cap=2, conversations=False, sync_deleted=False) as c:
        with pytest.raises(ConnectorError, match="more than 4 tickets share the update time 2026-11-20T09:00:50Z"):
            await collect(c)


async def test_page_cap_never_reached_on_long_histories(fake, sleeps):
    # 30 tickets, 2 per page, a cap of 3 pages per query: one query could never list them all
    fake.page_cap = 3
    fake.add(*(synthetic(i, i) for i in range(1, 31)))
    async with make(sleeps, page_size=2, page_cap=3, conversations=False, sync_deleted=False) as c:
        pages = await collect(c)
    assert ids(pages) == [f"helpdesk:{i}" for i in range(1, 31)]
    assert max(int(p["page"]) for p in fake.list_calls()) == 1


async def test_page_cap_inside_a_same_second_run_then_the_window_moves_on(fake, sleeps):
    # page 2 of the window at second 50 is the last page Freshdesk serves (no Link there),
    # but it ends in a later second, so the window moves past the cap
    fake.page_cap = 2
    fake.add(synthetic(1, 50), synthetic(2, 50), synthetic(3, 50), synthetic(4, 60), synthetic(5, 70), synthetic(6, 80))
    async with make(sleeps, page_size=2, page_cap=2, conversations=False, sync_deleted=False) as c:
        pages = await collect(c)
    assert ids(pages) == [f"helpdesk:{i}" for i in range(1, 7)]
    assert [(p["updated_since"], p["page"]) for p in fake.list_calls()][:4] == [(at(0), "1"), (at(50), "1"), (at(50), "2"), (at(60), "1")]


async def test_deleted_and_spam_passes_become_tombstones(fake, sleeps):
    fake.add(synthetic(1, 10), synthetic(2, 20, deleted=True), synthetic(3, 30, spam=True))
    async with make(sleeps, conversations=False) as c:
        pages = await collect(c)
    assert ids(pages) == ["helpdesk:1"]
    assert [d for p in pages for d in p.deleted] == ["helpdesk:2", "helpdesk:3"]
    marks = read_bookmark(pages[-1].bookmark, T0)
    assert {k: m.since for k, m in marks.items()} == {"all": T0 + timedelta(seconds=10), "deleted": T0 + timedelta(seconds=20), "spam": T0 + timedelta(seconds=30)}


async def test_repeated_page_is_a_loop_not_an_endless_sync(httpx_mock, sleeps):
    rows = [synthetic(1, 5), synthetic(2, 5)]
    # a server that ignores `page` and always answers with the same full page + next link
    httpx_mock.add_response(json=rows, headers={"link": f'<{BASE}/api/v2/tickets?page=2>;rel="next"'}, is_reusable=True)
    async with make(sleeps, page_size=2, conversations=False, sync_deleted=False) as c:
        with pytest.raises(PaginationLoop, match="loop detected in pagination"):
            await collect(c)


async def test_link_header_as_documented_means_more_pages(httpx_mock, api_samples, sleeps):
    headers = load(api_samples, "docs_example_headers_rate_limit_and_link.json")
    first = [synthetic(1, 5), synthetic(2, 6)]
    httpx_mock.add_response(json=first, headers={**headers["success_200"], **headers["pagination"]})
    httpx_mock.add_response(json=[synthetic(2, 6), synthetic(3, 7)], headers=headers["success_200"])
    async with make(sleeps, page_size=2, conversations=False, sync_deleted=False) as c:
        pages = await collect(c)
        assert ids(pages) == ["helpdesk:1", "helpdesk:2", "helpdesk:3"]
        quota = c.budget.snapshot()
    assert (quota.remaining, quota.limit, quota.observed_header) == (426, 700, "x-ratelimit-remaining")
    # the next page is asked from the configured base URL, not the domain in the Link header
    assert all(r.url.host == "acme.freshdesk.com" for r in httpx_mock.get_requests())


async def test_low_remaining_quota_spaces_calls_out(httpx_mock, sleeps):
    httpx_mock.add_response(json=[synthetic(1, 5)], headers={"X-Ratelimit-Total": "50", "X-Ratelimit-Remaining": "2"}, is_reusable=True)
    async with make(sleeps, page_size=2, conversations=False) as c:
        await collect(c)
    assert sleeps.waits == [5.0, 5.0]  # before the 2nd and 3rd call, once the server said 2 left


async def test_include_credits_count_against_a_client_side_cap(httpx_mock, sleeps):
    # one list call with three includes costs 7 credits; with 6 calls/minute allowed the
    # connector must wait before its next call
    httpx_mock.add_response(json=[synthetic(1, 5)], headers={"X-Ratelimit-Used-CurrentRequest": "7"})
    async with make(sleeps, conversations=False, sync_deleted=False, requests_per_minute=6) as c:
        await collect(c)
        assert c.budget.waited > 0 and sleeps.waits


# -- fetch: errors --------------------------------------------------------------------------------


async def test_429_then_success_honours_retry_after(fake, api_samples, sleeps):
    headers = load(api_samples, "docs_example_headers_rate_limit_and_link.json")
    fake.add(synthetic(1, 10))
    fake.failures = [httpx.Response(429, json={"message": "rate limited"}, headers=headers["rate_limited_429"])]
    async with make(sleeps, conversations=False, sync_deleted=False) as c:
        pages = await collect(c)
    assert ids(pages) == ["helpdesk:1"]
    assert sleeps.waits == [34.0]


async def test_5xx_is_retried_with_backoff_then_succeeds(fake, sleeps):
    fake.add(synthetic(1, 10))
    fake.failures = [httpx.Response(503, text="upstream"), httpx.Response(500, text="oops")]
    async with make(sleeps, conversations=False, sync_deleted=False) as c:
        pages = await collect(c)
    assert ids(pages) == ["helpdesk:1"] and len(sleeps.waits) == 2


async def test_5xx_that_persists_gives_up_with_a_transient_error(fake, sleeps):
    fake.failures = [httpx.Response(502, text="bad gateway")] * 3
    async with make(sleeps, max_attempts=3, conversations=False) as c:
        with pytest.raises(TransientError, match="gave up after 3 attempts"):
            await collect(c)


async def test_401_is_an_auth_error_without_the_key(fake, sleeps):
    fake.failures = [httpx.Response(401, json={"code": "invalid_credentials", "message": "You have to be logged in to perform this action."})]
    async with make(sleeps) as c:
        with pytest.raises(AuthError) as e:
            await collect(c)
    assert "authentication failed" in str(e.value)
    assert API_KEY not in str(e.value)


@pytest.mark.parametrize(
    "body, message",
    [
        ({"tickets": []}, "expected a JSON array of tickets, got an object"),
        ([{"id": 1, "updated_at": "never"}], "updated_at: expected a time"),
        ([{"id": 1, "updated_at": at(9), "status": "open", "created_at": at(0)}], "ticket 1.status: expected a whole number"),
    ],
)
async def test_malformed_list_body_names_the_field(httpx_mock, sleeps, body, message):
    httpx_mock.add_response(json=body)
    async with make(sleeps, conversations=False) as c:
        with pytest.raises(BadResponse, match=re.escape(message)):
            await collect(c)


async def test_html_instead_of_json_is_a_bad_response(httpx_mock, sleeps):
    httpx_mock.add_response(html="<html>maintenance</html>")
    async with make(sleeps) as c:
        with pytest.raises(BadResponse, match="expected a JSON body"):
            await collect(c)


async def test_unordered_answer_is_refused_rather_than_trusted(httpx_mock, sleeps):
    httpx_mock.add_response(json=[synthetic(1, 30), synthetic(2, 10)])
    async with make(sleeps, conversations=False) as c:
        with pytest.raises(BadResponse, match="not in ascending updated_at order"):
            await collect(c)


async def test_foreign_bookmark_is_refused(fake, sleeps):
    async with make(sleeps) as c:
        with pytest.raises(BadResponse, match="not a Freshdesk bookmark"):
            await collect(c, {"cursor": "abc"})


# -- check ----------------------------------------------------------------------------------------


async def test_check_ok_reports_quota(httpx_mock, api_samples, sleeps):
    headers = load(api_samples, "docs_example_headers_rate_limit_and_link.json")["success_200"]
    httpx_mock.add_response(json=[], headers=headers)
    async with make(sleeps) as c:
        result = await c.check()
    assert result.ok and result.kind == "ok"
    assert "426 of 700 API calls left" in result.message


@pytest.mark.parametrize(
    "response, kind, text",
    [
        (httpx.Response(401, json={"code": "invalid_credentials"}), "auth", "set api_key"),
        (httpx.Response(403, json={"code": "access_denied", "message": "You are not authorized to perform this action."}), "auth", "permission denied"),
        (httpx.Response(503, text="down"), "unreachable", "check base_url"),
    ],
)
async def test_check_verdicts(httpx_mock, sleeps, response, kind, text):
    httpx_mock.add_callback(lambda request: response, is_reusable=True)
    async with make(sleeps, max_attempts=2) as c:
        result = await c.check()
    assert not result.ok and result.kind == kind and text in result.message
    assert API_KEY not in result.message


# -- update ---------------------------------------------------------------------------------------


def an_update(**kw) -> TicketUpdate:
    return TicketUpdate(ticket_id="helpdesk:1", source="helpdesk", idempotency_key="7f3a9c1e0b7d55aa-escalate", **kw)


async def test_update_applies_the_delta_and_keeps_other_tags(fake, sleeps):
    fake.add(synthetic(1, 10, tags=["vip", "billing"], priority=2, status=2))
    async with make(sleeps, groups={"tier2": 555}, agents={"ana": 77}) as c:
        result = await c.update(
            an_update(priority="urgent", group="tier2", assignee="ana", tags_add=("outage",), tags_remove=("billing",), escalated=True, status="on_hold")
        )
    assert result.outcome == "applied", result.message
    put = next(r for r in fake.requests if r.method == "PUT")
    body = json.loads(put.content)
    assert body == {
        "priority": 4,
        "status": 7,
        "group_id": 555,
        "responder_id": 77,
        "tags": ["vip", "outage", "escalated", "dw-7f3a9c1e0b7d"],
    }
    assert fake.tickets[1]["tags"] == ["vip", "outage", "escalated", "dw-7f3a9c1e0b7d"]


async def test_de_escalation_removes_the_escalation_tag_only(fake, sleeps):
    fake.add(synthetic(1, 10, tags=["escalated", "vip"]))
    async with make(sleeps) as c:
        result = await c.update(an_update(escalated=False))
    assert result.outcome == "applied"
    assert fake.tickets[1]["tags"] == ["vip", "dw-7f3a9c1e0b7d"]
    body = json.loads(next(r for r in fake.requests if r.method == "PUT").content)
    assert set(body) == {"tags"}  # nothing else differed, nothing else is sent


async def test_the_api_key_stays_out_of_logs_and_errors(fake, sleeps, caplog):
    fake.failures = [httpx.Response(503, text=f"echo {API_KEY}"), httpx.Response(401, json={"code": "invalid_credentials"})]
    with caplog.at_level("DEBUG"):
        async with make(sleeps) as c:
            with pytest.raises(AuthError) as e:
                await collect(c)
    assert API_KEY not in str(e.value) and API_KEY not in repr(e.value)
    assert caplog.records and API_KEY not in caplog.text
    assert httpx.BasicAuth(API_KEY, "X")._auth_header.split()[1] not in caplog.text


async def test_group_and_assignee_names_come_from_the_account(fake, sleeps):
    fake.groups = [{"id": 43000001, "name": "Support"}, {"id": 43000005, "name": "Billing"}]
    fake.agents = [{"id": 67013400002, "contact": {"name": "Bilal Khan", "email": "bilal@example.com"}}]
    fake.add(synthetic(1, 10, group_id=43000001, responder_id=67013400002), synthetic(2, 20, group_id=43000099))
    async with make(sleeps, conversations=False, sync_deleted=False, groups={"Tier 3": 43000099}) as c:
        tickets = [t for p in await collect(c) for t in p.tickets]
        assert [(t.group, t.assignee) for t in tickets] == [("Support", "Bilal Khan"), ("Tier 3", None)]
        result = await c.update(an_update(group="billing", assignee="Bilal Khan"))
    assert result.outcome == "applied"
    assert (fake.tickets[1]["group_id"], fake.tickets[1]["responder_id"]) == (43000005, 67013400002)
    assert sum(r.url.path == "/api/v2/groups" for r in fake.requests) == 1  # listed once per connector


async def test_agents_list_forbidden_falls_back_to_ids(fake, sleeps, caplog):
    fake.agents_forbidden = True
    fake.groups = [{"id": 43000001, "name": "Support"}]
    fake.add(synthetic(1, 10, group_id=43000001, responder_id=555))
    async with make(sleeps, conversations=False, sync_deleted=False) as c:
        [t] = [t for p in await collect(c) for t in p.tickets]
    assert (t.group, t.assignee) == ("Support", "555")
    assert "cannot list /api/v2/agents" in caplog.text


async def test_same_update_twice_applies_once(fake, sleeps):
    fake.add(synthetic(1, 10))
    async with make(sleeps) as c:
        first = await c.update(an_update(priority="high", private_note="Escalated: outage reported by 3 users"))
        second = await c.update(an_update(priority="high", private_note="Escalated: outage reported by 3 users"))
    assert (first.outcome, second.outcome) == ("applied", "already_applied")
    assert len(fake.conversations[1]) == 1
    assert sum(r.method == "PUT" for r in fake.requests) == 1
    assert sum(r.method == "POST" for r in fake.requests) == 1


async def test_note_is_private_and_carries_the_marker(fake, sleeps):
    fake.add(synthetic(1, 10))
    async with make(sleeps) as c:
        await c.update(an_update(private_note="Customer <VIP> & angry\nsecond line"))
    post = next(r for r in fake.requests if r.method == "POST")
    assert post.url.path == "/api/v2/tickets/1/notes"
    body = json.loads(post.content)
    assert body["private"] is True
    assert body["body"] == "<div>Customer &lt;VIP&gt; &amp; angry<br>second line<br><br>deskwatch update dw-7f3a9c1e0b7d</div>"


async def test_crash_after_the_note_does_not_post_it_twice(fake, sleeps):
    fake.add(synthetic(1, 10))
    # the note landed but the PUT never did (the process died in between)
    fake.conversations[1] = [
        {"id": 5, "body_text": "Escalated\n\ndeskwatch update dw-7f3a9c1e0b7d", "private": True, "user_id": 77, "created_at": at(11)}
    ]
    async with make(sleeps) as c:
        result = await c.update(an_update(priority="urgent", private_note="Escalated"))
    assert result.outcome == "applied" and "already posted" in result.message
    assert not any(r.method == "POST" for r in fake.requests)
    assert fake.tickets[1]["priority"] == 4 and "dw-7f3a9c1e0b7d" in fake.tickets[1]["tags"]


async def test_note_post_is_not_blindly_retried_after_a_5xx(fake, sleeps):
    fake.add(synthetic(1, 10))
    async with make(sleeps) as c:
        orig = fake._note

        def failing_note(tid, body):
            fake._note = orig
            return httpx.Response(502, text="bad gateway")

        fake._note = failing_note
        with pytest.raises(TransientError):
            await c.update(an_update(private_note="hello"))
    assert sum(r.method == "POST" for r in fake.requests) == 1
    assert fake.conversations.get(1) is None


async def test_update_recorded_responses(httpx_mock, api_samples, sleeps):
    """The recorded update/note responses are read as they are (incl. the hand-edited
    priority_name of ticket_update_response.json)."""
    view = load(api_samples, "ticket_view_include_stats_requester.json")
    httpx_mock.add_response(method="GET", url=f"{BASE}/api/v2/tickets/1", json=view)
    httpx_mock.add_response(method="GET", url=re.compile(rf"{BASE}/api/v2/tickets/1/conversations.*"), json=[])
    httpx_mock.add_response(method="POST", url=f"{BASE}/api/v2/tickets/1/notes", json=load(api_samples, "note_create_private_response.json"), status_code=201)
    httpx_mock.add_response(method="GET", url=f"{BASE}/api/v2/tickets/1", json=view)
    httpx_mock.add_response(method="PUT", url=f"{BASE}/api/v2/tickets/1", json=load(api_samples, "ticket_update_response.json"))
    async with make(sleeps) as c:
        result = await c.update(TicketUpdate("helpdesk:1", "helpdesk", "abc123def456xyz", priority="high", status="solved", private_note="This is a private note"))
    assert result.outcome == "applied"
    assert "priority" in result.message and "status" in result.message and "private note" in result.message
    put = [r for r in httpx_mock.get_requests() if r.method == "PUT"][0]
    assert json.loads(put.content) == {"priority": 3, "status": 4, "tags": ["foo", "bar", "dw-abc123def456"]}


async def test_validation_error_is_a_failed_update_with_freshdesk_words(httpx_mock, api_samples, sleeps):
    httpx_mock.add_response(method="GET", url=f"{BASE}/api/v2/tickets/1", json=load(api_samples, "docs_example_ticket_update_response.json"))
    httpx_mock.add_response(method="PUT", status_code=400, json=load(api_samples, "docs_example_error_400_validation.json"))
    async with make(sleeps) as c:
        result = await c.update(an_update(priority="low"))
    assert result.outcome == "failed"
    assert "Validation failed: name: Mandatory attribute missing (missing_field)" in result.message


async def test_a_job_body_where_a_ticket_belongs_is_a_failed_update(httpx_mock, api_samples, sleeps):
    # e.g. a proxy routing the PUT to bulk_update: the body is a job, not the ticket
    httpx_mock.add_response(method="GET", url=f"{BASE}/api/v2/tickets/1", json=load(api_samples, "docs_example_ticket_update_response.json"))
    httpx_mock.add_response(method="PUT", json=load(api_samples, "docs_example_bulk_update_job_response.json"))
    async with make(sleeps) as c:
        result = await c.update(an_update(priority="low"))
    assert result.outcome == "failed" and "response.id: missing" in result.message


@pytest.mark.parametrize(
    "update, message",
    [
        (an_update(group="nobody-knows"), "group 'nobody-knows' is not a Freshdesk group the API key can see; add it to [sources.<name>.groups]"),
        (an_update(status="on_hold"), "status 'on_hold' has no Freshdesk status"),
        (TicketUpdate("helpdesk:abc", "helpdesk", "k", priority="low"), "a Freshdesk ticket id is a number"),
    ],
)
async def test_update_that_cannot_be_expressed_fails_before_writing(fake, sleeps, update, message):
    fake.add(synthetic(1, 10))
    async with make(sleeps, status_map={"7": "pending"}) as c:
        result = await c.update(update)
    assert result.outcome == "failed" and message in result.message
    assert not any(r.method in ("PUT", "POST") for r in fake.requests)


async def test_missing_ticket_fails_the_update(fake, sleeps):
    async with make(sleeps) as c:
        result = await c.update(TicketUpdate("helpdesk:404", "helpdesk", "k", priority="low"))
    assert result.outcome == "failed" and "404" in result.message


async def test_rate_limited_update_raises_for_the_outbox_to_retry(fake, sleeps):
    fake.add(synthetic(1, 10))
    fake.failures = [httpx.Response(429, headers={"Retry-After": "1"})] * 2
    async with make(sleeps, max_attempts=2) as c:
        with pytest.raises(RateLimited):
            await c.update(an_update(priority="low"))


# -- the conformance suite for connector authors ---------------------------------------------------


class TestFreshdeskConformance(ConnectorConformance):
    @pytest.fixture
    def fake_api(self, httpx_mock):
        server = FakeFreshdesk()
        httpx_mock.add_callback(server, is_reusable=True, is_optional=True)
        return server

    @pytest.fixture
    def connector_factory(self, fake_api):
        data = {"base_url": fake_api.base_url, "api_key": fake_api.secret, "page_size": 2, "start_time": "2026-11-01T00:00:00Z"}
        settings = parse_settings(Section(data, "sources.conformance"))
        return lambda client_factory: plugin.create("conformance", settings, client_factory)
