"""Failed helpdesk updates: what each changes, why it failed, the fix, and a retry."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from deskwatch.core.daemon.failed_updates import failure_fix
from deskwatch.core.daemon import operations
from deskwatch.tui import display
from deskwatch.tui.report_view import what_changed


class FailedScreen(Screen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="failed.back", tooltip="Back"),
        Binding("t", "retry", "Retry", id="failed.retry", tooltip="Send the failed update under the cursor again"),
        Binding("enter", "open", "Open", id="failed.open", tooltip="Open the update's ticket", show=False),
        Binding("j", "cursor_down", "Down", id="failed.down", show=False, tooltip="Next failed update"),
        Binding("k", "cursor_up", "Up", id="failed.up", show=False, tooltip="Previous failed update"),
    ]
    LIMIT = 200  # the newest failures listed; `deskwatch status --json` has the same ones
    shown: tuple | None = None

    def __init__(self) -> None:
        super().__init__()
        self.items: dict = {}  # outbox key -> OutboxItem, as listed

    def compose(self) -> ComposeResult:
        yield Static(id="failed-status")
        yield DataTable(id="failed", cursor_type="row", zebra_stripes=False)
        yield Static(id="failed-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("ticket", "update", "state", "error")
        self.load()
        table.focus()

    def load(self) -> None:
        """Read the failed items again; repaint only when they changed."""
        store = self.app.desk.store  # type: ignore[attr-defined]
        items = store.outbox_failures(limit=self.LIMIT)
        key = tuple((i.key, i.attempts, i.error, i.retry_at) for i in items)
        if key == self.shown:
            return
        self.shown = key
        self.items = {i.key: i for i in items}
        table = self.query_one(DataTable)
        current = self.current_key()
        table.clear()
        for i in items:
            state = Text("gave up", style="bold red") if i.retry_at is None else Text(f"retry {i.retry_at:%H:%M}Z", style="yellow")
            table.add_row(display.short_id(i.ticket_id), display.clip(what_changed(i.update), 28), state,
                          display.clip(display.one_line(i.error or "unknown error"), 60), key=i.key)
        if current in self.items:
            table.move_cursor(row=table.get_row_index(current))
        given_up = sum(i.retry_at is None for i in items)
        self.query_one("#failed-status", Static).update(
            f"{len(items)} failed update(s): {given_up} given up, {len(items) - given_up} to be retried by the daemon"
            if items else "no failed updates: every helpdesk update reached the helpdesk or is waiting to be sent")
        self.show_detail()

    def current_key(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return row_key.value if row_key is not None else None

    def show_detail(self) -> None:
        key = self.current_key()
        item = self.items.get(key) if key else None
        detail = self.query_one("#failed-detail", Static)
        if item is None:
            detail.update("")
            return
        detail.update(Text.assemble(
            (f"{item.ticket_id}", "bold"), f"  {what_changed(item.update)}  ({item.attempts} attempt(s))\n",
            (display.one_line(item.error or "unknown error"), "red"), "\n",
            ("fix: ", "bold"), failure_fix(item.error or ""), ("\nt: send it again (after the fix)   Enter: open the ticket", "bright_black"),
        ))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open(event.row_key.value)  # the row Enter was pressed on

    def action_retry(self) -> None:
        key = self.current_key()
        if key is None:
            self.app.notify("no failed update selected", severity="warning")
            return
        c = self.app.desk  # type: ignore[attr-defined]
        try:
            item = operations.retry_update(c.store, key, c.actor, c.clock())
        except operations.OperationError as e:
            self.app.notify(str(e), severity="error", timeout=8)
        else:
            self.app.notify(f"update for {item.ticket_id} queued again: the daemon sends it on its next round", timeout=4)
        self.load()

    def action_open(self, key: str | None = None) -> None:
        from deskwatch.tui.screens.ticket import TicketScreen

        key = key or self.current_key()
        if key is not None and key in self.items:
            self.app.push_screen(TicketScreen(self.items[key].ticket_id))

    def action_cursor_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()

    def tick(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()
