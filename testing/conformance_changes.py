"""Conformance tests about change: a ticket updated while a sync runs, an update cut off half
way, deletions, status mapping and the ``escalated`` flag. Part of ``ConnectorConformance``.

They need more of the fake API than the core tests; each one that needs an optional method
the fake lacks is skipped with a message naming it:

* ``change_ticket(native_id)``: the ticket changes now, after every other change (an agent's edit);
* ``delete_ticket(native_id)``: the ticket is deleted in the helpdesk;
* ``set_ticket_status(native_id, native_status)``: the ticket's status in the helpdesk's own words,
  with ``status_cases`` on your test class mapping those words to deskwatch's;
* ``ticket_notes(native_id) -> list[str]``: the private notes the ticket holds;
* ``ticket_escalated(native_id) -> bool``: whether the helpdesk shows the ticket as escalated;
* ``fail_next(status, writes_only=True, land=..., after=...)``: as ``FakeHelpdesk`` offers
  (``deskwatch.testing.FakeHelpdesk`` gives all of the failure handling for free).
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

import pytest

from deskwatch.core import model
from deskwatch.core.connect.contract import ConnectorError, Page


def need(fake_api: Any, name: str) -> Any:
    """The fake API's optional method ``name``, or a skip saying what to add."""
    found = getattr(fake_api, name, None)
    if not callable(found):
        pytest.skip(f"the fake API has no {name}(); add it to run this conformance test (deskwatch.testing.conformance_changes)")
    return found


def _last_bookmark(pages: list[Page]) -> Any:
    return next((p.bookmark for p in reversed(pages) if p.bookmark is not None), None)


class ChangeConformance:
    """Mixed into ``ConnectorConformance``; uses its fixtures and helpers."""

    # Native status value -> the deskwatch status the connector must map it to.
    status_cases: ClassVar[Mapping[str, str]] = {}

    async def test_ticket_updated_mid_sync_is_not_lost(self, fake_api, connector_factory, client_factory):
        touch = need(fake_api, "change_ticket")
        ids = self.seed(fake_api)
        async with self.connect(connector_factory, client_factory) as c:
            pages: list[Page] = []
            touched = None
            async for page in c.fetch(None):
                pages.append(page)
                assert len(pages) <= self.max_pages, f"fetch() did not stop after {self.max_pages} pages"
                if touched is None and page.tickets:
                    # A ticket already delivered changes: it moves to the end of "updated since"
                    # order, and page-number (offset) paging then skips the ticket after it.
                    touched = page.tickets[0].native_id
                    touch(touched)
            first_page = len(pages[0].tickets) if pages else 0
            this_sync = self.native_ids(pages)
            next_sync = self.native_ids(await self.sync(c, self.roundtrip(_last_bookmark(pages))))
        lost = sorted(set(ids) - set(this_sync) - set(next_sync))
        assert not lost, (f"tickets lost when ticket {touched} changed during the sync: {lost}; page by (updated_at, id) "
                          "or a cursor, never by page number or offset")
        assert touched in this_sync[first_page:] + next_sync, f"the change to ticket {touched} made during the sync never arrived"

    async def test_half_applied_update_is_finished_once(self, fake_api, connector_factory, client_factory):
        notes = need(fake_api, "ticket_notes")
        ids = self.seed(fake_api, 6)
        cases = [(k, land) for k in range(3) for land in (False, True)]  # which write fails, and whether it landed
        async with self.connect(connector_factory, client_factory) as c:
            for (k, land), target in zip(cases, ids):
                text = f"conformance half note {k}{'L' if land else 'N'}"
                update = model.TicketUpdate(ticket_id=c.ticket_id(target), source=c.source, idempotency_key=f"half{k}{int(land)}-conformance",
                                            priority="high", tags_add=("dw-half",), private_note=text)
                try:
                    fake_api.fail_next(503, writes_only=True, land=land, after=k)
                except TypeError:
                    pytest.skip("the fake API's fail_next() takes no writes_only/land/after; build it on deskwatch.testing.FakeHelpdesk")
                try:
                    await c.update(update)  # cut off half way: any outcome but a lie, checked below
                except ConnectorError:
                    pass
                fake_api.failures.clear()
                retry = await c.update(update)
                assert retry.ok, f"the retry of an update cut off at write {k + 1} (landed: {land}) returned {retry}"
                found = [n for n in notes(target) if text in n]
                assert len(found) == 1, f"update cut off at write {k + 1} (landed: {land}): its note is on the ticket {len(found)} times"
            pages = await self.sync(c)
        by_id = {t.native_id: t for p in pages for t in p.tickets}
        for target in ids[: len(cases)]:
            t = by_id[target]
            assert t.priority == "high" and "dw-half" in t.tags, f"ticket {target} after a cut-off update and its retry: {t.priority}, {t.tags}"

    async def test_deleted_ticket_is_reported_as_deleted(self, fake_api, connector_factory, client_factory):
        delete = need(fake_api, "delete_ticket")
        ids = self.seed(fake_api, 3)
        async with self.connect(connector_factory, client_factory) as c:
            pages = await self.sync(c)
            delete(ids[1])
            after = await self.sync(c, self.roundtrip(_last_bookmark(pages)))
        deleted = [d for p in after for d in p.deleted]
        assert c.ticket_id(ids[1]) in deleted, f"a deleted ticket must come as Page.deleted ('<source>:<id>'), got {deleted}"
        assert ids[1] not in self.native_ids(after), "a deleted ticket must not also come as a ticket"

    async def test_statuses_map_to_deskwatch_statuses(self, fake_api, connector_factory, client_factory):
        ids = self.seed(fake_api, max(3, len(self.status_cases)))
        async with self.connect(connector_factory, client_factory) as c:
            pages = await self.sync(c)
            bad = {t.id: t.status for p in pages for t in p.tickets if t.status not in model.STATUSES}
            assert not bad, f"statuses outside deskwatch's ({', '.join(model.STATUSES)}): {bad}"
            if not self.status_cases:
                pytest.skip("set status_cases = {native status: deskwatch status} on the test class to check the mapping")
            set_status = need(fake_api, "set_ticket_status")
            for native_id, native in zip(ids, self.status_cases):
                set_status(native_id, native)
            after = await self.sync(c, self.roundtrip(_last_bookmark(pages)))
        got = {t.native_id: t.status for p in after for t in p.tickets}
        wrong = {native: (got.get(i), want) for (native, want), i in zip(self.status_cases.items(), ids) if got.get(i) != want}
        assert not wrong, f"status mapping (native: (got, want)): {wrong}"

    async def test_escalated_flag_is_written_and_cleared(self, fake_api, connector_factory, client_factory):
        is_escalated = need(fake_api, "ticket_escalated")
        ids = self.seed(fake_api, 2)
        async with self.connect(connector_factory, client_factory) as c:
            up = model.TicketUpdate(ticket_id=c.ticket_id(ids[0]), source=c.source, idempotency_key="escon-conformance", escalated=True)
            assert (await c.update(up)).ok
            assert is_escalated(ids[0]), "update(escalated=True) left the ticket not escalated"
            assert not is_escalated(ids[1]), "update(escalated=True) escalated another ticket"
            down = model.TicketUpdate(ticket_id=c.ticket_id(ids[0]), source=c.source, idempotency_key="escoff-conformance", escalated=False)
            assert (await c.update(down)).ok
        assert not is_escalated(ids[0]), "update(escalated=False) left the ticket escalated"
