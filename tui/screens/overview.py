"""The state of the whole floor: escalations by tier and team, SLA trouble, failed helpdesk
updates, sync health, and `deskwatch report`'s figures with their weekly trends."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from deskwatch.core.model import TIERS
from deskwatch.core.store import QueueFilter, QueueRow, StoreStatus
from deskwatch.core.daemon.failed_updates import failure_fix
from deskwatch.tui import display, report_view
from deskwatch.tui.report_view import no_report

ESCALATING = ("priority", "immediate")


def escalations(rows: list[QueueRow]) -> Table:
    """Open escalating tickets counted by team (rows) and tier (columns)."""
    counts = Counter((r.team or "-", r.tier or "-") for r in rows if r.recommendation in ESCALATING)
    tiers = [t for t in TIERS if any(k[1] == t for k in counts)]
    table = Table(box=None, padding=(0, 1), title="Escalations (open)", title_justify="left", title_style="bold")
    table.add_column("team")
    for t in tiers:
        table.add_column(t, justify="right")
    table.add_column("total", justify="right", style="bold")
    for team in sorted({k[0] for k in counts}, key=lambda tm: -sum(v for k, v in counts.items() if k[0] == tm)):
        table.add_row(team, *[str(counts.get((team, t), "")) for t in tiers], str(sum(v for k, v in counts.items() if k[0] == team)))
    if not counts:
        table.add_row(Text("no open escalations", style="green"))
    return table


def sla_trouble(rows: list[QueueRow], now: datetime, limit: int = 6) -> Group:
    warn = [r for r in rows if r.sla_state == "warning"]
    breached = [r for r in rows if r.sla_state == "breached"]
    head = Text.assemble(("SLA  ", "bold"), (f"{len(breached)} breached", "bold red" if breached else "green"), "  ",
                         (f"{len(warn)} warning", "yellow" if warn else "green"))
    lines = [head]
    for r in sorted(breached + warn, key=lambda r: r.sla_due_at or now)[:limit]:
        lines.append(Text.assemble("  ", display.sla_cell(r, now), f" {r.ticket_id} ", (display.clip(r.subject, 40), "bright_black")))
    return Group(*lines)


def health(status: StoreStatus, now: datetime) -> Group:
    """Per source: last successful sync, last error, open tickets, outbox depth, rate limit."""
    table = Table(box=None, padding=(0, 1), title="Sources", title_justify="left", title_style="bold")
    for col in ("source", "synced", "open", "outbox", "rate", "last error"):
        table.add_column(col, justify="right" if col in ("open", "outbox") else "left")
    for s in status.sources:
        if s.last_success_at is None:
            synced = Text("never", style="red")
        else:
            lag = s.lag_seconds or 0
            synced = Text(display.duration(lag) + " ago", style="green" if lag < 300 else "yellow" if lag < 1800 else "red")
        error = Text("")
        if s.last_error and (s.last_success_at is None or (s.last_error_at and s.last_error_at >= s.last_success_at)):
            error = Text(display.clip(s.last_error, 40), style="red")
        rate = ""
        if s.rate_limit and "remaining" in s.rate_limit:
            rate = f"{s.rate_limit['remaining']}/{s.rate_limit.get('limit', '?')}"
        table.add_row(s.name, synced, str(s.open_tickets), str(s.outbox_depth), rate, error)
    if not status.sources:
        table.add_row(Text("no source has synced yet", style="yellow"))
    d = status.daemon
    daemon = Text.assemble(("daemon ", "bold"), ("alive", "green") if d.alive else ("not running", "bold red"),
                           f" (last beat {display.duration((now - d.at).total_seconds())} ago)" if d.at else "",
                           f" · outbox {status.outbox_depth} to send", (f", {status.outbox_failed} failed" if status.outbox_failed else "", "bold red"))
    return Group(table, daemon)


class OverviewScreen(Screen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="overview.back", tooltip="Back"),
        Binding("g", "refresh", "Refresh", id="overview.refresh", tooltip="Read the store again (the report figures too)"),
        Binding("u", "failed", "Failed updates", id="overview.failed", tooltip="Failed helpdesk updates: reason, fix, retry"),
    ]
    SCAN = 50_000  # open tickets read for the counts; a floor with more shows the top of the queue
    EVERY = 10.0  # seconds between reads while the overview is open (g reads at once)
    REPORT_EVERY = 60.0  # the report is recomputed at most this often, and only once the store changed
    WEEKS = 8  # the report covers the tickets created in the last WEEKS weeks
    FAILED = 3  # failed updates listed here (u lists them all)
    shown: tuple | None = None
    last_read = float("-inf")
    report_at = float("-inf")  # when the report was last computed (monotonic)
    report_version: int | None = None  # the store version it was computed at
    report_shown: object = None
    reports = 0  # how many times it was computed (the refresh policy's tests count them)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="overview"):
            yield Static(id="ov-escalations")
            yield Static(id="ov-sla")
            yield Static(id="ov-failed")
            yield Static(id="ov-sources")
            yield Static(no_report("reading the store..."), id="ov-report")
            yield Static(id="ov-trends")
            yield Static(id="ov-sla-pages")
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self.last_read = time.monotonic()
        self.read_store(force_report=True)

    def action_failed(self) -> None:
        self.app.action_failed()  # type: ignore[attr-defined]

    def report_due(self, version: int, force: bool) -> bool:
        """Recompute the report on ``g``, else when the store changed since the last one and
        ``REPORT_EVERY`` seconds have passed: it reads every ticket of the period."""
        if force or self.report_version is None:
            return True
        return version != self.report_version and time.monotonic() - self.report_at >= self.REPORT_EVERY

    @work(thread=True, exclusive=True, group="overview", exit_on_error=False, description="Reading the overview")
    def read_store(self, force_report: bool = False) -> None:
        # A worker: with 100k tickets the scan takes a while, and keys must stay responsive.
        c = self.app.desk  # type: ignore[attr-defined]
        now = c.clock()
        version = c.store.current_version()
        rows = c.store.queue(QueueFilter(), limit=self.SCAN, now=now)
        status = c.store.status(now)
        failures = (c.store.outbox_failures(limit=self.FAILED), c.store.outbox_failed(), c.store.outbox_retrying())
        report: object = ...  # unchanged
        if self.report_due(version, force_report):
            report = (self.compute_report(c, now), version)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show, rows, status, now, failures, report)

    def compute_report(self, c, now: datetime):
        """`deskwatch report`'s figures over the last WEEKS weeks (core/report computes them)."""
        from deskwatch.core.report import recent

        self.reports += 1
        if c.calendar is None:
            return "no business calendar in this console's config"
        try:
            return recent(c.store, c.calendar, now, weeks=self.WEEKS) or "no decisions yet in the last weeks (is the daemon running?)"
        except Exception as e:  # noqa: BLE001 - the rest of the overview still shows
            return f"could not be computed: {display.one_line(str(e))}"

    def show(self, rows: list[QueueRow], status: StoreStatus, now: datetime, failures=None, report: object = ...) -> None:
        # Repaint only when what is shown changed (each repaint is a full screen over SSH).
        items, given_up, retrying = failures or ([], 0, 0)
        key = (tuple((r.ticket_id, r.version) for r in rows), status, now.replace(second=0, microsecond=0),
               tuple((i.key, i.attempts, i.error, i.retry_at) for i in items), given_up, retrying)
        if report is not ...:
            # Counted as computed once it is on screen: a read cancelled by a newer one
            # leaves the next read to compute it again.
            report, self.report_version = report  # type: ignore[misc]
            self.report_at = time.monotonic()
            self.show_report(report)
        if key == self.shown:
            return
        self.shown = key
        self.query_one("#ov-escalations", Static).update(escalations(rows))
        self.query_one("#ov-sla", Static).update(sla_trouble(rows, now))
        self.query_one("#ov-failed", Static).update(report_view.failed(
            items, given_up, retrying, failure_fix, self.FAILED, key=self.failed_key()))
        self.query_one("#ov-sources", Static).update(health(status, now))

    def failed_key(self) -> str:
        """The key that lists the failed updates, as [tui.keys] may have moved it."""
        from deskwatch.tui.keymap import keys_of

        binding = next(b for b in self.BINDINGS if b.id == "overview.failed")
        return keys_of(binding, self.app.desk.keymap).split(",")[0]  # type: ignore[attr-defined]

    def show_report(self, report) -> None:
        """The report's figures, trends and SLA/alarm load; a line saying why when there is none."""
        if report == self.report_shown:
            return  # the same figures: an update would repaint the whole screen
        self.report_shown = report
        if isinstance(report, str):
            self.query_one("#ov-report", Static).update(report_view.no_report(report))
            self.query_one("#ov-trends", Static).update("")
            self.query_one("#ov-sla-pages", Static).update("")
            return
        self.query_one("#ov-report", Static).update(report_view.figures(report, self.WEEKS))
        self.query_one("#ov-trends", Static).update(report_view.trends(report))
        self.query_one("#ov-sla-pages", Static).update(report_view.sla_and_pages(report))

    def tick(self) -> None:
        if time.monotonic() - self.last_read >= self.EVERY:
            self.last_read = time.monotonic()
            self.read_store()

    def action_back(self) -> None:
        self.app.pop_screen()
