"""The connector conformance suite: standard tests every deskwatch connector should pass.

Subclass ``ConnectorConformance`` in a test file (its name must start with ``Test``) and
provide two fixtures; every test below then runs against your connector::

    from deskwatch.testing import ConnectorConformance

    class TestMyConnector(ConnectorConformance):
        @pytest.fixture
        def fake_api(self, httpx_mock):
            fake = FakeMyDesk()                      # your in-memory server of the API
            httpx_mock.add_callback(fake.handle, is_reusable=True)
            return fake

        @pytest.fixture
        def connector_factory(self, fake_api):
            settings = parse_settings(Section({"base_url": fake_api.base_url, "api_key": fake_api.secret,
                                               "page_size": 2}, "sources.test"))
            return lambda client_factory: create("test", settings, client_factory)

The fake API must offer (see ``FakeApi``): ``secret`` (the credential the connector uses),
``reject_auth`` (answer 401 when true), ``add_tickets(count, start=, step=)`` (seed tickets
updated at ``start + i*step``, return their native ids) and ``fail_next(status, headers)``
(answer the next request with that status). Build the connector with a small page size (2-3)
so the seeded tickets span several pages, and always through the ``client_factory`` you are
given: it carries an instant, recording sleep, so retry tests take no time.

Override a test method (e.g. with ``pytest.skip("reason")``) when your API cannot support it.
Tests about change (a ticket updated mid-sync, a half-applied update, deletions, status
mapping, the escalated flag) need optional methods of the fake and skip, naming the method,
without them; ``deskwatch.testing.FakeHelpdesk`` is a base for the fake (``fakeapi.py``).
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, Callable, ClassVar, Protocol

import pytest

from deskwatch.core.connect import http

from deskwatch.core import model
from deskwatch.core.connect.contract import AuthError, CheckResult, Connector, Page
from deskwatch.testing.conformance_changes import ChangeConformance


class FakeApi(Protocol):
    """What the conformance suite needs from a connector author's fake server."""

    secret: str
    reject_auth: bool

    def add_tickets(self, count: int, *, start: datetime, step: timedelta) -> list[str]: ...

    def fail_next(self, status: int, headers: dict[str, str] | None = None, body: str = "") -> None: ...


class SleepRecorder:
    """An instant sleep that remembers every wait it was asked for."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class ConnectorConformance(ChangeConformance):
    """Standard connector tests; see the module docstring for how to use them (and
    ``conformance_changes`` for the tests about change, which need more of the fake API)."""

    ticket_count: ClassVar[int] = 7
    min_pages: ClassVar[int] = 2  # the seeded tickets must span at least this many pages
    max_pages: ClassVar[int] = 200  # a sync that needs more has not terminated
    start: ClassVar[datetime] = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    step: ClassVar[timedelta] = timedelta(minutes=7)

    # -- fixtures the author provides -----------------------------------------------------------
    @pytest.fixture
    def fake_api(self) -> FakeApi:
        pytest.fail("override the fake_api fixture: return your fake server, installed on httpx_mock")

    @pytest.fixture
    def connector_factory(self, fake_api: FakeApi) -> Callable[[Any], Connector]:
        pytest.fail("override the connector_factory fixture: return a function client_factory -> Connector")

    # -- suite fixtures ---------------------------------------------------------------------------
    @pytest.fixture
    def sleeps(self) -> SleepRecorder:
        return SleepRecorder()

    @pytest.fixture
    def client_factory(self, sleeps: SleepRecorder) -> Callable[..., http.ApiClient]:
        return http.client_factory(sleep=sleeps)

    # -- helpers ----------------------------------------------------------------------------------
    @asynccontextmanager
    async def connect(self, connector_factory, client_factory) -> AsyncIterator[Connector]:
        connector = connector_factory(client_factory)
        assert isinstance(connector, Connector), f"connector_factory returned {type(connector).__name__}, not a Connector"
        async with connector as c:
            yield c

    async def sync(self, connector: Connector, bookmark: Any = None, until: datetime | None = None) -> list[Page]:
        pages: list[Page] = []
        async for page in connector.fetch(bookmark, until=until):
            assert isinstance(page, Page), f"fetch() yielded {type(page).__name__}, not a Page"
            pages.append(page)
            assert len(pages) <= self.max_pages, f"fetch() did not stop after {self.max_pages} pages"
        return pages

    def seed(self, fake_api: FakeApi, count: int | None = None) -> list[str]:
        return fake_api.add_tickets(count or self.ticket_count, start=self.start, step=self.step)

    @staticmethod
    def native_ids(pages: list[Page]) -> list[str]:
        return [t.native_id for p in pages for t in p.tickets]

    @staticmethod
    def roundtrip(bookmark: Any) -> Any:
        """A bookmark as the store gives it back: through JSON."""
        try:
            return json.loads(json.dumps(bookmark))
        except TypeError as e:
            pytest.fail(f"bookmark {bookmark!r} is not JSON-serializable: {e}")

    # -- the tests ---------------------------------------------------------------------------------
    async def test_check_passes_with_good_credentials(self, fake_api, connector_factory, client_factory):
        async with self.connect(connector_factory, client_factory) as c:
            result = await c.check()
        assert isinstance(result, CheckResult) and result.ok, f"check() failed against a healthy API: {result}"

    async def test_fetch_paginates_and_terminates(self, fake_api, connector_factory, client_factory):
        ids = self.seed(fake_api)
        async with self.connect(connector_factory, client_factory) as c:
            pages = await self.sync(c)
        assert len(pages) >= self.min_pages, f"{len(ids)} tickets came in {len(pages)} page(s); use a smaller page size"
        assert pages[-1].done, "the last page of a sync must have done=True"
        assert not any(p.done for p in pages[:-1]), "only the last page may have done=True"
        for p in pages:
            for t in p.tickets:
                assert isinstance(t, model.Ticket) and t.source == c.source and t.id == f"{c.source}:{t.native_id}"

    async def test_no_ticket_lost_or_duplicated_across_pages(self, fake_api, connector_factory, client_factory):
        ids = self.seed(fake_api)
        async with self.connect(connector_factory, client_factory) as c:
            got = self.native_ids(await self.sync(c))
        dupes = sorted({i for i in got if got.count(i) > 1})
        assert not dupes, f"tickets delivered twice in one sync: {dupes}"
        assert sorted(got) == sorted(ids), f"lost: {sorted(set(ids) - set(got))}"

    async def test_resume_from_a_midway_bookmark(self, fake_api, connector_factory, client_factory):
        ids = self.seed(fake_api)
        async with self.connect(connector_factory, client_factory) as c:
            pages = await self.sync(c)
            previous_rest: set[str] | None = None
            for i, page in enumerate(pages[:-1]):
                assert page.bookmark is not None, f"page {i} carries no bookmark"
                resumed = set(self.native_ids(await self.sync(c, self.roundtrip(page.bookmark))))
                later = set(self.native_ids(pages[i + 1:]))
                before = set(self.native_ids(pages[: i + 1]))
                assert later <= resumed, f"resuming after page {i} lost {sorted(later - resumed)}"
                assert not (resumed & before), f"resuming after page {i} went back to {sorted(resumed & before)}"
                if previous_rest is not None:
                    assert resumed <= previous_rest, "bookmarks must not move backwards"
                previous_rest = resumed
            caught_up = self.native_ids(await self.sync(c, self.roundtrip(pages[-1].bookmark)))
        assert caught_up == [], f"resuming from the final bookmark re-delivered {caught_up}"
        assert set(self.native_ids(pages)) == set(ids)

    async def test_bookmark_never_passes_the_sync_start(self, fake_api, connector_factory, client_factory):
        ids = self.seed(fake_api)
        cut = self.ticket_count // 2
        until = self.start + cut * self.step - self.step / 2  # tickets 0..cut-1 are before it
        async with self.connect(connector_factory, client_factory) as c:
            first = await self.sync(c, until=until)
            early = set(self.native_ids(first))
            for t in (t for p in first for t in p.tickets):
                assert t.updated_at <= until, f"ticket {t.id} updated after the signpost was delivered"
            bookmark = next((p.bookmark for p in reversed(first) if p.bookmark is not None), None)
            rest = set(self.native_ids(await self.sync(c, self.roundtrip(bookmark))))
        late = set(ids[cut:])
        assert late <= rest, f"tickets updated after the sync start were skipped next time: {sorted(late - rest)}"
        assert early | rest == set(ids)

    async def test_update_round_trip(self, fake_api, connector_factory, client_factory):
        ids = self.seed(fake_api, 3)
        async with self.connect(connector_factory, client_factory) as c:
            pages = await self.sync(c)
            target = ids[1]
            update = model.TicketUpdate(
                ticket_id=c.ticket_id(target), source=c.source, idempotency_key="conformance-roundtrip-1",
                priority="urgent", tags_add=("dw-conformance",), private_note="deskwatch conformance note",
            )
            result = await c.update(update)
            assert result.outcome == "applied", f"update() returned {result}"
            changed = [t for p in await self.sync(c, self.roundtrip(pages[-1].bookmark)) for t in p.tickets if t.native_id == target]
        assert changed, "an updated ticket must come back in the next incremental sync"
        assert changed[-1].priority == "urgent" and "dw-conformance" in changed[-1].tags

    async def test_update_is_idempotent(self, fake_api, connector_factory, client_factory, httpx_mock):
        ids = self.seed(fake_api, 2)
        async with self.connect(connector_factory, client_factory) as c:
            update = model.TicketUpdate(
                ticket_id=c.ticket_id(ids[0]), source=c.source, idempotency_key="conformance-once-2",
                priority="high", tags_add=("vip",), private_note="only once",
            )
            first = await c.update(update)
            writes_before = sum(r.method != "GET" for r in httpx_mock.get_requests())
            second = await c.update(update)
            writes_after = sum(r.method != "GET" for r in httpx_mock.get_requests())
        assert first.outcome == "applied" and second.outcome == "already_applied", (first, second)
        assert writes_after == writes_before, "a repeated update must not write anything"

    async def test_rate_limit_honours_retry_after(self, fake_api, connector_factory, client_factory, sleeps):
        fake_api.fail_next(429, {"Retry-After": "7"}, "slow down")
        async with self.connect(connector_factory, client_factory) as c:
            result = await c.check()
        assert result.ok, f"check() should succeed after one 429: {result}"
        assert 7.0 in sleeps.calls, f"expected a 7 s wait (Retry-After), waited {sleeps.calls}"

    async def test_server_errors_are_retried(self, fake_api, connector_factory, client_factory, sleeps):
        ids = self.seed(fake_api, 2)
        fake_api.fail_next(503)
        fake_api.fail_next(502)
        async with self.connect(connector_factory, client_factory) as c:
            got = self.native_ids(await self.sync(c))
        assert sorted(got) == sorted(ids)
        assert len(sleeps.calls) >= 2, "two 5xx answers should cause two backoff waits"

    async def test_auth_failure_is_clear_and_hides_the_secret(self, fake_api, connector_factory, client_factory):
        fake_api.reject_auth = True
        async with self.connect(connector_factory, client_factory) as c:
            try:
                result = await c.check()
                assert not result.ok and result.kind == "auth", f"check() with refused credentials returned {result}"
                message = result.message
            except AuthError as e:
                message = str(e)
        assert message.strip(), "the auth failure must say something"
        assert fake_api.secret not in message, "the credential leaked into the error message"
