"""Decisions the engine was unsure of: accept or reject each with one key (recorded as feedback)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from deskwatch.core.daemon import operations
from deskwatch.core.store import QueueFilter
from deskwatch.tui import display
from deskwatch.tui.messages import StoreChanged


class ReviewScreen(Screen):
    BINDINGS = [
        Binding("y", "accept", "Accept", id="review.accept", tooltip="The decision was right"),
        Binding("n", "reject", "Reject", id="review.reject", tooltip="The decision was wrong"),
        Binding("enter", "open", "Open", id="review.open", tooltip="Open the ticket", show=False),
        Binding("escape", "back", "Back", id="review.back", tooltip="Back"),
        Binding("j", "cursor_down", "Down", id="review.down", show=False, tooltip="Next decision"),
        Binding("k", "cursor_up", "Up", id="review.up", show=False, tooltip="Previous decision"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("", id="review-status")
        yield DataTable(cursor_type="row", id="review")
        yield Footer()

    @property
    def table(self) -> DataTable:
        return self.query_one("#review", DataTable)

    def on_mount(self) -> None:
        t = self.table
        width = self.app.size.width
        for key, label, w in (("urg", "Rec", 3), ("score", "Scr", 3), ("conf", "Conf", 4), ("route", "Tier/team", 15), ("subject", "Subject", max(12, width - 45))):
            t.add_column(label, key=key, width=w)
        self.reload()
        t.focus()

    def reload(self) -> None:
        c = self.app.desk  # type: ignore[attr-defined]
        rows = c.store.queue(QueueFilter(needs_review=True), limit=c.max_rows, now=c.clock())
        t = self.table
        t.clear()
        for r in rows:
            t.add_row(
                display.urgency_cell(r), Text(f"{r.score:.0f}", justify="right"),
                Text(f"{(r.confidence or 0):.0%}", justify="right"),
                display.clip(f"{r.tier or '-'}/{r.team or '-'}", 15), display.clip(r.subject, 60), key=r.ticket_id,
            )
        self.update_status()

    def update_status(self) -> None:
        """The header counts the rows still to review (it follows each accept or reject)."""
        n = self.table.row_count
        what = f"{n} low-confidence decision{'' if n == 1 else 's'}" if n else "nothing to review: every decision was confident or reviewed"
        self.query_one("#review-status", Static).update(
            f"[b]Review[/b]  {what}  [bright_black]j/k move · y accept · n reject · Enter open[/bright_black]"
        )

    def action_cursor_down(self) -> None:
        self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.table.action_cursor_up()

    def current_ticket_id(self) -> str | None:
        t = self.table
        if not t.row_count:
            return None
        return t.coordinate_to_cell_key((t.cursor_row, 0))[0].value

    def _feedback(self, accept: bool) -> None:
        tid = self.current_ticket_id()
        if tid is None:
            self.app.notify("nothing to review", severity="warning")
            return
        c = self.app.desk  # type: ignore[attr-defined]
        try:
            operations.review(c.store, tid, accept, c.actor, c.clock())
        except operations.OperationError as e:
            self.app.notify(str(e), severity="error", timeout=8)
            return
        self.table.remove_row(tid)
        self.update_status()
        self.app.notify(f"{tid}: {'accepted' if accept else 'rejected'}", timeout=3)
        self.app.poll_store()  # type: ignore[attr-defined]

    def action_accept(self) -> None:
        self._feedback(True)

    def action_reject(self) -> None:
        self._feedback(False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open(event.row_key.value)  # the row Enter was pressed on, whatever came after

    def action_open(self, tid: str | None = None) -> None:
        tid = tid or self.current_ticket_id()
        if tid is not None:
            from deskwatch.tui.screens.ticket import TicketScreen

            self.app.push_screen(TicketScreen(tid))

    def on_store_changed(self, message: StoreChanged) -> None:
        present = {k.value for k in self.table.rows}
        if any(r.needs_review != (r.ticket_id in present) for r in message.rows):
            self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()
