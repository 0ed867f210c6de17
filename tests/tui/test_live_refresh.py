"""The console applies changes other processes write, by itself: the store wakes it
(LISTEN/NOTIFY on PostgreSQL, a look at the change counter on SQLite)."""

from __future__ import annotations

import asyncio

from deskwatch.core.store import Store
from deskwatch.tui.app import DeskwatchApp
from deskwatch.tui.context import Console
from tests.store.pg import open_test_store, pg_url, store_kind  # noqa: F401  (fixtures)

from ..store.factory import decision, ticket
from .conftest import Clock, fill
from .test_queue import order


async def test_a_change_written_elsewhere_reaches_the_console_without_a_poll(store_kind, request, tmp_path):
    store = open_test_store(store_kind, request, tmp_path)
    fill(store)
    # The daemon: another connection to the same store.
    daemon = Store(url=store.url) if store.url else Store(store.path)
    console = Console(store=store, actor="ana", clock=Clock(), refresh_interval=3600.0, max_rows=100)
    app = DeskwatchApp(console)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            polls = app.polls
            daemon.save_page("zendesk", [ticket("zendesk:77", subject="Live from the daemon")], (), None)
            daemon.record_decision(decision("zendesk:77", score=99, recommendation="immediate", tier="tier3"))
            for _ in range(100):  # a deadline for a hung watcher, not a speed check
                await asyncio.sleep(0.1)
                await pilot.pause()
                if "zendesk:77" in order(app):
                    break
            assert order(app)[0] == "zendesk:77"
            assert app.polls > polls  # the watcher polled; the hour-long timer did not
    finally:
        daemon.close()
        store.close()
