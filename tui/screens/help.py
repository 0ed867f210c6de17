"""Every key of every screen, read from the bindings themselves so the list cannot go stale."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

PALETTE = Binding("ctrl+p", "command_palette", "Commands", tooltip="Command palette: actions, screens, open a ticket by id")
KEY_NAMES = {"slash": "/", "question_mark": "?", "escape": "Esc", "enter": "Enter", "backspace": "Bksp"}


def key_label(key: str) -> str:
    return ", ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in key.split(","))


def keys_table(sections: list[tuple[str, list[Binding]]]) -> Table:
    table = Table(box=None, padding=(0, 1), show_header=False)
    table.add_column(style="bold", width=9, no_wrap=True)
    table.add_column()
    for title, bindings in sections:
        table.add_row("", f"[b reverse] {title} [/]")
        seen = set()
        for b in bindings:
            if b.key in seen:
                continue
            seen.add(b.key)
            table.add_row(key_label(b.key), b.tooltip or b.description)
    return table


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help.close", tooltip="Close the help")]

    def compose(self) -> ComposeResult:
        from deskwatch.tui.app import DeskwatchApp
        from deskwatch.tui.screens.overview import OverviewScreen
        from deskwatch.tui.screens.queue import QueueScreen
        from deskwatch.tui.screens.review import ReviewScreen
        from deskwatch.tui.screens.ticket import TicketScreen

        sections = [
            ("Everywhere", [*[b for b in DeskwatchApp.BINDINGS if isinstance(b, Binding)], PALETTE]),
            ("Queue", QueueScreen.BINDINGS), ("Ticket", TicketScreen.BINDINGS),
            ("Review", ReviewScreen.BINDINGS), ("Overview", OverviewScreen.BINDINGS),
        ]
        with VerticalScroll(id="help"):
            yield Static(keys_table(sections))

    def action_close(self) -> None:
        self.dismiss()
