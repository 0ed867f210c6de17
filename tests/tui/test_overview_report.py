"""The overview shows `deskwatch report`'s figures with weekly trends, refreshed cheaply."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deskwatch.core.daemon import operations
from deskwatch.core.store import Store
from deskwatch.tui.app import DeskwatchApp
from deskwatch.tui.context import Console
from deskwatch.tui.screens.overview import OverviewScreen

from ..conftest import NOW
from ..store.factory import decision, ticket
from .helpers import widget_text


def two_weeks_ago(store) -> None:
    """Week of 2026-11-09: one ticket left alone, one escalated (its SLA breached) that a person
    stood down: escalation rate 50% (n=2), false escalations 100% (n=1), SLA attained 50% (n=2)."""
    then = NOW - timedelta(days=14)
    store.save_page("freshdesk", [
        ticket("freshdesk:12", subject="Question about export", created=then),
        ticket("freshdesk:13", subject="Cannot log in", created=then),
    ], (), None)
    store.record_decision(decision("freshdesk:12", score=10, recommendation="none", tier="tier1", at=then + timedelta(minutes=5)))
    store.record_decision(decision("freshdesk:13", score=80, recommendation="priority", sla_state="breached", at=then + timedelta(minutes=5)))
    operations.override(store, "freshdesk:13", "none", "a password reset, not an incident", "ana", then + timedelta(hours=1))


async def open_overview(app, pilot) -> OverviewScreen:
    await pilot.pause()
    await pilot.press("v")
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert isinstance(app.screen, OverviewScreen)
    return app.screen


def lines(screen, selector: str) -> list[str]:
    return widget_text(screen.query_one(selector), width=78).splitlines()


def row(text_lines: list[str], label: str) -> list[str]:
    return next(line for line in text_lines if line.strip().startswith(label)).split()


async def test_overview_shows_the_report_figures_with_their_counts(app, store):
    two_weeks_ago(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_overview(app, pilot)
        fig = lines(screen, "#ov-report")
        # Created since the Monday 7 weeks before NOW's week: the 7 tickets of the floor and 2 older ones.
        assert fig[0] == "Report, last 8 weeks (since 2026-10-05): 9 tickets"
        # 8 decided (zendesk:4 never was), 6 escalated by deskwatch, of which freshdesk:13 stood down.
        assert row(fig, "escalation rate")[-2:] == ["75.0%", "n=8"]
        assert row(fig, "tickets escalated by deskwatch")[-2:] == ["6", "n=8"]
        assert row(fig, "false escalations")[-2:] == ["16.7%", "n=6"]
        assert row(fig, "misses")[-2:] == ["n/a", "n=0"]
        assert row(fig, "routing accuracy")[-2:] == ["100.0%", "n=6"]
        assert "deskwatch report --since 2026-10-05" in fig[-1]
        trends = lines(screen, "#ov-trends")
        # One block a week on a 0-100% scale: 50% then 83.3%; the latest week's value and its n.
        assert row(trends, "escalation rate")[2:] == ["▅▇", "83.3%", "n=6", "n=8"]
        assert row(trends, "false escalations")[2:] == ["█▁", "0.0%", "n=5", "n=6"]
        assert row(trends, "SLA attainment")[2:] == ["▅▇", "83.3%", "n=6", "n=8"]
        sla = lines(screen, "#ov-sla-pages")
        assert row(sla, "enterprise / first response")[-2:] == ["75.0%", "n=8"]


async def test_the_overview_figures_are_the_reports(app, store):
    """Same numbers as `deskwatch report --since <the overview's start>` computes."""
    from deskwatch.core.report import Period, build, load
    from deskwatch.core.report.recent import night_of_in, since_weeks
    from deskwatch.core.policy.calendar import in_business_hours
    from deskwatch.tui.report_view import value_text

    two_weeks_ago(store)
    cal = app.desk.calendar
    since = since_weeks(NOW, OverviewScreen.WEEKS)
    rep = build(load(store, Period(since, None)), since=None, until=None,
                is_business=lambda t: in_business_hours(cal, t), night_of=night_of_in(cal.zone))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_overview(app, pilot)
        fig = lines(screen, "#ov-report")
        for f in rep.figures:
            shown = " ".join(next(line for line in fig if line.strip().startswith(f.label + " ")).split())
            assert shown == f"{f.label} {value_text(f.value, f.unit)} n={f.n}"


async def test_the_report_is_recomputed_on_a_store_change_at_most_every_n_seconds(app, store, monkeypatch):
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_overview(app, pilot)
        assert screen.reports == 1
        monkeypatch.setattr(OverviewScreen, "EVERY", 0.0)

        async def tick() -> None:
            screen.tick()
            await app.workers.wait_for_complete()
            await pilot.pause()

        await tick()
        assert screen.reports == 1  # the store did not change: no new report
        operations.add_note(store, "zendesk:1", "called the customer", "ana", NOW)
        two_weeks_ago(store)  # new tickets and decisions: the version moves
        await tick()
        assert screen.reports == 1  # changed, but the last report is younger than REPORT_EVERY
        monkeypatch.setattr(OverviewScreen, "REPORT_EVERY", 0.0)
        await tick()
        assert screen.reports == 2
        assert lines(screen, "#ov-report")[0].endswith(": 9 tickets")
        await tick()
        assert screen.reports == 2  # nothing changed since
        await pilot.press("g")  # read now, whatever changed
        await app.workers.wait_for_complete()
        assert screen.reports == 3


async def test_an_empty_store_says_why_there_is_no_report(tmp_path, clock):
    s = Store(tmp_path / "empty.db")
    try:
        app = DeskwatchApp(Console(store=s, actor="ana", clock=clock, refresh_interval=60.0))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_overview(app, pilot)
            assert "no decisions yet" in "\n".join(lines(screen, "#ov-report"))
            assert "Failed updates  none" in "\n".join(lines(screen, "#ov-failed"))
    finally:
        s.close()


@pytest.mark.parametrize("width", [80, 160])
async def test_the_overview_reads_at_80_and_160_columns(app, store, width):
    two_weeks_ago(store)
    async with app.run_test(size=(width, 24)) as pilot:
        screen = await open_overview(app, pilot)
        trends = lines(screen, "#ov-trends")
        assert trends[0].startswith("Weekly trends")  # the title fits on one line
        assert any("▅▇" in line for line in trends)
