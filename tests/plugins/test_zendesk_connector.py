"""The Zendesk connector against mocked HTTP (pytest-httpx), fed the recorded API bodies.

Every file of shared/api-samples/zendesk is served as recorded somewhere in this module or in
test_zendesk_mapping.py; synthetic pages cover the edge cases the recordings do not show.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timedelta, timezone

import httpx
import pluggy
import pytest

from deskwatch.core.connect import hookspecs
from deskwatch.core.connect.contract import AuthError, BadResponse, ConnectorError, Page, TransientError
from deskwatch.core.connect.http import PaginationLoop, client_factory
from deskwatch.core.model import TicketUpdate
from deskwatch.core.model.settings import Section
from deskwatch.plugins import zendesk as plugin
from deskwatch.plugins.zendesk.connector import ZendeskConnector
from deskwatch.plugins.zendesk.settings import parse_settings

from ..conftest import NOW

BASE = "https://acme.zendesk.com"
TOKEN = "s3cr3t-zendesk-token"
EXPORT = re.compile(r"https://acme\.zendesk\.com/api/v2/incremental/tickets/cursor\.json(\?.*)?$")
GROUPS = f"{BASE}/api/v2/groups.json"
USERS = re.compile(r"https://acme\.zendesk\.com/api/v2/users\.json(\?.*)?$")


def load(api_samples, name):
    return json.loads((api_samples / "zendesk" / name).read_text(encoding="utf-8"))


class Sleeps:
    """A sleep that records its waits and returns at once."""

    def __init__(self):
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


def make(sleeps, **extra):
    data = {"base_url": BASE, "email": "admin@acme.com", "token": TOKEN, "fetch_comments": False, **extra}
    settings = parse_settings(Section(data, "sources.support", "config.toml"))
    return ZendeskConnector("support", settings, client_factory(sleep=sleeps), clock=lambda: NOW)


async def collect(connector, bookmark=None, until=None):
    return [p async for p in connector.fetch(bookmark, until=until)]


def params(request: httpx.Request) -> dict[str, str]:
    return dict(request.url.params)


def directory(httpx_mock):
    httpx_mock.add_response(url=GROUPS, json={"groups": [{"id": 6130852536346, "name": "Support"}], "next_page": None})
    httpx_mock.add_response(
        url=USERS,
        json={"users": [{"id": 6130907993114, "name": "Jo Admin", "email": "jo@acme.com", "role": "admin"}], "next_page": None},
    )


# -- fetch -------------------------------------------------------------------------------------


async def test_first_sync_walks_the_cursor_export_to_end_of_stream(httpx_mock, api_samples, sleeps):
    httpx_mock.add_response(url=EXPORT, json=load(api_samples, "incremental_tickets_cursor_page_per_page_1.json"))
    httpx_mock.add_response(url=EXPORT, json=load(api_samples, "incremental_tickets_cursor_page_2_per_page_1.json"))
    httpx_mock.add_response(url=EXPORT, json=load(api_samples, "incremental_tickets_cursor_end_of_stream_trimmed.json"))
    directory(httpx_mock)
    async with make(sleeps, page_size=1) as zd:
        pages = await collect(zd)
    assert [p.bookmark for p in pages] == [
        {"cursor": "MTY5NTA1MjY2My4wfHwyOHw="},
        {"cursor": "MTY5NTA1MjY2My4wfHwyOXw="},
        {"cursor": "MTcwNzI3MTc0MS4wfHw0MDQ1fA=="},
    ]
    assert [p.done for p in pages] == [False, False, True]
    assert [t.id for t in pages[0].tickets] == ["support:28"]
    assert [t.id for t in pages[1].tickets] == ["support:29"]
    # 28 comes again in the last page with the same generated_timestamp: delivered once only.
    last = pages[2]
    assert sorted(t.native_id for t in last.tickets) == ["1", "4030", "4036", "4037", "4043"]
    assert last.deleted == ("support:4034",)
    sample = next(t for t in last.tickets if t.native_id == "1")
    assert (sample.group, sample.assignee) == ("Support", "Jo Admin")  # names from the directory
    exports = [r for r in httpx_mock.get_requests() if "incremental" in r.url.path]
    first, second, third = (params(r) for r in exports)
    # First call: start_time = lookback (30 days before now); never updated_at, never in the last minute.
    assert first["start_time"] == str(int((NOW - timedelta(days=30)).timestamp()))
    assert first["per_page"] == "1" and first["include"] == "users,organizations,groups"
    assert "cursor" not in first
    assert second["cursor"] == "MTY5NTA1MjY2My4wfHwyOHw=" and "start_time" not in second
    assert third["cursor"] == "MTY5NTA1MjY2My4wfHwyOXw="
    auth = exports[0].headers["authorization"]
    assert auth.startswith("Basic ")


async def test_resume_from_the_committed_cursor(httpx_mock, api_samples, sleeps):
    httpx_mock.add_response(url=EXPORT, json=load(api_samples, "incremental_tickets_cursor_page_2_per_page_1.json"))
    httpx_mock.add_response(
        url=EXPORT,
        json={"tickets": [], "after_cursor": "MTY5NTA1MjY2My4wfHwyOXw=", "before_cursor": None, "end_of_stream": True},
    )
    async with make(sleeps) as zd:
        pages = await collect(zd, {"cursor": "MTY5NTA1MjY2My4wfHwyOHw="})
    first = params(httpx_mock.get_requests()[0])
    assert first["cursor"] == "MTY5NTA1MjY2My4wfHwyOHw=" and "start_time" not in first
    assert [len(p.tickets) for p in pages] == [1, 0]
    assert pages[-1].done and pages[-1].bookmark == {"cursor": "MTY5NTA1MjY2My4wfHwyOXw="}


async def test_empty_page_at_end_of_stream_is_normal_and_keeps_the_cursor(httpx_mock, sleeps):
    # The newest minute is held back, so "nothing new" is an empty page with the same cursor.
    httpx_mock.add_response(
        url=EXPORT, json={"tickets": [], "after_cursor": "Y3Vyc29y", "before_cursor": None, "end_of_stream": True}
    )
    async with make(sleeps) as zd:
        pages = await collect(zd, {"cursor": "Y3Vyc29y"})
    assert pages == [Page((), (), {"cursor": "Y3Vyc29y"}, True)]


async def test_configured_start_time_is_used_but_never_within_the_last_minute(httpx_mock, sleeps):
    httpx_mock.add_response(url=EXPORT, json={"tickets": [], "after_cursor": "YQ==", "end_of_stream": True})
    async with make(sleeps, start_time="2026-11-23T09:59:30Z") as zd:
        await collect(zd)
    assert params(httpx_mock.get_requests()[0])["start_time"] == str(int((NOW - timedelta(minutes=1)).timestamp()))


async def test_repeated_cursor_stops_with_a_loop_error_after_the_good_pages(httpx_mock, api_samples, sleeps):
    page = load(api_samples, "incremental_tickets_cursor_page_per_page_1.json")
    httpx_mock.add_response(url=EXPORT, json=page)
    again = copy.deepcopy(page)
    again["tickets"][0]["generated_timestamp"] += 1
    httpx_mock.add_response(url=EXPORT, json=again)  # same after_cursor, end_of_stream false
    got = []
    async with make(sleeps) as zd:
        with pytest.raises(PaginationLoop, match="loop detected"):
            async for p in zd.fetch(None):
                got.append(p)
    assert [p.bookmark for p in got] == [{"cursor": "MTY5NTA1MjY2My4wfHwyOHw="}]


async def test_signpost_first_sync_page_entirely_after_the_sync_start(httpx_mock, api_samples, sleeps):
    httpx_mock.add_response(url=EXPORT, json=load(api_samples, "incremental_tickets_cursor_page_per_page_1.json"))
    until = datetime.fromtimestamp(1695052662, timezone.utc)  # ticket 28 changed a second later
    async with make(sleeps) as zd:
        pages = await collect(zd, until=until)
    # end_of_stream was false, but the page runs past the sync start: stop, commit nothing new.
    assert pages == [Page((), (), None, True)]


async def test_signpost_delivers_up_to_the_sync_start_and_keeps_the_previous_bookmark(httpx_mock, api_samples, sleeps):
    httpx_mock.add_response(url=EXPORT, json=load(api_samples, "incremental_tickets_cursor_end_of_stream_trimmed.json"))
    until = datetime.fromtimestamp(1698543659, timezone.utc)  # ticket 4036's generated_timestamp
    async with make(sleeps) as zd:
        (page,) = await collect(zd, {"cursor": "cHJldmlvdXM="}, until=until)
    assert sorted(t.native_id for t in page.tickets) == ["28", "4030", "4036"]
    assert page.deleted == ()  # 4034 was deleted after the sync start: next time
    assert page.done and page.bookmark == {"cursor": "cHJldmlvdXM="}  # not the after_cursor


async def test_comments_are_read_with_cursor_paging_and_side_loaded_authors(httpx_mock, api_samples, sleeps):
    page = load(api_samples, "incremental_tickets_cursor_page_per_page_1.json")
    page = dict(page, end_of_stream=True)
    httpx_mock.add_response(url=EXPORT, json=page)
    first = {
        "comments": [
            {"id": 1, "author_id": 6130907993114, "body": "Printer on fire", "public": True, "created_at": "2023-09-18T15:57:42Z"}
        ],
        "meta": {"has_more": True, "after_cursor": "cGFnZTI=", "before_cursor": None},
        "users": [{"id": 6130907993114, "name": "Cust", "email": "cust@example.com", "role": "end-user"}],
    }
    comments_url = re.compile(r"https://acme\.zendesk\.com/api/v2/tickets/28/comments\.json\?.*")
    httpx_mock.add_response(url=comments_url, json=first)
    httpx_mock.add_response(url=comments_url, json=load(api_samples, "ticket_comments_cursor_page.json"))
    async with make(sleeps, fetch_comments=True, comments_page_size=1) as zd:
        (p,) = await collect(zd)
    (t,) = p.tickets
    assert [(m.author, m.body) for m in t.messages] == [("customer", "Printer on fire"), ("agent", "Some comment")]
    reqs = [params(r) for r in httpx_mock.get_requests() if "comments" in r.url.path]
    assert reqs[0]["page[size]"] == "1" and "page[after]" not in reqs[0]
    assert reqs[1]["page[after]"] == "cGFnZTI="


async def test_comments_of_a_ticket_deleted_meanwhile_fall_back_to_the_description(httpx_mock, api_samples, sleeps):
    page = dict(load(api_samples, "incremental_tickets_cursor_page_per_page_1.json"), end_of_stream=True)
    httpx_mock.add_response(url=EXPORT, json=page)
    httpx_mock.add_response(
        url=re.compile(r".*/tickets/28/comments\.json.*"), status_code=404, json=load(api_samples, "error_404_record_not_found.json")
    )
    async with make(sleeps, fetch_comments=True) as zd:
        (p,) = await collect(zd)
    assert [m.body for m in p.tickets[0].messages] == ["test"]


async def test_429_with_plain_text_body_waits_retry_after_then_succeeds(httpx_mock, api_samples, sleeps):
    limited = load(api_samples, "docs_example_429_rate_limited.json")
    httpx_mock.add_response(url=EXPORT, status_code=limited["status"], headers=limited["headers"], text=limited["body_text"])
    httpx_mock.add_response(url=EXPORT, json={"tickets": [], "after_cursor": "YQ==", "end_of_stream": True})
    async with make(sleeps) as zd:
        pages = await collect(zd)
    assert pages[-1].done
    # Retry-After: 93 is honoured, within the retry policy's cap on a single wait.
    assert sleeps.waits == [93.0]  # Retry-After is honoured in full


async def test_5xx_is_retried_then_succeeds(httpx_mock, sleeps):
    httpx_mock.add_response(url=EXPORT, status_code=503, text="upstream unavailable")
    httpx_mock.add_response(url=EXPORT, json={"tickets": [], "after_cursor": "YQ==", "end_of_stream": True})
    async with make(sleeps) as zd:
        pages = await collect(zd)
    assert pages[-1].done and len(sleeps.waits) == 1


async def test_401_is_an_auth_error_naming_the_settings_and_never_the_token(httpx_mock, sleeps):
    httpx_mock.add_response(url=EXPORT, status_code=401, json={"error": "Couldn't authenticate you"})
    async with make(sleeps) as zd:
        with pytest.raises(AuthError) as e:
            await collect(zd)
    msg = str(e.value)
    assert "email + token" in msg and msg.startswith("support: ")
    assert TOKEN not in msg and TOKEN not in repr(zd) and TOKEN not in repr(zd.settings)


async def test_403_on_the_export_says_an_admin_is_needed(httpx_mock, sleeps):
    httpx_mock.add_response(url=EXPORT, status_code=403, json={"error": "Forbidden"})
    async with make(sleeps) as zd:
        with pytest.raises(AuthError, match="admins only"):
            await collect(zd)


@pytest.mark.parametrize(
    "response, message",
    [
        ({"json": {"tickets": "none", "end_of_stream": True}}, "tickets: expected a list"),
        ({"json": {"tickets": [{"id": 1, "status": "open"}], "end_of_stream": True}}, "tickets[id=1].created_at: missing"),
        ({"json": {"tickets": []}}, "end_of_stream: missing"),
        ({"text": "<html>maintenance</html>"}, "expected a JSON body"),
    ],
)
async def test_malformed_body_is_a_bad_response_naming_the_field(httpx_mock, sleeps, response, message):
    httpx_mock.add_response(url=EXPORT, **response)
    async with make(sleeps) as zd:
        with pytest.raises(BadResponse) as e:
            await collect(zd)
    assert message in str(e.value) and str(e.value).startswith("support: ")


async def test_rate_limit_headers_feed_the_budget(httpx_mock, api_samples, sleeps):
    recorded = load(api_samples, "response_headers_incremental_export.json")
    headers = [(k, v) for k, values in recorded.items() for v in values]
    httpx_mock.add_response(url=EXPORT, headers=headers, json={"tickets": [], "after_cursor": "YQ==", "end_of_stream": True})
    async with make(sleeps, requests_per_minute=600) as zd:
        await collect(zd)
        snap = zd.client.budget.snapshot()
    assert (snap.limit, snap.remaining) == (700, 698)


async def test_bad_bookmark_is_refused_clearly(sleeps):
    async with make(sleeps) as zd:
        with pytest.raises(ConnectorError, match="bookmark: expected"):
            await collect(zd, {"since": 5})


# -- check -------------------------------------------------------------------------------------

ME = f"{BASE}/api/v2/users/me.json"


@pytest.mark.parametrize(
    "response, ok, kind, words",
    [
        ({"json": {"user": {"id": 1, "role": "admin"}}}, True, "ok", "as an admin"),
        ({"json": {"user": {"id": 1, "role": "agent"}}}, False, "auth", "needs an admin"),
        ({"json": {"user": {"id": None, "name": "Anonymous user"}}}, False, "auth", "anonymous"),
        ({"status_code": 401, "json": {"error": "Couldn't authenticate you"}}, False, "auth", "email + token"),
        ({"status_code": 503, "text": "down"}, False, "unreachable", "server error"),
        ({"json": {"nope": 1}}, False, "error", "expected a user object"),
    ],
)
async def test_check_gives_a_verdict(httpx_mock, sleeps, response, ok, kind, words):
    httpx_mock.add_response(url=ME, is_reusable=True, **response)
    async with make(sleeps, max_attempts=1) as zd:
        result = await zd.check()
    assert (result.ok, result.kind) == (ok, kind)
    assert words in result.message and TOKEN not in result.message


# -- update ------------------------------------------------------------------------------------

TICKET = f"{BASE}/api/v2/tickets/4016.json"


def current(api_samples, **changes):
    body = load(api_samples, "ticket_update_response.json")
    body = {"ticket": dict(body["ticket"], **changes)}
    return body


def intent(**kw):
    base = dict(ticket_id="support:4016", source="support", idempotency_key="3F2A9C1E0B7D-decision-77")
    base.update(kw)
    return TicketUpdate(**base)


async def test_update_sends_only_the_delta_with_safe_update_and_the_marker(httpx_mock, api_samples, sleeps):
    httpx_mock.add_response(url=TICKET, method="GET", json=current(api_samples, tags=["vip", "old"]))
    httpx_mock.add_response(url=TICKET, method="PUT", json=load(api_samples, "ticket_update_response.json"))
    update = intent(
        priority="urgent",
        group="billing",
        status="open",
        tags_add=("vip", "outage"),
        tags_remove=("old", "never-there"),
        escalated=True,
        private_note="Escalated by deskwatch: outage keywords.",
    )
    async with make(sleeps, group_ids={"billing": 360004077472}) as zd:
        result = await zd.update(update)
    assert result.outcome == "applied" and result.ticket_id == "support:4016"
    put = next(r for r in httpx_mock.get_requests() if r.method == "PUT")
    sent = json.loads(put.content)
    recorded = load(api_samples, "ticket_update_request_body.json")
    assert sent.keys() == recorded.keys() == {"ticket"}  # same envelope as the recorded PUT
    body = sent["ticket"]
    assert body["safe_update"] is True and body["updated_stamp"] == "2023-09-18T23:26:01Z"
    assert body["priority"] == "urgent" and body["status"] == "open" and body["group_id"] == 360004077472
    assert "tags" not in body  # never the whole list: it would clobber the agents' tags
    assert body["additional_tags"] == ["outage", "escalated", "dw-3f2a9c1e0b7d"]
    assert body["remove_tags"] == ["old"]
    assert body["comment"]["public"] is False
    assert body["comment"]["body"].startswith("Escalated by deskwatch: outage keywords.")
    assert "dw-3f2a9c1e0b7d" in body["comment"]["body"]
    assert "assignee_id" not in body  # not asked for


async def test_update_already_applied_changes_nothing(httpx_mock, api_samples, sleeps):
    httpx_mock.add_response(url=TICKET, method="GET", json=current(api_samples, tags=["dw-3f2a9c1e0b7d"]))
    async with make(sleeps) as zd:
        result = await zd.update(intent(priority="urgent", private_note="again?"))
    assert result.outcome == "already_applied"
    assert [r.method for r in httpx_mock.get_requests()] == ["GET"]  # no PUT, no second note


async def test_update_conflict_rereads_and_reapplies_what_is_still_needed(httpx_mock, api_samples, sleeps):
    httpx_mock.add_response(url=TICKET, method="GET", json=current(api_samples))
    httpx_mock.add_response(
        url=TICKET, method="PUT", status_code=409,
        json={"error": "UpdateConflict", "description": "Ticket has been updated since you last viewed it"},
    )
    # Someone raised the priority meanwhile; the group is still to change.
    httpx_mock.add_response(
        url=TICKET, method="GET", json=current(api_samples, priority="urgent", updated_at="2023-09-18T23:30:00Z")
    )
    httpx_mock.add_response(url=TICKET, method="PUT", json=load(api_samples, "ticket_update_response.json"))
    async with make(sleeps, group_ids={"billing": 77}) as zd:
        result = await zd.update(intent(priority="urgent", group="billing"))
    assert result.outcome == "applied"
    puts = [json.loads(r.content)["ticket"] for r in httpx_mock.get_requests() if r.method == "PUT"]
    assert puts[0]["priority"] == "urgent" and puts[0]["group_id"] == 77
    assert "priority" not in puts[1] and puts[1]["group_id"] == 77
    assert puts[1]["updated_stamp"] == "2023-09-18T23:30:00Z"


async def test_update_conflict_where_nothing_is_left_to_do(httpx_mock, api_samples, sleeps):
    httpx_mock.add_response(url=TICKET, method="GET", json=current(api_samples))
    httpx_mock.add_response(url=TICKET, method="PUT", status_code=409, json={"error": "UpdateConflict"})
    httpx_mock.add_response(url=TICKET, method="GET", json=current(api_samples, priority="high"))
    async with make(sleeps) as zd:
        result = await zd.update(intent(priority="high"))
    assert result.outcome == "applied" and "nothing sent" in result.message


async def test_update_that_keeps_conflicting_is_handed_back(httpx_mock, api_samples, sleeps):
    for _ in range(3):
        httpx_mock.add_response(url=TICKET, method="GET", json=current(api_samples))
        httpx_mock.add_response(url=TICKET, method="PUT", status_code=409, json={"error": "UpdateConflict"})
    async with make(sleeps) as zd:
        result = await zd.update(intent(priority="high"))
    assert result.outcome == "conflict"


async def test_ambiguous_failure_is_settled_by_the_marker_not_by_sending_again(httpx_mock, api_samples, sleeps):
    httpx_mock.add_response(url=TICKET, method="GET", json=current(api_samples))
    httpx_mock.add_response(url=TICKET, method="PUT", status_code=502, text="bad gateway")
    # The PUT did land (note and marker together): the re-read shows the marker.
    httpx_mock.add_response(url=TICKET, method="GET", json=current(api_samples, tags=["dw-3f2a9c1e0b7d"]))
    async with make(sleeps) as zd:
        result = await zd.update(intent(private_note="Only once, please."))
    assert result.outcome == "applied"
    assert [r.method for r in httpx_mock.get_requests()] == ["GET", "PUT", "GET"]


async def test_write_that_keeps_failing_is_raised_for_a_later_retry_not_reported_as_conflict(httpx_mock, api_samples, sleeps):
    for _ in range(3):
        httpx_mock.add_response(url=TICKET, method="GET", json=current(api_samples))
        httpx_mock.add_response(url=TICKET, method="PUT", status_code=503, text="down")
    async with make(sleeps) as zd:
        with pytest.raises(TransientError):
            await zd.update(intent(priority="high"))


async def test_validation_error_on_the_write_is_a_failed_result(httpx_mock, api_samples, sleeps):
    httpx_mock.add_response(url=TICKET, method="GET", json=current(api_samples))
    httpx_mock.add_response(
        url=TICKET, method="PUT", status_code=422,
        json={"error": "RecordInvalid", "description": "Record validation errors",
              "details": {"group_id": [{"description": "Group: is invalid", "error": "InvalidValue"}]}},
    )
    async with make(sleeps) as zd:
        result = await zd.update(intent(group="12345"))
    assert result.outcome == "failed" and "Group: is invalid" in result.message


async def test_update_of_a_missing_ticket_fails_clearly(httpx_mock, api_samples, sleeps):
    httpx_mock.add_response(url=TICKET, method="GET", status_code=404, json=load(api_samples, "error_404_record_not_found.json"))
    async with make(sleeps) as zd:
        result = await zd.update(intent(priority="high"))
    assert result.outcome == "failed" and "not found" in result.message


async def test_closed_ticket_and_unknown_group_fail_without_a_write(httpx_mock, api_samples, sleeps):
    httpx_mock.add_response(url=TICKET, method="GET", json=current(api_samples, status="closed"))
    httpx_mock.add_response(url=TICKET, method="GET", json=current(api_samples))
    httpx_mock.add_response(url=GROUPS, json={"groups": [{"id": 5, "name": "Tier 2"}], "next_page": None})
    httpx_mock.add_response(url=USERS, json={"users": [], "next_page": None})
    async with make(sleeps) as zd:
        closed = await zd.update(intent(priority="high"))
        unknown = await zd.update(intent(group="billing"))
    assert closed.outcome == "failed" and "closed" in closed.message
    assert unknown.outcome == "failed" and "sources.support.group_ids" in unknown.message
    assert "PUT" not in [r.method for r in httpx_mock.get_requests()]


async def test_group_and_assignee_are_resolved_by_name_from_the_directory(httpx_mock, api_samples, sleeps):
    httpx_mock.add_response(url=TICKET, method="GET", json=current(api_samples))
    httpx_mock.add_response(url=GROUPS, json={"groups": [{"id": 5, "name": "Tier 2"}], "next_page": None})
    httpx_mock.add_response(url=USERS, json={"users": [{"id": 9, "name": "Ana Lopez", "role": "agent"}], "next_page": None})
    httpx_mock.add_response(url=TICKET, method="PUT", json=load(api_samples, "ticket_update_response.json"))
    async with make(sleeps) as zd:
        result = await zd.update(intent(group="tier 2", assignee="Ana Lopez"))
    assert result.outcome == "applied"
    put = json.loads(next(r for r in httpx_mock.get_requests() if r.method == "PUT").content)["ticket"]
    assert (put["group_id"], put["assignee_id"]) == (5, 9)


# -- bulk --------------------------------------------------------------------------------------


def ticket_url(tid):
    return f"{BASE}/api/v2/tickets/{tid}.json"


async def test_update_many_uses_one_job_and_polls_it_to_completion(httpx_mock, api_samples, sleeps):
    recorded_request = load(api_samples, "update_many_request_body_trimmed.json")
    ids = [t["id"] for t in recorded_request["tickets"]]  # 3862, 3863, 3864
    for tid in ids:
        httpx_mock.add_response(url=ticket_url(tid), method="GET", json=current(api_samples, id=tid))
    httpx_mock.add_response(
        url=f"{BASE}/api/v2/tickets/update_many.json", method="PUT", json=load(api_samples, "update_many_job_status_queued.json")
    )
    job = f"{BASE}/api/v2/job_statuses/V3-47ed156789697d342091e8d273f50b5d.json"
    httpx_mock.add_response(url=job, json=load(api_samples, "job_status_working.json"))
    httpx_mock.add_response(url=job, json=load(api_samples, "job_status_completed_update_trimmed.json"))
    updates = [
        intent(ticket_id=f"support:{tid}", idempotency_key=f"key-{tid}", priority="high", tags_add=("bulk",)) for tid in ids
    ]
    async with make(sleeps) as zd:
        results = await zd.update_many(updates)
    assert [r.outcome for r in results] == ["applied"] * 3
    assert [r.ticket_id for r in results] == [f"support:{tid}" for tid in ids]
    put = next(r for r in httpx_mock.get_requests() if r.method == "PUT")
    sent = json.loads(put.content)
    assert sent.keys() == recorded_request.keys() == {"tickets"}
    assert [t["id"] for t in sent["tickets"]] == ids
    assert all(t["priority"] == "high" and t["additional_tags"][0] == "bulk" for t in sent["tickets"])
    assert sent["tickets"][0]["additional_tags"][-1] == "dw-key3862"
    assert sleeps.waits == [1.0, 1.0]  # polled twice: working, then completed


async def test_update_many_reports_per_ticket_failures_and_skips_applied_ones(httpx_mock, api_samples, sleeps):
    httpx_mock.add_response(url=ticket_url(1), method="GET", json=current(api_samples, id=1))
    httpx_mock.add_response(url=ticket_url(2), method="GET", json=current(api_samples, id=2))
    httpx_mock.add_response(url=ticket_url(3), method="GET", json=current(api_samples, id=3, tags=["dw-key3"]))
    httpx_mock.add_response(
        url=f"{BASE}/api/v2/tickets/update_many.json", method="PUT",
        json={"job_status": {"id": "J1", "status": "queued", "results": None}},
    )
    httpx_mock.add_response(
        url=f"{BASE}/api/v2/job_statuses/J1.json",
        json={"job_status": {"id": "J1", "status": "completed", "results": [
            {"id": 1, "action": "update", "success": True, "status": "Updated"},
            {"id": 2, "action": "update", "success": False, "status": "Failed", "error": "TicketLocked"},
        ]}},
    )
    updates = [intent(ticket_id=f"support:{i}", idempotency_key=f"key{i}", priority="urgent") for i in (1, 2, 3)]
    async with make(sleeps) as zd:
        results = await zd.update_many(updates)
    assert [r.outcome for r in results] == ["applied", "failed", "already_applied"]
    assert "TicketLocked" in results[1].message
    sent = json.loads(next(r for r in httpx_mock.get_requests() if r.method == "PUT").content)
    assert [t["id"] for t in sent["tickets"]] == [1, 2]


async def test_update_many_too_many_values_fails_each_ticket_clearly(httpx_mock, api_samples, sleeps):
    for i in (1, 2):
        httpx_mock.add_response(url=ticket_url(i), method="GET", json=current(api_samples, id=i))
    httpx_mock.add_response(
        url=f"{BASE}/api/v2/tickets/update_many.json", method="PUT", status_code=400,
        json=load(api_samples, "error_400_too_many_values.json"),
    )
    updates = [intent(ticket_id=f"support:{i}", idempotency_key=f"k{i}", priority="low") for i in (1, 2)]
    async with make(sleeps) as zd:
        results = await zd.update_many(updates)
    assert [r.outcome for r in results] == ["failed", "failed"]
    assert all("TooManyValues" in r.message for r in results)


# -- registration ------------------------------------------------------------------------------


def test_the_plugin_registers_the_zendesk_type_through_pluggy():
    pm = pluggy.PluginManager("deskwatch")
    pm.add_hookspecs(hookspecs)
    pm.register(plugin)
    got = []
    pm.hook.deskwatch_register_connector_types(register=got.append)
    (ctype,) = got
    assert ctype.name == "zendesk"
    settings = ctype.parse_settings(Section({"subdomain": "acme", "oauth_token": "tok-123456"}, "sources.eu"))
    connector = ctype.create("eu", settings, client_factory())
    assert isinstance(connector, ZendeskConnector) and connector.source == "eu"
    assert connector.settings.name == "eu"


async def test_bad_generated_timestamp_is_named_with_the_source(httpx_mock, sleeps):
    row = {"id": 5, "status": "open", "created_at": "2026-11-23T09:00:00Z", "updated_at": "2026-11-23T09:00:00Z",
           "generated_timestamp": "soon"}
    httpx_mock.add_response(url=EXPORT, json={"tickets": [row], "after_cursor": "YQ==", "end_of_stream": True})
    async with make(sleeps) as zd:
        with pytest.raises(BadResponse, match=r"^support: tickets\[id=5\].generated_timestamp: expected unix seconds"):
            await collect(zd)
