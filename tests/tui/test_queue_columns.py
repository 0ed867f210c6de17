"""The queue's columns, widths, sorting, finding a ticket by id, marks and empty states."""

from __future__ import annotations

from datetime import timedelta

from deskwatch.core.daemon import operations
from deskwatch.core.store import Store
from deskwatch.tui.app import DeskwatchApp
from deskwatch.tui.context import Console
from deskwatch.tui.widgets import columns
from deskwatch.tui.widgets.queue_table import QueueTable

from ..conftest import NOW
from ..store.factory import decision, ticket
from .helpers import screen_text


def order(app) -> list[str]:
    t = app.queue_screen.table
    return [t.coordinate_to_cell_key((i, 0))[0].value for i in range(t.row_count)]


def test_widths_follow_the_terminal():
    for width in (80, 100, 120, 200, 240):
        w = columns.widths(width)
        assert sum(w.values()) + 2 * len(w) + columns.SCROLLBAR == width  # the table fills the screen, no more
    wide = columns.widths(200)
    assert all(wide[c.key] == c.ideal for c in columns.COLUMNS if c.ideal)  # nothing cut at 200
    assert wide["subject"] > 70 and wide["subject"] > columns.widths(120)["subject"] > columns.widths(80)["subject"] >= 12
    assert "ch" in wide and "ch" not in columns.widths(80)


async def test_at_200_columns_nothing_is_cut_and_the_subject_takes_the_rest(app, store):
    store.save_page("zendesk", [ticket("zendesk:20", subject="Single sign-on fails for every user of the EU tenant since rotation",
                                       org="Northwind Traders International", assignee="maria.lopez", annual_value=None)], (), None)
    store.record_decision(decision("zendesk:20", score=99, recommendation="immediate", tier="tier3", team="identity-platform"))
    async with app.run_test(size=(200, 30)) as pilot:
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert all(h in lines[1] for h in ("Ticket", "Ch", "Customer", "Subject", "Team", "Agent", "Age"))
        top = lines[2]
        for text in ("zd:20", "Northwind Traders International", "identity-platform", "maria.lopez",
                     "Single sign-on fails for every user of the EU tenant since rotation"):
            assert text in top
        assert "~" not in top and "…" not in top


async def test_paused_sla_and_hold_marks(app, store, clock):
    store.record_decision(decision("zendesk:1", score=30, recommendation="monitor", tier="tier1", team="billing", sla_state="paused"))
    operations.snooze(store, "zendesk:3", NOW + timedelta(hours=1), "ana", clock())
    operations.escalate(store, "freshdesk:11", tier="tier3", team="billing", agent=None, actor="ana", reason="VIP", now=clock())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        lines = {line.split()[3] if line.split()[0] != "?" else "": line for line in screen_text(app).splitlines()[2:8]}
        assert "paused" in next(line for line in lines.values() if "zd:1 " in line)
        t = app.queue_screen.table
        assert t.get_row("zendesk:3")[0].plain.endswith("z")  # snoozed
        assert t.get_row("freshdesk:11")[0].plain.endswith("h")  # escalated by hand: holds
        assert t.get_row("zendesk:2")[0].plain == "IMM"  # nothing holds it


async def test_sort_by_any_column_and_back(app):
    async with app.run_test(size=(200, 30)) as pilot:
        await pilot.pause()
        t = app.queue_screen.table
        await pilot.press("j")  # on zendesk:2
        await pilot.press("s")  # score
        assert t.sort_column == "score" and "sorted by score" in screen_text(app).splitlines()[0]
        scores = [t.rows_by_id[i].score for i in order(app)]
        assert scores == sorted(scores, reverse=True)
        assert t.current_id == "zendesk:2"  # the cursor kept its ticket
        while t.sort_column != "customer":
            await pilot.press("s")
        assert order(app) == ["zendesk:1", "zendesk:2", "freshdesk:11", "zendesk:4", "zendesk:3", "freshdesk:10"]
        await pilot.press("S")
        assert order(app) == ["freshdesk:10", "zendesk:3", "zendesk:4", "freshdesk:11", "zendesk:2", "zendesk:1"]
        await pilot.click(QueueTable, offset=(100, 0))  # the Subject header
        await pilot.pause()
        assert t.sort_column == "subject"
        assert order(app)[0] == "zendesk:3"  # "GDPR data deletion request"
        while t.sort_column != "urg":
            await pilot.press("s")
        assert order(app) == ["freshdesk:10", "zendesk:2", "freshdesk:11", "zendesk:3", "zendesk:1", "zendesk:4"]


async def test_slash_finds_a_ticket_id_and_home_end_g_G(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        t = app.queue_screen.table
        await pilot.press("slash", *"zd:3")
        await pilot.pause()
        assert t.current_id == "zendesk:3" and len(order(app)) == 6  # found, not filtered away
        await pilot.press("enter", "G")
        assert t.current_id == "zendesk:4"
        await pilot.press("g")
        assert t.current_id == "freshdesk:10"
        await pilot.press("end")
        assert t.cursor_row == 5
        await pilot.press("home")
        assert t.cursor_row == 0
        await pilot.press("slash", *"freshdesk:11", "enter")
        assert t.current_id == "freshdesk:11"


async def test_cursor_stays_on_the_top_row_while_the_backlog_is_decided(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        t = app.queue_screen.table
        t.resort_every = 0  # re-order at every poll
        for i, tid in enumerate(("zendesk:4", "zendesk:1")):
            store.record_decision(decision(tid, score=97 + i, recommendation="immediate", tier="tier3", team="platform"))
            app.poll_store()
            await pilot.pause()
            assert t.cursor_row == 0 and t.current_id == tid  # the new most urgent, at the top
        await pilot.press("j")  # the person moved: from now on the cursor follows its ticket
        mine = t.current_id
        store.record_decision(decision("zendesk:3", score=100, recommendation="immediate", tier="tier3", team="legal"))
        app.poll_store()
        await pilot.pause()
        assert t.current_id == mine and t.cursor_row == 2


async def test_team_filter_is_a_choice_list_matching_any_case(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f")
        team = app.screen.query_one("#f-team")
        choices = [str(label) for label, _ in team._options if _ is not team.BLANK]
        assert "legal" in choices and "platform" in choices
        assert len([c for c in choices if c.casefold() == "billing"]) == 1  # "billing" and "Billing": one team
        team.value = next(c for c in choices if c.casefold() == "billing")
        app.screen.action_submit()
        await pilot.pause()
        assert sorted(order(app)) == ["freshdesk:11", "zendesk:1", "zendesk:4"]  # zendesk:4 is in group "Billing"


async def test_empty_states_say_why_and_what_to_do(tmp_path, clock):
    store = Store(tmp_path / "empty.db")
    app = DeskwatchApp(Console(store=store, actor="ana", clock=clock, refresh_interval=60.0, sources=("zendesk",)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "no tickets yet: is the daemon running? `deskwatch status`" in " ".join(text.split())
        store.save_page("zendesk", [ticket("zendesk:1", subject="First")], (), None)
        app.poll_store()
        await pilot.pause()
        assert "no tickets yet" not in screen_text(app) and order(app) == ["zendesk:1"]
        await pilot.press("m")
        assert "nothing is assigned to ana: press m to show every ticket" in " ".join(screen_text(app).split())
        await pilot.press("m", "slash", *"nomatch", "enter")
        assert 'no open ticket matches "nomatch": press x to clear the filters' in " ".join(screen_text(app).split())
    store.close()
