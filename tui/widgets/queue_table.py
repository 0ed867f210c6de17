"""The queue table: rows keyed by ticket id, changed rows repainted alone.

A stock ``DataTable.update_cell`` repaints the whole table (about 11 KB per change at 80x24) and
sorting or removing rows walks every row; see TUI-NOTES §1.4 and §3. This table keeps its rows in
store order by a sort key, applies changes in place, repaints only the rows that changed, and
re-sorts only when a change moved a row past its neighbours (for score changes at most every
``RESORT_EVERY`` seconds; a re-sort repaints only the visible lines that changed). It relies on
DataTable internals of textual 8.2 (``_data``, ``_row_locations``, ``_update_count``,
``_update_dimensions``); tests/tui (test_queue, test_bandwidth) pin the behaviour.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Callable, Iterable

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets._data_table import ColumnKey, RowKey
from textual._two_way_dict import TwoWayDict

from deskwatch.core.store import QueueRow
from deskwatch.tui import display
from deskwatch.tui.widgets import columns

MIN_SUBJECT = 12
RESORT_EVERY = 3.0  # seconds: re-order for score changes at most this often (new rows: at once)
REBUILD_ABOVE = 200  # more new rows than this in one poll: rebuild instead of inserting
sort_key = columns.urgency_key  # the store's queue order, the table's default


def _same(a: object, b: object) -> bool:
    # rich Text equality ignores the base style (an acknowledged or snoozed row changes only that).
    if isinstance(a, Text) and isinstance(b, Text):
        return a == b and str(a.style) == str(b.style)
    return a == b


class QueueTable(DataTable):
    """Queue rows, most urgent first (or by the column chosen with ``sort_by``). ``set_rows``
    loads a window, ``apply`` merges changes."""

    # Home/End go to the first and last ticket (the stock table scrolls sideways).
    BINDINGS = [
        Binding("home", "first", "First", show=False, tooltip="First ticket"),
        Binding("end", "last", "Last", show=False, tooltip="Last ticket"),
    ]

    def __init__(self, *, clock: Callable[[], datetime], **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, cell_padding=1, **kwargs)
        self.clock = clock
        self.rows_by_id: dict[str, QueueRow] = {}
        self.subject_width = MIN_SUBJECT
        self.width_for: int = 80  # the terminal width the columns were laid out for
        self.shown: tuple[columns.Column, ...] = ()
        self.widths: dict[str, int] = {}
        self.sort_column = "urg"
        self.sort_reverse = False
        self.touched = False  # the person moved the cursor: from then on it follows its ticket
        self.repaints = 0  # full-table repaints from re-sorting (for tests and the bench)
        self.resort_every = RESORT_EVERY
        self._last_resort = float("-inf")
        self._resort_pending = False

    def _update_dimensions(self, new_rows) -> None:
        # Every column has a fixed width and every row is one line, so there is nothing to
        # measure; the stock code measures every cell of every new row (O(rows x columns)).
        super()._update_dimensions(())

    def order_key(self, row: QueueRow) -> tuple:
        """Where ``row`` goes in the table: the sort column's key (urgency by default)."""
        return columns.SORTS[self.sort_column][1](row)

    def _sorted(self, rows) -> list[QueueRow]:
        return sorted(rows, key=self.order_key, reverse=self.sort_reverse)

    def _before(self, a: QueueRow, b: QueueRow) -> bool:
        return self.order_key(a) > self.order_key(b) if self.sort_reverse else self.order_key(a) < self.order_key(b)

    def setup_columns(self, width: int) -> None:
        self.width_for = width
        self.shown = columns.shown(width)
        self.widths = columns.widths(width)
        self.subject_width = self.widths["subject"]
        for c in self.shown:
            self.add_column(self._label(c), key=c.key, width=self.widths[c.key])

    def _label(self, c: columns.Column) -> str:
        if c.key != self.sort_column or c.key == "urg" and not self.sort_reverse:
            return c.label
        return c.label + ("^" if self.sort_reverse else "v")

    def fit(self, width: int) -> None:
        """The terminal was resized: the columns take the new widths (the channel column comes
        or goes at ``columns.WIDE``: then the rows are rebuilt)."""
        if not self.columns or width == self.width_for:
            return
        if columns.shown(width) != self.shown:
            rows = list(self.rows_by_id.values())
            keep = self.current_id
            self.clear(columns=True)
            self.setup_columns(width)
            self.set_rows(self._sorted(rows), keep=keep)
            return
        self.width_for = width
        self.widths = columns.widths(width)
        self.subject_width = self.widths["subject"]
        for key, w in self.widths.items():
            self.columns[ColumnKey(key)].width = w
        # Cells are cut to their column width when drawn: the rows with fitted texts redraw.
        now = self.clock()
        for tid, row in self.rows_by_id.items():
            self._data[RowKey(tid)].update(zip(self.widths, self._cells(row, now)))
        self._update_count += 1
        self._require_update_dimensions = True
        self.refresh()

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Order the rows by ``column`` (a key of ``columns.SORTS``); the same column again
        flips the direction. The cursor stays on its ticket."""
        if reverse is None:
            reverse = not self.sort_reverse if column == self.sort_column else False
        self.sort_column, self.sort_reverse = column, reverse
        for c in self.shown:
            self.columns[ColumnKey(c.key)].label = Text(self._label(c))
        cursor_id = self.current_id
        self._resort(force=True)
        self._keep_cursor_on(cursor_id)

    def cells(self, row: QueueRow, now: datetime) -> list:
        """The row's cells, in the order of the columns shown."""
        return self._cells(row, now)

    def _cells(self, row: QueueRow, now: datetime) -> list:
        w = self.widths or columns.widths(self.width_for)
        values = {
            "urg": lambda: display.urgency_cell(row, now).append_text(display.hold_cell(row, now)),
            "score": lambda: Text(f"{row.score:.0f}", justify="right"),
            "sla": lambda: display.sla_cell(row, now),
            "id": lambda: display.clip(display.short_id(row.ticket_id), w["id"]),
            "ch": lambda: display.CHANNEL_ABBR.get(row.channel, row.channel[:4]),
            "customer": lambda: display.customer(row, w["customer"]),
            "subject": lambda: display.subject_cell(row),
            "team": lambda: display.clip(row.team or "", w["team"]),
            "assignee": lambda: display.clip(row.assignee or "", w["assignee"]),
            "age": lambda: Text(display.age(row.created_at, now), justify="right"),
        }
        return [values[c.key]() for c in (self.shown or columns.shown(self.width_for))]

    @property
    def current_id(self) -> str | None:
        """The ticket id under the cursor, or None for an empty table."""
        if not self.row_count:
            return None
        key, _ = self.coordinate_to_cell_key((self.cursor_row, 0))
        return key.value

    def set_rows(self, rows: Iterable[QueueRow], keep: str | None = None) -> None:
        """Replace the contents (a new filter or search): the only full rebuild. ``rows`` come
        in urgency order; another sort column re-orders them."""
        keep = keep or (self.current_id if self.touched else None)
        if self.sort_column != "urg" or self.sort_reverse:
            rows = self._sorted(rows)
        self.clear()
        self.rows_by_id = {}
        now = self.clock()
        for row in rows:
            self.rows_by_id[row.ticket_id] = row
            self.add_row(*self.cells(row, now), key=row.ticket_id)
        if keep in self.rows_by_id:
            self._move(self.get_row_index(keep), scroll=True)

    def append_rows(self, rows: Iterable[QueueRow], limit: int) -> None:
        """Add rows that come after the current ones in queue order (the rest of a window).
        Rows a live change added meanwhile may belong further down: then the table re-sorts."""
        now = self.clock()
        last = self.rows_by_id[self._last_id()] if self.row_count else None
        in_order = True
        for row in rows:
            if row.ticket_id not in self.rows_by_id:
                if last is not None and in_order and self._before(row, last):
                    in_order = False
                self.rows_by_id[row.ticket_id] = row
                self.add_row(*self.cells(row, now), key=row.ticket_id)
        cursor_id = self.current_id
        if not in_order:
            self._resort()
        self._trim(limit)
        self._keep_cursor_on(cursor_id)

    def _trim(self, limit: int) -> None:
        while len(self.rows_by_id) > limit:
            last = self._last_id()
            self.remove_row(last)
            del self.rows_by_id[last]

    def _repaint_row(self, ticket_id: str, cells: list) -> None:
        key = RowKey(ticket_id)
        old = self._data[key]
        changed = False
        for c, value in zip(self.shown, cells):
            col = c.key
            if not _same(old.get(col), value):
                old[col] = value
                changed = True
        if changed:
            self._update_count += 1  # invalidates the row render caches
            self.refresh_row(self.get_row_index(ticket_id))

    def apply(self, changes: Iterable[QueueRow], keep: Callable[[QueueRow], bool], limit: int) -> int:
        """Merge changed rows: update in place, add those that now belong, drop those that no
        longer do (closed, filtered out, or pushed past ``limit``). Returns rows touched."""
        now = self.clock()
        touched = 0
        resort = False
        cursor_id = self.current_id
        arrivals: list[QueueRow] = []
        for row in changes:
            present = row.ticket_id in self.rows_by_id
            if not row.open or not keep(row):
                if present:
                    self.remove_row(row.ticket_id)
                    del self.rows_by_id[row.ticket_id]
                    touched += 1
                continue
            if present:
                before = self.rows_by_id[row.ticket_id]
                self.rows_by_id[row.ticket_id] = row
                if self.order_key(before) != self.order_key(row) and not self._still_in_place(row):
                    resort = True
                self._repaint_row(row.ticket_id, self.cells(row, now))
                touched += 1
            else:
                arrivals.append(row)
        arrivals = self._admitted(arrivals, limit) if arrivals else arrivals
        if arrivals:
            if len(arrivals) > REBUILD_ABOVE:
                # A flood (the daemon's first sync): one rebuild beats thousands of row moves.
                self.set_rows(sorted([*self.rows_by_id.values(), *arrivals], key=sort_key)[:limit], keep=cursor_id if self.touched else None)
                return touched + len(arrivals)
            for row in arrivals:
                self.rows_by_id[row.ticket_id] = row
                self.add_row(*self.cells(row, now), key=row.ticket_id)
            touched += len(arrivals)
        elif resort and time.monotonic() - self._last_resort < self.resort_every:
            # Scores moved: the rows show it already; the order follows within resort_every.
            # Re-ordering at every poll would repaint the table each second, and rows that
            # jump under the reader's eyes are hard to read.
            self._resort_pending = True
            resort = False
        if resort or arrivals:
            self._resort()
            self._trim(limit)
            self._keep_cursor_on(cursor_id)
        return touched

    def _keep_cursor_on(self, ticket_id: str | None) -> None:
        """Keep the cursor on its ticket when rows move; until the person moves it, it stays on
        the top row (while the daemon decides the backlog at start the top changes often)."""
        if not self.touched:
            if self.cursor_row != 0 and self.row_count:
                self._move(0)
            return
        if ticket_id in self.rows_by_id:
            index = self.get_row_index(ticket_id)
            if index != self.cursor_row:
                self._move(index)

    def _admitted(self, arrivals: list[QueueRow], limit: int) -> list[QueueRow]:
        """The new rows that make it into the window of the ``limit`` most urgent."""
        if len(self.rows_by_id) + len(arrivals) <= limit:
            return arrivals
        # The window holds the most urgent tickets whatever the sort column shows.
        window = sorted([*self.rows_by_id.values(), *arrivals], key=sort_key)[:limit]
        cut = sort_key(window[-1])
        return [r for r in arrivals if sort_key(r) <= cut]

    def tick(self) -> None:
        """Countdowns and ages move with the clock: repaint only the visible rows whose text
        changed. Also applies a re-order that ``apply`` held back."""
        if self._resort_pending and time.monotonic() - self._last_resort >= self.resort_every:
            cursor_id = self.current_id
            self._resort()
            self._keep_cursor_on(cursor_id)
        now = self.clock()
        top = int(self.scroll_y)
        for index in range(top, min(top + self.size.height, self.row_count)):
            key = self._row_locations.get_key(index)
            if key is not None:
                self._repaint_row(key.value, self.cells(self.rows_by_id[key.value], now))

    def _last_id(self) -> str:
        return self._row_locations.get_key(self.row_count - 1).value

    def _still_in_place(self, row: QueueRow) -> bool:
        index = self.get_row_index(row.ticket_id)
        for other in (index - 1, index + 1):
            key = self._row_locations.get_key(other)
            if key is None:
                continue
            o = self.rows_by_id[key.value]
            if (other < index and self._before(row, o)) or (other > index and self._before(o, row)):
                return False
        return True

    def _resort(self, force: bool = False) -> None:
        """Put rows back in queue order, repainting only the rows whose position changed (a
        swap of two neighbours repaints two lines, not the table)."""
        self._resort_pending = False
        self._last_resort = time.monotonic()
        before = {rk: self._row_locations.get(rk) for rk in self._row_locations}
        ordered = sorted(self._data, key=lambda rk: self.order_key(self.rows_by_id[rk.value]), reverse=self.sort_reverse)
        self._row_locations = TwoWayDict({rk: i for i, rk in enumerate(ordered)})
        self._update_count += 1
        top = int(self.scroll_y)
        height = max(self.size.height, 1)
        # Rows off screen need no repaint: they are drawn afresh when scrolled to.
        moved = [i for i in range(top, min(top + height, len(ordered))) if before.get(ordered[i]) != i]
        if force or len(moved) > height // 2:
            self.repaints += 1
            self.refresh()
            return
        for i in moved:
            self.refresh_row(i)

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=max(self.row_count - 1, 0))

    # The person moving the cursor (keys, clicks, a jump to a ticket): from then on it follows
    # its ticket when rows move. Moves the table makes itself go through ``_move``.
    def move_cursor(self, *args, **kwargs) -> None:
        self.touched = True
        super().move_cursor(*args, **kwargs)

    def _move(self, row: int, scroll: bool = False) -> None:
        super().move_cursor(row=row, scroll=scroll)

    def _touch(name: str):  # noqa: N805 - builds methods below
        def action(self, *args, **kwargs):
            self.touched = True
            return getattr(DataTable, name)(self, *args, **kwargs)
        action.__name__ = name
        return action

    action_cursor_down = _touch("action_cursor_down")
    action_cursor_up = _touch("action_cursor_up")
    action_page_down = _touch("action_page_down")
    action_page_up = _touch("action_page_up")
    action_scroll_top = _touch("action_scroll_top")
    action_scroll_bottom = _touch("action_scroll_bottom")
    del _touch

    def _on_click(self, event) -> None:
        # Textual also runs DataTable's own handler (message handlers run along the MRO).
        self.touched = True

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(event.column_key.value)
