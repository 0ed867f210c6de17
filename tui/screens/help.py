"""Every key of every screen, read from the bindings themselves so the list cannot go stale."""

from __future__ import annotations

from typing import Mapping

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from deskwatch.tui.keymap import keys_of

PALETTE = Binding("ctrl+p", "command_palette", "Commands", tooltip="Command palette: actions, screens, open a ticket by id")
KEY_NAMES = {"slash": "/", "question_mark": "?", "escape": "Esc", "enter": "Enter", "backspace": "Bksp", "ctrl+s": "Ctrl+S",
             "ctrl+p": "Ctrl+P", "home": "Home", "end": "End"}


def key_label(key: str) -> str:
    return ", ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in key.split(","))


def keys_table(sections: list[tuple[str, list[Binding]]], keymap: Mapping[str, str] | None = None) -> Table:
    """The keys in use: ``keymap`` ([tui.keys]) over the bindings' own."""
    table = Table(box=None, padding=(0, 1), show_header=False)
    table.add_column(style="bold", width=9, no_wrap=True)
    table.add_column()
    for title, bindings in sections:
        table.add_row("", f"[b reverse] {title} [/]")
        seen = set()
        for b in bindings:
            keys = keys_of(b, keymap or {})
            if keys in seen:
                continue
            seen.add(keys)
            table.add_row(key_label(keys), b.tooltip or b.description)
    return table


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help.close", tooltip="Close the help")]

    def compose(self) -> ComposeResult:
        # Forms are listed too (Ctrl+S, Esc): a form's own footer is hidden behind the form.
        shown = [(title, list(bindings)) for title, bindings in self.app.key_sections() if title != "Help"]  # type: ignore[attr-defined]
        shown[0] = (shown[0][0], [*shown[0][1], PALETTE])
        with VerticalScroll(id="help"):
            yield Static(keys_table(shown, self.app.desk.keymap))  # type: ignore[attr-defined]

    def action_close(self) -> None:
        self.dismiss()
