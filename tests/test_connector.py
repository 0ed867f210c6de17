"""The connector contract: values, errors and the default behaviour of the base class."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from deskwatch.core import model
from deskwatch.core.connect.contract import (
    AuthError,
    CheckResult,
    Connector,
    ConnectorError,
    ConnectorType,
    Page,
    RateLimited,
    UpdateResult,
    idempotency_tag,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def ticket(n: int) -> model.Ticket:
    return model.Ticket(
        id=f"mem:{n}", source="mem", channel="email", subject=f"ticket {n}", status="open", priority="normal",
        created_at=T0, updated_at=T0, messages=(model.Message("customer", T0, "help"),),
    )


class MemoryConnector(Connector):
    type_name = "memory"

    def __init__(self, source: str):
        super().__init__(source)
        self.applied: dict[str, set[str]] = {}
        self.closed = 0

    async def check(self) -> CheckResult:
        return CheckResult(True, "reachable")

    async def fetch(self, bookmark, *, until=None):
        start = bookmark or 0
        for i in range(start, 4, 2):
            yield Page(tickets=[ticket(i), ticket(i + 1)], bookmark=i + 2, done=i + 2 >= 4)

    async def update(self, update: model.TicketUpdate) -> UpdateResult:
        if update.native_id == "boom":
            raise AuthError("token refused; set sources.mem.token")
        keys = self.applied.setdefault(update.ticket_id, set())
        if update.idempotency_key in keys:
            return UpdateResult("already_applied", ticket_id=update.ticket_id)
        keys.add(update.idempotency_key)
        return UpdateResult("applied", ticket_id=update.ticket_id)

    async def close(self) -> None:
        self.closed += 1


def test_page_is_frozen_and_normalizes_lists():
    p = Page(tickets=[ticket(1)], deleted=["mem:9"], bookmark={"cursor": "c"})
    assert p.tickets == (ticket(1),) and p.deleted == ("mem:9",) and not p.done
    with pytest.raises(AttributeError):
        p.done = True  # type: ignore[misc]


def test_results_validate_their_outcome():
    assert UpdateResult("already_applied").ok and not UpdateResult("conflict").ok
    with pytest.raises(ValueError, match="expected one of applied"):
        UpdateResult("done")
    assert CheckResult(False, "nope").kind == "error" and CheckResult(True, "fine").kind == "ok"


def test_errors_carry_source_and_retry_after():
    e = RateLimited("slow down", retry_after=12, source="zd", status=429)
    assert str(e) == "zd: slow down" and e.retry_after == 12 and isinstance(e, ConnectorError)


def test_idempotency_tag_is_short_and_stable():
    assert idempotency_tag("3F2A-9C1E-0B7D-4444") == "dw-3f2a9c1e0b7d"


async def test_base_class_fetch_update_many_and_context_manager():
    conn = MemoryConnector("mem")
    async with conn as c:
        pages = [p async for p in c.fetch(None)]
        assert [p.bookmark for p in pages] == [2, 4] and pages[-1].done
        resumed = [p async for p in c.fetch(2)]
        assert [t.id for p in resumed for t in p.tickets] == ["mem:2", "mem:3"]
        u = model.TicketUpdate("mem:1", "mem", "key-1", priority="high")
        results = await c.update_many([u, u, model.TicketUpdate("mem:boom", "mem", "k2")])
        assert [r.outcome for r in results] == ["applied", "already_applied", "failed"]
        assert "sources.mem.token" in results[2].message
    assert conn.closed == 1
    assert conn.ticket_id(42) == "mem:42"


def test_connector_type_is_a_plain_declaration():
    ct = ConnectorType("memory", parse_settings=lambda s: None, create=lambda name, settings, factory: MemoryConnector(name))
    assert isinstance(ct.create("m", None, None), MemoryConnector)
    with pytest.raises(TypeError):
        Connector("x")  # type: ignore[abstract]


async def test_rate_budget_is_found_on_the_connectors_client(httpx_mock):
    from deskwatch.core.connect import http

    class Polling(MemoryConnector):
        def __init__(self, source):
            super().__init__(source)
            self.client = http.make_api_client("https://desk.test", sleep=http.no_sleep)

    httpx_mock.add_response(json={}, headers={"X-Ratelimit-Total": "400", "X-Ratelimit-Remaining": "17"})
    async with Polling("fd") as c:
        assert c.rate_budget().as_dict()["remaining"] is None
        await c.client.get("/api/v2/tickets")
        snap = c.rate_budget()
    assert (snap.limit, snap.remaining) == (400, 17)
    assert MemoryConnector("m").rate_budget() is None
