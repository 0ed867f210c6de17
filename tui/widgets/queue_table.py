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
from datetime import datetime, timezone
from typing import Callable, Iterable

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets._data_table import ColumnKey, RowKey
from textual._two_way_dict import TwoWayDict

from deskwatch.core.store import QueueRow
from deskwatch.core.store.decisions import rec_rank
from deskwatch.tui import display

# (key, label, width); the subject column takes what is left of the screen.
COLUMNS = (
    ("urg", "Urg", 3), ("score", "Scr", 3), ("sla", "SLA", 4), ("src", "Src/ch", 7),
    ("customer", "Customer", 14), ("subject", "Subject", 0), ("team", "Team", 8), ("age", "Age", 3),
)
FIXED = sum(w for _, _, w in COLUMNS)
MIN_SUBJECT = 12
RESORT_EVERY = 3.0  # seconds: re-order for score changes at most this often (new rows: at once)
REBUILD_ABOVE = 200  # more new rows than this in one poll: rebuild instead of inserting
_NO_DUE = datetime(1970, 1, 1, tzinfo=timezone.utc)  # tickets without an SLA sort last (the 1 before it)


def sort_key(row: QueueRow) -> tuple:
    """The store's queue order (rec rank, score, SLA due soonest, id) as a Python key."""
    due = (0, row.sla_due_at) if row.sla_due_at is not None else (1, _NO_DUE)
    return (-rec_rank(row.recommendation), -row.score, due, row.ticket_id)


def _same(a: object, b: object) -> bool:
    # rich Text equality ignores the base style (an acknowledged or snoozed row changes only that).
    if isinstance(a, Text) and isinstance(b, Text):
        return a == b and str(a.style) == str(b.style)
    return a == b


class QueueTable(DataTable):
    """Queue rows, most urgent first. ``set_rows`` loads a window, ``apply`` merges changes."""

    def __init__(self, *, clock: Callable[[], datetime], **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, cell_padding=1, **kwargs)
        self.clock = clock
        self.rows_by_id: dict[str, QueueRow] = {}
        self.subject_width = MIN_SUBJECT
        self.repaints = 0  # full-table repaints from re-sorting (for tests and the bench)
        self.resort_every = RESORT_EVERY
        self._last_resort = float("-inf")
        self._resort_pending = False

    def _update_dimensions(self, new_rows) -> None:
        # Every column has a fixed width and every row is one line, so there is nothing to
        # measure; the stock code measures every cell of every new row (O(rows x columns)).
        super()._update_dimensions(())

    @staticmethod
    def subject_width_for(width: int) -> int:
        padding = 2 * len(COLUMNS) + 2  # cell padding, plus the scrollbar
        return max(MIN_SUBJECT, width - FIXED - padding)

    def setup_columns(self, width: int) -> None:
        self.subject_width = self.subject_width_for(width)
        for key, label, w in COLUMNS:
            self.add_column(label, key=key, width=w or self.subject_width)

    def fit(self, width: int) -> None:
        """The terminal was resized: the subject column takes the new room (cells are cropped
        by the table, so no row needs rebuilding)."""
        new = self.subject_width_for(width)
        if new != self.subject_width and self.columns:
            self.subject_width = new
            self.columns[ColumnKey("subject")].width = new
            self._update_count += 1
            self._require_update_dimensions = True
            self.refresh()

    def cells(self, row: QueueRow, now: datetime) -> list:
        return [
            display.urgency_cell(row, now),
            Text(f"{row.score:.0f}", justify="right"),
            display.sla_cell(row, now),
            display.source_channel(row),
            display.customer(row, 14),
            Text(display.one_line(row.subject), no_wrap=True, overflow="ellipsis"),
            display.clip(row.team or "", 8),
            Text(display.age(row.created_at, now), justify="right"),
        ]

    @property
    def current_id(self) -> str | None:
        """The ticket id under the cursor, or None for an empty table."""
        if not self.row_count:
            return None
        key, _ = self.coordinate_to_cell_key((self.cursor_row, 0))
        return key.value

    def set_rows(self, rows: Iterable[QueueRow]) -> None:
        """Replace the contents (a new filter or search): the only full rebuild."""
        keep = self.current_id
        self.clear()
        self.rows_by_id = {}
        now = self.clock()
        for row in rows:
            self.rows_by_id[row.ticket_id] = row
            self.add_row(*self.cells(row, now), key=row.ticket_id)
        if keep in self.rows_by_id:
            self.move_cursor(row=self.get_row_index(keep))

    def append_rows(self, rows: Iterable[QueueRow], limit: int) -> None:
        """Add rows that come after the current ones in queue order (the rest of a window).
        Rows a live change added meanwhile may belong further down: then the table re-sorts."""
        now = self.clock()
        last = self.rows_by_id[self._last_id()] if self.row_count else None
        in_order = True
        for row in rows:
            if row.ticket_id not in self.rows_by_id:
                if last is not None and in_order and sort_key(row) < sort_key(last):
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
        for (col, _, _), value in zip(COLUMNS, cells):
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
                if sort_key(before)[:3] != sort_key(row)[:3] and not self._still_in_place(row):
                    resort = True
                self._repaint_row(row.ticket_id, self.cells(row, now))
                touched += 1
            else:
                arrivals.append(row)
        arrivals = self._admitted(arrivals, limit) if arrivals else arrivals
        if arrivals:
            if len(arrivals) > REBUILD_ABOVE:
                # A flood (the daemon's first sync): one rebuild beats thousands of row moves.
                self.set_rows(sorted([*self.rows_by_id.values(), *arrivals], key=sort_key)[:limit])
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
        if ticket_id in self.rows_by_id:
            index = self.get_row_index(ticket_id)
            if index != self.cursor_row:
                self.move_cursor(row=index, scroll=False)

    def _admitted(self, arrivals: list[QueueRow], limit: int) -> list[QueueRow]:
        """The new rows that make it into the window of the ``limit`` most urgent."""
        if len(self.rows_by_id) + len(arrivals) <= limit:
            return arrivals
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
        k = sort_key(row)
        for other in (index - 1, index + 1):
            key = self._row_locations.get_key(other)
            if key is None:
                continue
            o = sort_key(self.rows_by_id[key.value])
            if (other < index and o > k) or (other > index and o < k):
                return False
        return True

    def _resort(self) -> None:
        """Put rows back in queue order, repainting only the rows whose position changed (a
        swap of two neighbours repaints two lines, not the table)."""
        self._resort_pending = False
        self._last_resort = time.monotonic()
        before = {rk: self._row_locations.get(rk) for rk in self._row_locations}
        ordered = sorted(self._data, key=lambda rk: sort_key(self.rows_by_id[rk.value]))
        self._row_locations = TwoWayDict({rk: i for i, rk in enumerate(ordered)})
        self._update_count += 1
        top = int(self.scroll_y)
        height = max(self.size.height, 1)
        # Rows off screen need no repaint: they are drawn afresh when scrolled to.
        moved = [i for i in range(top, min(top + height, len(ordered))) if before.get(ordered[i]) != i]
        if len(moved) > height // 2:
            self.repaints += 1
            self.refresh()
            return
        for i in moved:
            self.refresh_row(i)
