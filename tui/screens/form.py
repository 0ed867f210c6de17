"""A modal form for an action: labelled inputs, an error line, Enter submits, Escape cancels.

``submit(values)`` does the work; a ``ValueError`` (``OperationError`` is one) keeps the form open
with the message shown, so a person sees what was wrong and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static, TextArea


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    choices: tuple[str, ...] = ()  # a Select when given
    value: str = ""
    placeholder: str = ""
    required: bool = False
    multiline: bool = False  # a TextArea: Enter adds a line, Ctrl+S submits


class FormScreen(ModalScreen[dict]):
    """Returns the submitted values (dismiss) after ``submit`` succeeded."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel", tooltip="Close without doing anything"),
        Binding("ctrl+s", "submit", "Submit", id="form.submit", tooltip="Submit the form"),
    ]

    def __init__(self, title: str, fields: list[Field], submit: Callable[[dict[str, str]], object],
                 preview: Callable[[dict[str, str]], Sequence[str]] | None = None) -> None:
        """``preview(values)``, when given, lists what submitting will change: a form that changes
        several fields shows that list first, and applies on a second Ctrl+S with the same values."""
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.submit_fn = submit
        self.preview_fn = preview
        self.previewed: dict[str, str] | None = None  # the values whose changes are on screen

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Label(self.title_text, id="form-title")
            for f in self.fields:
                with Horizontal(classes="form-row"):
                    yield Label(f.label + (" *" if f.required else ""), classes="form-label")
                    if f.choices:
                        yield Select([(c, c) for c in f.choices], value=f.value if f.value in f.choices else Select.NULL,
                                     id=f"f-{f.name}", prompt="(any)" if not f.required else "choose", compact=True)
                    elif f.multiline:
                        yield TextArea(f.value, id=f"f-{f.name}", classes="form-text", compact=True, placeholder=f.placeholder,
                                       soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
                    else:
                        yield Input(value=f.value, placeholder=f.placeholder, id=f"f-{f.name}", compact=True)
            yield Static("", id="form-error")
            yield Static("Ctrl+S (or Enter in a text field): submit   Esc: cancel", id="form-hint")

    def on_descendant_focus(self, event) -> None:
        # Mark the focused field's row: its label shows reversed, visible without colour.
        for row in self.query(".form-row"):
            row.set_class(event.widget in row.query("*"), "-focused")

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for f in self.fields:
            w = self.query_one(f"#f-{f.name}")
            v = w.text if isinstance(w, TextArea) else w.value
            out[f.name] = "" if v is Select.NULL or v is None else str(v).strip()
        return out

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        values = self.values()
        missing = [f.label for f in self.fields if f.required and not values[f.name]]
        error = self.query_one("#form-error", Static)
        if missing:
            error.update(f"missing: {', '.join(missing)}")
            return
        try:
            if self.preview_fn is not None and values != self.previewed:
                changes = list(self.preview_fn(values))
                if changes:
                    self.previewed = values
                    error.update("will change: " + "; ".join(changes) + ".  Ctrl+S again to apply, Esc to cancel")
                    return
            self.submit_fn(values)
        except ValueError as e:
            error.update(str(e))
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)
