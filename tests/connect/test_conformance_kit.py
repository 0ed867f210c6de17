"""The connector test kit itself: the reusable fake API (queued failures, auth rejection, a
clock) and the conformance tests about change, which must fail a connector that pages by page
number (a ticket updated mid-sync is then lost) and pass a correct one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from deskwatch.core.connect.contract import Page
from deskwatch.core.connect.http import client_factory
from deskwatch.core.connect.kit import format_time
from deskwatch.core.model.settings import Section
from deskwatch.testing import ConnectorConformance, FakeClock, FakeHelpdesk, SleepRecorder
from deskwatch_example_connector import create, parse_settings
from deskwatch_example_connector.connector import ExampleConnector
from deskwatch_example_connector.fake import FakeExampleDesk


class Echo(FakeHelpdesk):
    def authorized(self, request: httpx.Request) -> bool:
        return request.headers.get("X-Key") == self.secret

    def serve(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"path": request.url.path})


def call(fake: FakeHelpdesk, method: str, path: str, key: str | None = None) -> httpx.Response:
    return fake.handle(httpx.Request(method, fake.base_url + path, headers={"X-Key": key or fake.secret}))


def test_queued_failures_match_in_order_and_are_used_once():
    fake = Echo()
    fake.fail_next(503, writes_only=True)
    fake.fail_next(429, {"Retry-After": "3"}, path=r"/tickets/\d+$", method="GET")
    assert call(fake, "GET", "/tickets").status_code == 200  # neither matches
    assert call(fake, "GET", "/tickets/4").status_code == 429
    assert call(fake, "PUT", "/tickets/4").status_code == 503
    assert call(fake, "PUT", "/tickets/4").status_code == 200 and fake.failures == []
    assert fake.writes == [("PUT", "/tickets/4")]  # only the write that was served


def test_a_landed_failure_serves_the_write_and_loses_the_answer():
    fake = Echo()
    fake.fail_next(502, writes_only=True, land=True, after=1)  # the second write lands, its answer is lost
    assert call(fake, "POST", "/a").status_code == 200
    assert call(fake, "POST", "/b").status_code == 502
    assert fake.writes == [("POST", "/a"), ("POST", "/b")]


def test_auth_rejection_and_the_clock():
    fake = Echo(clock=FakeClock(step=timedelta(seconds=5)))
    assert call(fake, "GET", "/x", key="wrong").status_code == 401
    fake.reject_auth = True
    assert call(fake, "GET", "/x").status_code == 401
    before = fake.clock()
    assert fake.clock.tick() == before + timedelta(seconds=5) and fake.clock.advance(60) == before + timedelta(seconds=65)
    fake.clock.at_least(before)  # never moves back
    assert fake.clock() == before + timedelta(seconds=65)


# ---------------------------------------------------------------------------------------------
# a connector that pages by page number must fail the mid-sync test


class OffsetDesk(FakeExampleDesk):
    """Example Desk with page-number paging too (``?since=&offset=``)."""

    def serve(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if request.url.path == "/api/tickets" and "offset" in params:
            rows = sorted((t for t in self.tickets.values() if t["updated_at"] > params.get("since", "")),
                          key=lambda t: (t["updated_at"], t["id"]))
            offset, limit = int(params["offset"]), int(params["limit"])
            return httpx.Response(200, json={"tickets": rows[offset: offset + limit]})
        return super().serve(request)


class PageNumberConnector(ExampleConnector):
    """Pages by offset and remembers the newest updated_at it saw: the classic mistake."""

    async def fetch(self, bookmark: Any, *, until=None):
        since = (bookmark or {}).get("since", "")
        offset = 0
        while True:
            body = await self.client.get_json("/api/tickets", params={"since": since, "offset": offset, "limit": self.settings.page_size})
            rows = body["tickets"]
            newest = max([since, *(r["updated_at"] for r in rows)])
            done = len(rows) < self.settings.page_size
            yield Page(tuple(self.to_ticket(r) for r in rows), (), {"since": newest}, done=done)
            if done:
                return
            offset += len(rows)


def _suite(fake, connector_cls) -> tuple[ConnectorConformance, Any, Any]:
    suite = ConnectorConformance()
    settings = parse_settings(Section({"base_url": fake.base_url, "api_key": fake.secret, "page_size": 2}, "sources.demo"))
    factory = (lambda cf: connector_cls("demo", settings, cf)) if connector_cls else (lambda cf: create("demo", settings, cf))
    return suite, factory, client_factory(sleep=SleepRecorder(), transport=fake.transport())


async def test_page_number_paging_fails_the_mid_sync_conformance_test():
    fake = OffsetDesk()
    suite, factory, clients = _suite(fake, PageNumberConnector)
    with pytest.raises(AssertionError, match="lost when ticket .* changed during the sync"):
        await suite.test_ticket_updated_mid_sync_is_not_lost(fake, factory, clients)


async def test_cursor_paging_passes_it():
    fake = OffsetDesk()
    suite, factory, clients = _suite(fake, None)
    await suite.test_ticket_updated_mid_sync_is_not_lost(fake, factory, clients)
    assert format_time(fake.clock()) == max(t["updated_at"] for t in fake.tickets.values())  # the change was made
