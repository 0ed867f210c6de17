"""The queue: every source and channel in one list, most urgent first, updated in place."""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual import work
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from deskwatch.core.model import CHANNELS, SLA_STATES, TIERS
from deskwatch.core.store import QueueFilter
from deskwatch.tui import display
from deskwatch.tui.context import matches
from deskwatch.tui.messages import StoreChanged
from deskwatch.tui.screens.actions import ACTION_BINDINGS, TicketActions
from deskwatch.tui.screens.form import Field, FormScreen
from deskwatch.tui.widgets import columns
from deskwatch.tui.widgets.queue_table import QueueTable

FIRST_PAGE = 100  # rows read before the first paint: a few screenfuls
FILTER_FIELDS = ("source", "channel", "tier", "team", "sla_state", "needs_review", "assignee")


def describe(f: QueueFilter) -> str:
    """The active filters in a few words, for the status line."""
    parts = [f"{name}={getattr(f, name)}" for name in FILTER_FIELDS if getattr(f, name) is not None]
    if f.text:
        parts.append(f'"{f.text}"')
    return " ".join(parts)


class QueueScreen(TicketActions, Screen):
    BINDINGS = [
        Binding("enter", "open", "Open", id="queue.open", tooltip="Open the ticket under the cursor", show=False),
        Binding("slash", "search", "Search", id="queue.search", tooltip="Incremental search in subject and customer, or go to a ticket id"),
        Binding("f", "filters", "Filter", id="queue.filters", tooltip="Filter by source, channel, tier, team, SLA, review"),
        Binding("m", "mine", "Mine", id="queue.mine", tooltip="Only tickets assigned to me (toggle)", show=False),
        Binding("x", "clear", "Clear", id="queue.clear", tooltip="Clear filters and search", show=False),
        Binding("j", "cursor_down", "Down", id="queue.down", show=False, tooltip="Next ticket"),
        Binding("k", "cursor_up", "Up", id="queue.up", show=False, tooltip="Previous ticket"),
        Binding("g,home", "first", "First", id="queue.first", show=False, tooltip="First ticket"),
        Binding("G,end", "last", "Last", id="queue.last", show=False, tooltip="Last ticket"),
        Binding("s", "sort", "Sort", id="queue.sort", show=False, tooltip="Sort by the next column (or click a header)"),
        Binding("S", "sort_reverse", "Reverse", id="queue.sort_reverse", show=False, tooltip="Reverse the sort"),
        *ACTION_BINDINGS,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filters = QueueFilter()
        self.total: int | None = 0
        self.generation = 0
        self.status_text = ""
        self.held: list = []  # changes that came while another screen was on top

    def compose(self) -> ComposeResult:
        yield Static("", id="status")
        yield Input(placeholder="search subject, customer, organization, or a ticket id (Enter: done, Esc: clear)", id="search")
        yield QueueTable(clock=self.app.desk.clock, id="queue")  # type: ignore[attr-defined]
        yield Static("", id="empty")
        yield Footer()

    @property
    def table(self) -> QueueTable:
        return self.query_one(QueueTable)

    def on_mount(self) -> None:
        self.table.setup_columns(self.app.size.width)
        self.reload()
        self.table.focus()

    def current_ticket_id(self) -> str | None:
        return self.table.current_id

    def on_resize(self, event) -> None:
        self.table.fit(event.size.width)

    def reload(self) -> None:
        """Load the window for the current filters: on start and when filters change.

        The first screenfuls are read at once, so the queue paints fast even with 100k tickets
        in the store; the rest of the window (up to ``tui.max_rows``) and the count follow from a
        worker thread."""
        c = self.app.desk  # type: ignore[attr-defined]
        self.generation += 1
        self.held = []  # the fresh read has them
        first = c.store.queue(self.filters, limit=min(FIRST_PAGE, c.max_rows), now=c.clock())
        self.table.set_rows(first)
        if len(first) < min(FIRST_PAGE, c.max_rows):
            self.total = len(first)
        else:
            self.total = None
            self.load_rest(self.filters, self.generation)
        self.update_status()

    @work(thread=True, exclusive=True, group="queue-load", exit_on_error=False, description="Loading the queue")
    def load_rest(self, filters: QueueFilter, generation: int) -> None:
        c = self.app.desk  # type: ignore[attr-defined]
        since = c.store.current_version()
        rest = c.store.queue(filters, limit=max(c.max_rows - FIRST_PAGE, 0), offset=FIRST_PAGE, now=c.clock())
        total = c.store.queue_count(filters)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._append_rest, generation, rest, total, since)

    def _append_rest(self, generation: int, rows: list, total: int, since: int) -> None:
        if generation != self.generation:
            return  # the filters changed meanwhile; a newer load is on its way
        c = self.app.desk  # type: ignore[attr-defined]
        self.table.append_rows(rows, c.max_rows)
        # Changes made while the worker read: apply them again over what it read (idempotent).
        self.table.apply(c.store.queue_changes(since, now=c.clock()), lambda r: matches(self.filters, r), c.max_rows)
        self.total = total
        self.update_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:  # e.g. the store file went away: say so, keep running
            self.notify(f"{event.worker.description} failed: {event.worker.error}", severity="error", timeout=10)

    def update_status(self) -> None:
        c = self.app.desk  # type: ignore[attr-defined]
        shown = self.table.row_count
        if self.total is None:
            count = f"{shown}+ open"
        else:
            count = f"{self.total} open" if shown >= self.total else f"{shown} of {self.total} open"
        filt = describe(self.filters)
        text = f"[b]deskwatch[/b]  {count}  " + (f"[yellow]{filt}[/yellow]  " if filt else "") + f"[bright_black]{c.actor}[/bright_black]"
        t = self.table
        if t.sort_column != "urg" or t.sort_reverse:
            text += f"  [bright_black]sorted by {columns.SORTS[t.sort_column][0]}{' (reversed)' if t.sort_reverse else ''}[/bright_black]"
        self.show_empty()
        if text != self.status_text:
            # layout=False: the line has a fixed height; a layout pass would repaint the screen.
            self.status_text = text
            self.query_one("#status", Static).update(text, layout=False)

    def on_store_changed(self, message: StoreChanged) -> None:
        if self.app.screen is not self:
            # Under another screen a repaint of ours would repaint that screen in full (Textual
            # redraws the top screen when one below changes): keep the rows for later.
            self.held.extend(message.rows)
            return
        self.merge(message.rows)

    def on_screen_resume(self) -> None:
        if self.held:
            rows, self.held = self.held, []
            self.merge(rows)

    def merge(self, rows: list) -> None:
        """Apply changed rows (several versions of a ticket: the last one wins)."""
        latest = {r.ticket_id: r for r in rows}
        c = self.app.desk  # type: ignore[attr-defined]
        before = self.table.row_count
        message = StoreChanged(list(latest.values()))
        touched = self.table.apply(message.rows, lambda r: matches(self.filters, r), c.max_rows)
        if touched:
            if self.total is not None and (any(not r.open for r in message.rows) or self.table.row_count != before):
                if self.table.row_count < c.max_rows:
                    self.total = self.table.row_count  # the whole queue is on screen
                else:
                    self.recount(self.filters, self.generation)
            self.update_status()

    def empty_reason(self) -> str:
        """Why the queue shows nothing, and what to do about it."""
        c = self.app.desk  # type: ignore[attr-defined]
        f = self.filters
        if f == QueueFilter():
            if c.store.queue_count(QueueFilter(include_closed=True)) == 0:
                return "no tickets yet: is the daemon running? `deskwatch status` says; `deskwatch run` starts it"
            return "no open tickets: every ticket in the store is solved or closed"
        if f == QueueFilter(assignee=c.actor):
            return f"nothing is assigned to {c.actor}: press m to show every ticket"
        return f"no open ticket matches {describe(f)}: press x to clear the filters, f to change them"

    def show_empty(self) -> None:
        empty = self.query_one("#empty", Static)
        if self.table.row_count or self.total is None:
            if empty.display:
                empty.display = False
            return
        reason = self.empty_reason()
        if not empty.display or str(empty.content) != reason:
            empty.update(reason)
            empty.display = True

    @work(thread=True, exclusive=True, group="queue-count", exit_on_error=False, description="Counting the queue")
    def recount(self, filters: QueueFilter, generation: int) -> None:
        total = self.app.desk.store.queue_count(filters)  # type: ignore[attr-defined]
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._set_total, generation, total)

    def _set_total(self, generation: int, total: int) -> None:
        if generation == self.generation:
            self.total = total
            self.update_status()

    def tick(self) -> None:
        self.table.tick()

    # -- keys ----------------------------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.table.action_cursor_up()

    def action_first(self) -> None:
        self.table.action_first()

    def action_last(self) -> None:
        self.table.action_last()

    def action_sort(self) -> None:
        """Sort by the next column shown (urgency after the last)."""
        keys = [col.key for col in self.table.shown]
        following = keys[(keys.index(self.table.sort_column) + 1) % len(keys)] if self.table.sort_column in keys else "urg"
        self.table.sort_by(following, reverse=False)
        self.update_status()

    def action_sort_reverse(self) -> None:
        self.table.sort_by(self.table.sort_column, reverse=not self.table.sort_reverse)
        self.update_status()

    def on_data_table_header_selected(self, event) -> None:
        self.update_status()  # the table sorted itself; the status line says by what

    def on_data_table_row_selected(self, event: QueueTable.RowSelected) -> None:
        event.stop()
        # The row Enter was pressed on: keys typed after it may have moved the cursor already.
        self.action_open(event.row_key.value)

    def action_open(self, tid: str | None = None) -> None:
        tid = tid or self.current_ticket_id()
        if tid is not None:
            from deskwatch.tui.screens.ticket import TicketScreen

            self.app.push_screen(TicketScreen(tid))

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.add_class("visible")
        search.focus()

    def find_ticket(self, text: str) -> str | None:
        """The ticket ``text`` names ("zendesk:12", "zd:12", or "12" in one of the sources)."""
        c = self.app.desk  # type: ignore[attr-defined]
        sources = c.sources or tuple(sorted({r.source for r in self.table.rows_by_id.values()}))
        for tid in display.long_id(text, sources):
            if tid in self.table.rows_by_id or c.store.get_ticket(tid) is not None:
                return tid
        return None

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            tid = self.find_ticket(event.value)
            if tid is not None:
                self.go_to(tid)
                return
            self.filters = replace(self.filters, text=event.value.strip() or None)
            self.reload()

    def go_to(self, tid: str) -> None:
        """Put the cursor on ticket ``tid`` (the text search is dropped so that it shows)."""
        if self.filters.text is not None:
            self.filters = replace(self.filters, text=None)
            self.reload()
        if tid in self.table.rows_by_id:
            self.table.move_cursor(row=self.table.get_row_index(tid))
        else:
            self.notify(f"{tid} is not in this list (closed, or filtered out): press x to clear the filters, Enter on it in the palette opens it",
                        severity="warning", timeout=6)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            if not event.value.strip():
                event.input.remove_class("visible")
            self.table.focus()

    def key_escape(self) -> None:
        search = self.query_one("#search", Input)
        if search.has_focus:
            search.value = ""
            search.remove_class("visible")
            self.table.focus()

    def action_mine(self) -> None:
        me = self.app.desk.actor  # type: ignore[attr-defined]
        self.filters = replace(self.filters, assignee=None if self.filters.assignee == me else me)
        self.reload()

    def action_clear(self) -> None:
        self.filters = QueueFilter()
        search = self.query_one("#search", Input)
        search.value = ""
        search.remove_class("visible")
        self.reload()

    def team_choices(self) -> tuple[str, ...]:
        """The configured teams, then those in the queue, one spelling each (case-insensitive)."""
        c = self.app.desk  # type: ignore[attr-defined]
        seen: dict[str, str] = {}
        for name in (*c.teams(), *c.store.queue_teams(), self.filters.team or ""):
            if name and name.casefold() not in seen:
                seen[name.casefold()] = name
        return tuple(seen.values())

    def action_filters(self) -> None:
        c = self.app.desk  # type: ignore[attr-defined]
        f = self.filters
        fields = [
            Field("source", "Source", c.sources or tuple(sorted({r.source for r in self.table.rows_by_id.values()})), f.source or ""),
            Field("channel", "Channel", CHANNELS, f.channel or ""),
            Field("tier", "Tier", TIERS, f.tier or ""),
            Field("team", "Team", self.team_choices(), next((t for t in self.team_choices() if t.casefold() == (f.team or "").casefold()), "")),
            Field("sla_state", "SLA state", SLA_STATES, f.sla_state or ""),
            Field("needs_review", "Needs review", ("yes", "no"), {True: "yes", False: "no"}.get(f.needs_review, "")),
            Field("assignee", "Assigned to", value=f.assignee or "", placeholder=f"e.g. {c.actor}"),
        ]

        def apply(values: dict | None) -> None:
            if values is None:
                return
            review = {"yes": True, "no": False}.get(values["needs_review"])
            self.filters = QueueFilter(
                source=values["source"] or None, channel=values["channel"] or None, tier=values["tier"] or None,
                team=values["team"] or None, sla_state=values["sla_state"] or None, needs_review=review,
                assignee=values["assignee"] or None, text=self.filters.text,
            )
            self.reload()

        self.app.push_screen(FormScreen("Filter the queue", fields, lambda v: None), apply)
