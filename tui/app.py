"""``deskwatch tui``: the console. It reads the shared store and acts through core operations."""

from __future__ import annotations

import os
import sys
import termios
import threading

from textual.app import App
from textual.binding import Binding

from deskwatch.tui import keymap
from deskwatch.tui.commands import DeskwatchCommands
from deskwatch.tui.context import Console
from deskwatch.tui.messages import StoreChanged, StoreMoved
from deskwatch.tui.screens.failed import FailedScreen
from deskwatch.tui.screens.form import FormScreen
from deskwatch.tui.screens.help import HelpScreen
from deskwatch.tui.screens.overview import OverviewScreen
from deskwatch.tui.screens.queue import QueueScreen
from deskwatch.tui.screens.review import ReviewScreen
from deskwatch.tui.screens.ticket import TicketScreen

TERMINAL_CHECK = 2.0  # seconds between checks that the terminal is still there
WATCH_SLICE = 0.5  # seconds: the store watcher looks up at least this often, so it stops promptly on exit
THEME = "ansi-dark"  # the terminal's own palette: meaning survives 16 colours (TUI-NOTES §1.2)


class DeskwatchApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "deskwatch"
    # deskwatch's own commands only: Textual's (theme, screenshot, maximize...) crowded them out,
    # and a theme change would bring back hex colours that lose their meaning at 16 colours.
    COMMANDS = {DeskwatchCommands}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit the console"),
        Binding("question_mark,f1", "help", "Help", id="app.help", tooltip="This list of keys"),
        Binding("r", "review", "Review", id="app.review", tooltip="Low-confidence decisions to accept or reject", show=False),
        Binding("v", "overview", "Overview", id="app.overview", tooltip="Escalations by tier and team, SLA, sync health", show=False),
    ]

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.desk = console
        self.version = console.store.current_version()
        self.queue_screen = QueueScreen()
        self.polls = 0
        self._stop_watching = threading.Event()

    def on_mount(self) -> None:
        if not os.environ.get("TEXTUAL_THEME"):
            self.theme = THEME
        if self.desk.keymap:
            self.set_keymap(self.desk.keymap)
        self.push_screen(self.queue_screen)
        # Changes reach the console through the store watcher; the timer only moves the clocks.
        self.set_interval(self.desk.refresh_interval, self.tick_screen, name="tick-screen")
        # A plain thread, not a Textual worker: it runs for the app's life, and code that waits
        # for the workers to finish (a queue load) must not wait for it.
        self._watcher = threading.Thread(target=self.watch_store, name="deskwatch-store-watcher", daemon=True)
        self._watcher.start()
        if not self.is_headless:
            self.set_interval(TERMINAL_CHECK, self.check_terminal, name="check-terminal")

    def on_unmount(self) -> None:
        self._stop_watching.set()

    def check_terminal(self) -> None:
        """Leave when the terminal is gone (a pty closed without a hangup signal): otherwise the
        console would spin on a dead terminal for ever (TUI-NOTES §2.3, STYLE P8)."""
        try:
            termios.tcgetattr(sys.__stdin__.fileno())
        except (OSError, ValueError, termios.error, AttributeError):
            self.exit(1)
            threading.Timer(3.0, os._exit, (1,)).start()  # restoring a dead terminal may hang

    def watch_store(self) -> None:
        """Apply store changes as they happen: ``wait_for_change`` is woken by the store (LISTEN
        on PostgreSQL) or polls its change counter (SQLite), so an idle console reads nothing."""
        known = self.version
        while not self._stop_watching.is_set():
            try:
                now = self.desk.store.wait_for_change(known, WATCH_SLICE)
            except Exception:  # the store is away for a moment: keep the console, look again
                self._stop_watching.wait(WATCH_SLICE)
                continue
            if now != known and not self._stop_watching.is_set():
                known = now
                self.post_message(StoreMoved())  # thread-safe, never waits on the app (which may be closing)

    def on_store_moved(self, _: StoreMoved) -> None:
        if self.desk.store.current_version() != self.version:  # not already applied by an earlier poll
            self.poll_store()

    def tick_screen(self) -> None:
        """Let the visible screen move its clocks (SLA countdowns, ages)."""
        tick = getattr(self.screen, "tick", None)
        if tick is not None:
            tick()

    def poll_store(self) -> None:
        """Apply what changed in the store since the last poll (rows keyed by version), then let
        the visible screen move its clocks. Never a full reload."""
        self.polls += 1
        c = self.desk
        rows = c.store.queue_changes(self.version, now=c.clock())
        if rows:
            self.version = max(r.version for r in rows)
            # Only screens that show store data: a message to any other screen (even Textual's
            # default one at the bottom of the stack) makes the top screen repaint in full.
            for screen in {self.queue_screen, *self.screen_stack}:
                if hasattr(screen, "on_store_changed"):
                    screen.post_message(StoreChanged(rows))
        self.tick_screen()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_review(self) -> None:
        if not isinstance(self.screen, ReviewScreen):
            self.push_screen(ReviewScreen())

    def action_overview(self) -> None:
        if not isinstance(self.screen, OverviewScreen):
            self.push_screen(OverviewScreen())

    def action_failed(self) -> None:
        if not isinstance(self.screen, FailedScreen):
            self.push_screen(FailedScreen())

    def key_sections(self) -> keymap.Sections:
        """Every screen's bindings (for the help screen)."""
        return screen_sections()

    def ticket_ids(self) -> list[str]:
        """Ticket ids in the queue window, for the palette's "open ticket"."""
        return list(self.queue_screen.table.rows_by_id)

    def ticket_rows(self) -> list:
        """The queue window's rows in the order shown (the palette lists their subjects)."""
        table = self.queue_screen.table
        keys = (table._row_locations.get_key(i) for i in range(table.row_count))
        return [table.rows_by_id[k.value] for k in keys if k is not None]


def screen_sections() -> keymap.Sections:
    """(screen title, its bindings) for every screen; "Everywhere" holds the app's own. The one
    list [tui.keys] is checked against and the help screen shows."""
    return [
        ("Everywhere", keymap.own(DeskwatchApp.BINDINGS)),
        ("Queue", keymap.own(QueueScreen.BINDINGS)),
        ("Ticket", keymap.own(TicketScreen.BINDINGS)),
        ("Review", keymap.own(ReviewScreen.BINDINGS)),
        ("Overview", keymap.own(OverviewScreen.BINDINGS)),
        ("Failed updates", keymap.own(FailedScreen.BINDINGS)),
        ("Forms", keymap.own(FormScreen.BINDINGS)),
        ("Help", keymap.own(HelpScreen.BINDINGS)),
    ]


def check_keys(keys, file: str = "") -> dict[str, str]:
    """Validate ``[tui.keys]`` against every screen's bindings (``deskwatch config check`` and
    the console's start call this); raises ConfigError naming the entry and the fix."""
    return keymap.check(dict(keys), screen_sections(), file)


def run_console(cfg, actor: str | None = None, *, mouse: bool = False) -> int:
    """Open the store of ``cfg`` (a loaded Config), run the console on it, close the store.
    ``actor``: who actions are recorded as (default: $DESKWATCH_ACTOR, tui.actor, local user)."""
    from deskwatch.core.store import open_store

    check_keys(cfg.tui.keys, cfg.file)  # before the store opens: a typo is named, nothing else happens
    store = open_store(cfg)
    try:
        console = Console.from_config(cfg, store, actor)
        return run(console, mouse=mouse)
    finally:
        store.close()


def run(console: Console, *, mouse: bool = False) -> int:
    """Run the console in this terminal until the user quits. Mouse off by default: motion
    events cost a repaint each over SSH (TUI-NOTES §1.3)."""
    app = DeskwatchApp(console)
    app.run(mouse=mouse)
    return app.return_code or 0
