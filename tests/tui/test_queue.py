"""The queue screen: order, columns at 80x24, filters, search, live updates in place."""

from __future__ import annotations

from datetime import timedelta

from deskwatch.core.store import QueueFilter
from deskwatch.tui.screens.queue import QueueScreen
from deskwatch.tui.widgets.queue_table import QueueTable

from ..conftest import NOW
from ..store.factory import decision, ticket
from .helpers import screen_text


def order(app) -> list[str]:
    table = app.screen.query_one(QueueTable)
    return [table.coordinate_to_cell_key((i, 0))[0].value for i in range(table.row_count)]


async def test_queue_shows_every_source_most_urgent_first_in_80_columns(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        assert order(app) == ["freshdesk:10", "zendesk:2", "freshdesk:11", "zendesk:3", "zendesk:1", "zendesk:4"]
        text = screen_text(app)
        lines = text.splitlines()
        assert "6 open" in lines[0] and "ana" in lines[0]
        header = lines[1]
        for col in ("Urg", "Scr", "SLA", "Ticket", "Customer", "Subject", "Team", "Agent"):
            assert col in header  # every column fits in 80
        top = lines[2]
        # breached 10 minutes ago, ticket id, account value, team
        assert top.split()[:5] == ["IMM", "95", "-10m", "fd:10", "Phi"]
        assert "48k" in top and "platf" in top
        assert "250k" in lines[3] and "30m" in lines[3] and "zd:2" in lines[3]
        assert lines[5].split()[-1] == "ana"  # zendesk:3's assignee
        assert "Old resolved thing" not in text  # solved: not in the queue
        assert max(len(line) for line in lines) <= 80


async def test_filters_and_assigned_to_me(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("m")  # assigned to me (ana)
        assert order(app) == ["zendesk:3"]
        assert "assignee=ana" in screen_text(app).splitlines()[0]
        await pilot.press("m")
        assert len(order(app)) == 6
        await pilot.press("f")
        form = app.screen
        form.query_one("#f-source").value = "zendesk"
        form.query_one("#f-needs_review").value = "no"
        form.action_submit()
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        assert order(app) == ["zendesk:2", "zendesk:1", "zendesk:4"]
        await pilot.press("f")
        app.screen.query_one("#f-team").value = "legal"
        app.screen.query_one("#f-source").clear()
        app.screen.query_one("#f-needs_review").clear()
        app.screen.action_submit()
        await pilot.pause()
        assert order(app) == ["zendesk:3"]
        await pilot.press("x")
        assert len(order(app)) == 6


async def test_incremental_search(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        await pilot.press("o", "u", "t", "a")
        assert order(app) == ["freshdesk:10"]  # "Outage"
        await pilot.press("backspace", "backspace", "backspace", "backspace", "b", "e", "t", "a")
        assert order(app) == ["zendesk:2"]  # organization Beta Bank
        await pilot.press("enter")
        assert app.screen.query_one(QueueTable).has_focus
        await pilot.press("x")
        assert len(order(app)) == 6


async def test_live_changes_update_rows_in_place_without_rebuild(app, store, clock):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        await pilot.press("down", "down")  # cursor on freshdesk:11
        assert table.current_id == "freshdesk:11"
        loads = []
        original = app.queue_screen.reload
        app.queue_screen.reload = lambda: (loads.append(1), original())[1]
        # the daemon re-decides one ticket: same rank, new SLA state -> repainted in place
        store.record_decision(decision("freshdesk:11", score=78, recommendation="priority", tier="tier2", team="billing",
                                       due=NOW - timedelta(minutes=2), sla_state="breached"))
        app.poll_store()
        await pilot.pause()
        assert table.repaints == 0 and loads == []
        assert "-2m" in screen_text(app).splitlines()[4]
        # another ticket jumps to the top: re-sorted, cursor stays on its ticket
        store.record_decision(decision("zendesk:1", score=99, recommendation="immediate", tier="tier3", team="billing"))
        # a new ticket arrives, one gets solved
        store.save_page("zendesk", [ticket("zendesk:7", subject="Cannot log in since the update", org="Omega")], (), None)
        store.save_page("freshdesk", [ticket("freshdesk:10", status="solved", updated=NOW)], (), None)
        app.poll_store()
        await pilot.pause()
        assert order(app) == ["zendesk:1", "zendesk:2", "freshdesk:11", "zendesk:3", "zendesk:4", "zendesk:7"]
        assert table.current_id == "freshdesk:11"
        assert loads == []  # never a full reload
        assert "6 open" in screen_text(app).splitlines()[0]
        # a change that does not match the active filter is not shown
        await pilot.press("m")
        store.save_page("zendesk", [ticket("zendesk:8", subject="Someone else's", assignee="bob")], (), None)
        app.poll_store()
        await pilot.pause()
        assert order(app) == ["zendesk:3"]


async def test_clock_moves_countdowns(app, clock):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "30m" in screen_text(app).splitlines()[3]
        clock.now = NOW + timedelta(minutes=45)
        app.poll_store()
        await pilot.pause()
        line = screen_text(app).splitlines()[3]
        assert "-15m" in line and "zd:2" in line


async def test_rows_capped_at_max_rows(store, console):
    from deskwatch.tui.app import DeskwatchApp

    store.save_page("zendesk", [ticket(f"zendesk:{100 + i}", subject=f"Bulk ticket {i}") for i in range(30)], (), None)
    console.max_rows = 10
    app = DeskwatchApp(console)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(order(app)) == 10
        assert "10 of 36 open" in screen_text(app).splitlines()[0]
        assert order(app)[:2] == ["freshdesk:10", "zendesk:2"]
        # a newly urgent ticket enters the window, the least urgent leaves it
        store.record_decision(decision("zendesk:120", score=90, recommendation="immediate", tier="tier3", team="platform"))
        app.poll_store()
        await pilot.pause()
        assert len(order(app)) == 10 and order(app)[2] == "zendesk:120"
        assert order(app) == [r.ticket_id for r in store.queue(QueueFilter(), limit=10)]


async def test_first_screenfuls_paint_then_the_rest_of_the_window_loads(store, console, monkeypatch):
    from deskwatch.tui.app import DeskwatchApp
    from deskwatch.tui.screens import queue as queue_screen

    monkeypatch.setattr(queue_screen, "FIRST_PAGE", 3)
    store.save_page("zendesk", [ticket(f"zendesk:{100 + i}", subject=f"Bulk ticket {i}") for i in range(30)], (), None)
    console.max_rows = 20
    app = DeskwatchApp(console)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert order(app) == [r.ticket_id for r in store.queue(QueueFilter(), limit=20)]
        assert "20 of 36 open" in screen_text(app).splitlines()[0]
        # a reload (new filters) reads the window again, with what changed meanwhile
        app.queue_screen.table.rows_by_id.pop("zendesk:101", None)
        store.record_decision(decision("zendesk:4", score=99, recommendation="immediate", tier="tier3", team="identity"))
        app.queue_screen.reload()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert order(app)[0] == "zendesk:4"
        assert order(app) == [r.ticket_id for r in store.queue(QueueFilter(), limit=20)]


async def test_resize_gives_the_subject_the_room(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Production API down for all users" not in screen_text(app)
        await pilot.resize_terminal(160, 30)
        await pilot.pause()
        text = screen_text(app)
        assert "Production API down for all users" in text and " Ch " in text  # the channel column came back
        assert max(len(line) for line in text.splitlines()) <= 160
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert " Ch " not in screen_text(app) and app.queue_screen.table.row_count == 6


async def test_rest_of_window_merges_with_rows_a_live_change_added(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        rows = store.queue(QueueFilter())
        table.set_rows(rows[:2])  # as if only the first page had been read
        table.apply([rows[-1]], lambda r: True, 100)  # a live change: the least urgent ticket
        table.append_rows(rows[2:], 100)  # then the worker's rest of the window
        await pilot.pause()
        assert order(app) == [r.ticket_id for r in rows]
        table.set_rows(rows[:2])
        table.append_rows(rows[2:], 4)  # capped
        assert order(app) == [r.ticket_id for r in rows][:4]


async def test_a_flood_of_new_tickets_keeps_only_the_most_urgent(store, console):
    from deskwatch.tui.app import DeskwatchApp

    console.max_rows = 50
    app = DeskwatchApp(console)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        store.save_page("salesforce", [ticket(f"salesforce:{i}", subject=f"Synced {i}") for i in range(400)], (), None)
        with store.transaction():
            for i in range(0, 400, 40):
                store.record_decision(decision(f"salesforce:{i}", score=80 + i / 40, recommendation="immediate", tier="tier3", team="platform"))
        app.poll_store()
        await pilot.pause()
        assert order(app) == [r.ticket_id for r in store.queue(QueueFilter(), limit=50)]
        assert order(app)[2] == "salesforce:360" and len(order(app)) == 50


async def test_two_rows_swapping_repaints_two_lines_not_the_table(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        painted = []
        original = table.refresh_row
        table.refresh_row = lambda i: (painted.append(i), original(i))[1]
        # freshdesk:11 (PRI 78) drops below zendesk:3 (PRI 70)
        store.record_decision(decision("freshdesk:11", score=60, recommendation="priority", tier="tier2", team="billing"))
        app.poll_store()
        await pilot.pause()
        assert order(app)[2:4] == ["zendesk:3", "freshdesk:11"]
        assert table.repaints == 0 and sorted(set(painted)) == [2, 3]
        assert "60" in screen_text(app).splitlines()[5] and "Refund" in screen_text(app).splitlines()[5]


async def test_changes_under_another_screen_are_applied_on_return(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")  # ticket screen on top of the queue
        await pilot.pause()
        store.record_decision(decision("zendesk:1", score=99, recommendation="immediate", tier="tier3", team="billing"))
        app.poll_store()
        await pilot.pause()
        assert app.queue_screen.held and app.queue_screen.table.rows_by_id["zendesk:1"].recommendation == "monitor"
        await pilot.press("escape")
        await pilot.pause()
        assert order(app)[0] == "zendesk:1" and not app.queue_screen.held
