"""Ticket, review, overview, help and the command palette."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Sparkline

from deskwatch.core.store import QueueFilter
from deskwatch.tui.screens.help import HelpScreen
from deskwatch.tui.screens.overview import OverviewScreen
from deskwatch.tui.screens.queue import QueueScreen
from deskwatch.tui.screens.review import ReviewScreen
from deskwatch.tui.screens.ticket import TicketScreen
from deskwatch.tui.widgets.queue_table import QueueTable

from ..conftest import NOW
from ..store.factory import decision
from .helpers import screen_text, widget_text


def static_text(screen, selector) -> str:
    return widget_text(screen.query_one(selector))


async def open_ticket(pilot, app, tid):
    table = app.screen.query_one(QueueTable)
    table.move_cursor(row=table.get_row_index(tid))
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, TicketScreen) and app.screen.ticket_id == tid


async def test_ticket_screen_explains_the_decision(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await open_ticket(pilot, app, "zendesk:2")
        s = app.screen
        head = static_text(s, "#t-header")
        assert "Production API down for all users" in head and "IMMEDIATE" in head and "score 95/100" in head
        assert "Beta Bank (250k/yr)" in head
        signals = static_text(s, "#t-signals").splitlines()
        # a header, then the biggest contribution first with value, weight and points, its bar the longest
        assert signals[0].split()[:2] == ["signal", "0-40"]
        assert signals[1].startswith("impact") and "1.00×30" in signals[1] and "+30.0" in signals[1] and "production" in signals[1]
        sentiment = next(line for line in signals if line.startswith("sentiment"))
        assert "0.70×20" in sentiment and "+14.0" in sentiment
        bars = {line.split()[0]: line.count("█") for line in signals[1:] if line[:1].isalpha()}
        assert list(bars) == ["impact", "sentiment", "churn"] and bars["impact"] > bars["sentiment"] > 0
        assert "cancel our contract" in " ".join(" ".join(signals).split())
        assert "first_response" in static_text(s, "#t-sla") and "30m" in static_text(s, "#t-sla")
        assert "tier3 / platform -> ana (on call)" in static_text(s, "#t-route")
        assert "outages go to platform on call" in static_text(s, "#t-route")
        # sentiment of the two customer messages, oldest to newest
        assert s.query_one("#t-sentiment", Sparkline).data == [-0.2, -0.5]
        # the evidence words are highlighted in the conversation
        conv = s.query_one("#t-conversation").content
        spans = [conv.plain[sp.start:sp.end] for sp in conv.spans if "yellow" in str(sp.style)]
        assert "unacceptable" in spans and "cancel our contract" in spans and "production API has been down" in spans
        assert "nothing sent" in static_text(s, "#t-outbox")
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)


async def test_ticket_screen_shows_outbox_state_per_action(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await open_ticket(pilot, app, "zendesk:2")
        await pilot.press("a")  # acknowledge from the ticket screen
        await pilot.pause()
        s = app.screen
        assert "waiting to be sent" in static_text(s, "#t-outbox")
        assert "acknowledged by ana" in static_text(s, "#t-header")
        assert "acknowledge" in static_text(s, "#t-audit") and "ana" in static_text(s, "#t-audit")
        items = store.outbox_for("zendesk:2")  # the assignment to ana and the acknowledgment note
        assert [i.update.assignee for i in items] == ["ana", None]
        # the daemon sends them; the screen follows on its next tick
        store.claim("zendesk", 10, NOW)
        for item in items:
            store.mark_applied(item.key, {"outcome": "applied"}, NOW + timedelta(seconds=3))
        app.poll_store()
        await pilot.pause()
        assert "reached the helpdesk" in static_text(s, "#t-outbox")
        await pilot.press("n")
        await pilot.press(*"Paged the platform lead")  # the note field has the focus
        await pilot.press("ctrl+s")
        await pilot.pause()
        note = [i for i in store.outbox_for("zendesk:2") if "Paged the platform lead" in (i.update.private_note or "")][0]
        store.claim("zendesk", 10, NOW)
        store.mark_failed(note.key, "HTTP 422: note too long for Zendesk")
        app.poll_store()
        await pilot.pause()
        out = static_text(s, "#t-outbox")
        assert "failed: HTTP 422: note too long for Zendesk" in out and "reached the helpdesk" in out


async def test_review_accept_and_reject_with_one_key(app, store):
    store.record_decision(decision(
        "freshdesk:11", score=60, recommendation="priority", tier="tier2", team="billing", needs_review=True, confidence=0.35))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        assert isinstance(app.screen, ReviewScreen)
        table = app.screen.table
        assert [k.value for k in table.rows] == ["zendesk:3", "freshdesk:11"]  # most urgent first
        assert "2 low-confidence" in screen_text(app)
        await pilot.press("n")  # reject zendesk:3
        await pilot.press("y")  # accept freshdesk:11
        await pilot.pause()
        assert table.row_count == 0
        fb = {tid: [r for r in store.audit_for(tid) if r.kind == "feedback"] for tid in ("freshdesk:11", "zendesk:3")}
        assert fb["freshdesk:11"][0].data["accept"] is True and fb["freshdesk:11"][0].actor == "ana"
        assert fb["zendesk:3"][0].data["accept"] is False and fb["zendesk:3"][0].data["recommendation"] == "priority"
        assert store.queue(QueueFilter(needs_review=True)) == []
        assert store.outbox_for("zendesk:3") == []  # feedback is local
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)


async def test_overview_counts_escalations_sla_and_sync_health(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("v")
        assert isinstance(app.screen, OverviewScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        esc = static_text(app.screen, "#ov-escalations")
        platform = next(l for l in esc.splitlines() if l.strip().startswith("platform"))
        billing = next(l for l in esc.splitlines() if l.strip().startswith("billing"))
        assert platform.split()[-1] == "2" and billing.split()[-1] == "1"  # solved zendesk:5 is not counted
        assert "legal" in esc
        sla = static_text(app.screen, "#ov-sla")
        assert "1 breached" in sla and "1 warning" in sla and "freshdesk:10" in sla
        src = static_text(app.screen, "#ov-sources")
        fd = next(l for l in src.splitlines() if l.strip().startswith("freshdesk"))
        zd = next(l for l in src.splitlines() if l.strip().startswith("zendesk"))
        assert "2h ago" in fd and "HTTP 401" in fd
        assert "40s ago" in zd and "HTTP" not in zd
        assert "alive" in src


async def test_help_lists_every_key(app):
    from deskwatch.tui.app import DeskwatchApp

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        plain = widget_text(app.screen.query_one("#help Static"), width=100)
        for screen in (DeskwatchApp, QueueScreen, TicketScreen, ReviewScreen, OverviewScreen):
            for b in screen.BINDINGS:
                assert b.tooltip, f"{screen.__name__} {b.key} has no tooltip"
        for tooltip in ("Escalate to a tier, team or agent", "Incremental search", "The decision was right", "Command palette"):
            assert tooltip in plain
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)


async def test_command_palette_runs_actions_and_opens_tickets(app, store):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        table.move_cursor(row=table.get_row_index("zendesk:3"))
        await pilot.press("ctrl+p")
        await pilot.press(*"acknowledge")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert store.ack_state("zendesk:3").acknowledged_by == "ana"
        await pilot.press("ctrl+p")
        await pilot.press(*"open ticket freshdesk:11")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen) and app.screen.ticket_id == "freshdesk:11"


async def test_review_moves_with_j_k_and_the_header_follows_removals(app, store):
    store.record_decision(decision(
        "freshdesk:11", score=60, recommendation="priority", tier="tier2", team="billing", needs_review=True, confidence=0.35))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        table = app.screen.table
        assert [k.value for k in table.rows] == ["zendesk:3", "freshdesk:11"]
        await pilot.press("j")
        assert app.screen.current_ticket_id() == "freshdesk:11"
        await pilot.press("k", "j", "y")  # accept the second row, not the top one
        await pilot.pause()
        assert [r.data["accept"] for r in store.audit_for("freshdesk:11") if r.kind == "feedback"] == [True]
        assert [r for r in store.audit_for("zendesk:3") if r.kind == "feedback"] == []
        assert "1 low-confidence decision " in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        assert "nothing to review" in screen_text(app) and "2 low-confidence" not in screen_text(app)


def test_signal_bars_use_one_scale_for_every_ticket():
    from dataclasses import replace

    from rich.console import Console as RichConsole

    from deskwatch.core.model import Signal
    from deskwatch.tui.screens.ticket import BAR, BAR_SCALE, signals

    def bar_of(*sigs):
        out = RichConsole(width=78, color_system=None, record=True, file=__import__("io").StringIO())
        out.print(signals(replace(decision(), signals=sigs)))
        return {line.split()[0]: line.count("█") for line in out.export_text().splitlines()[1:] if line[:1].isalpha()}

    small = bar_of(Signal("age", 0.5, 20, 10.0))  # a ticket whose top signal is small
    big = bar_of(Signal("impact", 1.0, 40, 40.0), Signal("age", 0.5, 20, 10.0))
    assert small["age"] == big["age"] == BAR * 10.0 // BAR_SCALE  # same points, same bar, whatever the top signal
    assert big["impact"] == BAR and small["age"] < BAR


def test_route_line_counts_chain_steps_from_one():
    from dataclasses import replace
    from types import SimpleNamespace

    from deskwatch.core.model import Route
    from deskwatch.tui.screens.ticket import route

    chains = {"outage": SimpleNamespace(steps=(1, 2, 3))}
    routing = SimpleNamespace(chain=chains.get)
    d = replace(decision(), route=Route("tier2", "platform", None, False, 0, "chain 'outage' step 1/3 (notify platform)", chain="outage"))
    line = route(d, routing).plain.splitlines()[0]
    assert line == "tier2 / platform, chain 'outage' step 1/3"
    assert "step 0" not in route(d, routing).plain and "step 0" not in route(d).plain
    assert route(replace(d, route=replace(d.route, chain_step=2)), routing).plain.splitlines()[0].endswith("step 3/3")


async def test_audit_rows_are_sentences(app, store, clock):
    from deskwatch.core.daemon import operations

    operations.escalate(store, "zendesk:2", tier="tier3", team="platform", agent=None, actor="ana",
                        reason="customer says the whole API is down for every region since this morning", now=clock())
    operations.snooze(store, "zendesk:2", NOW + timedelta(hours=2), "bo", clock(), reason="waiting for the vendor")
    operations.add_note(store, "zendesk:2", "<p>Called &quot;Bo&quot; back</p>", "ana", clock())
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.pause()
        await open_ticket(pilot, app, "zendesk:2")
        text = " ".join(static_text(app.screen, "#t-audit").split())
        assert "ana escalated to tier3 / platform -> ana: customer says the whole API is down for every region since this morning" in text
        assert "bo snoozed the escalation until 2026-11-23 12:00Z: waiting for the vendor" in text
        assert 'ana added a private note: Called "Bo" back' in text
        assert "deskwatch decided immediate, score 95" in text
        assert "=" not in text and "~" not in text  # no key=value pairs, nothing cut
