"""The queue table: rows keyed by ticket id, changed rows repainted alone.

A stock ``DataTable.update_cell`` repaints the whole table (about 11 KB per change at 80x24) and
sorting or removing rows walks every row; see TUI-NOTES §1.4 and §3. This table keeps its rows in
store order by a sort key, applies changes in place, repaints only the rows that changed, and
re-sorts only when a change moved a row past its neighbours. It relies on DataTable internals of
textual 8.2 (``_data``, ``_row_locations``, ``_update_count``); tests/tui pin the behaviour.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Iterable

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets._data_table import RowKey
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


def sort_key(row: QueueRow) -> tuple:
    """The store's queue order (rec rank, score, SLA due soonest, id) as a Python key."""
    due = row.sla_due_at.isoformat() if row.sla_due_at else "\uffff"
    return (-rec_rank(row.recommendation), -row.score, due, row.ticket_id)


class QueueTable(DataTable):
    """Queue rows, most urgent first. ``set_rows`` loads a window, ``apply`` merges changes."""

    def __init__(self, *, clock: Callable[[], datetime], **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, cell_padding=1, **kwargs)
        self.clock = clock
        self.rows_by_id: dict[str, QueueRow] = {}
        self.subject_width = MIN_SUBJECT
        self.repaints = 0  # full-table repaints from re-sorting (for tests and the bench)

    def setup_columns(self, width: int) -> None:
        padding = 2 * len(COLUMNS) + 2  # cell padding, plus the scrollbar
        self.subject_width = max(MIN_SUBJECT, width - FIXED - padding)
        for key, label, w in COLUMNS:
            self.add_column(label, key=key, width=w or self.subject_width)

    def cells(self, row: QueueRow, now: datetime) -> list:
        return [
            display.urgency_cell(row),
            Text(f"{row.score:.0f}", justify="right"),
            display.sla_cell(row, now),
            display.source_channel(row),
            display.customer(row, 14),
            display.clip(row.subject, self.subject_width) + ("" if not row.needs_review else ""),
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

    def append_rows(self, rows: Iterable[QueueRow]) -> None:
        """Add rows that come after the current ones in queue order (the rest of a window)."""
        now = self.clock()
        for row in rows:
            if row.ticket_id not in self.rows_by_id:
                self.rows_by_id[row.ticket_id] = row
                self.add_row(*self.cells(row, now), key=row.ticket_id)

    def _repaint_row(self, ticket_id: str, cells: list) -> None:
        key = RowKey(ticket_id)
        old = self._data[key]
        changed = False
        for (col, _, _), value in zip(COLUMNS, cells):
            if old.get(col) != value:  # rich Text compares by text and spans
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
            else:
                if len(self.rows_by_id) >= limit and self.rows_by_id:
                    last = self._last_id()
                    if sort_key(row) > sort_key(self.rows_by_id[last]):
                        continue  # below the window the console shows
                self.rows_by_id[row.ticket_id] = row
                self.add_row(*self.cells(row, now), key=row.ticket_id)
                resort = True
            touched += 1
        if resort:
            self._resort()
            while len(self.rows_by_id) > limit:
                last = self._last_id()
                self.remove_row(last)
                del self.rows_by_id[last]
            if cursor_id in self.rows_by_id:
                self.move_cursor(row=self.get_row_index(cursor_id), scroll=False)
        return touched

    def tick(self) -> None:
        """Countdowns and ages move with the clock: repaint only the visible rows whose text changed."""
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
        ordered = sorted(self._data, key=lambda rk: sort_key(self.rows_by_id[rk.value]))
        self._row_locations = TwoWayDict({rk: i for i, rk in enumerate(ordered)})
        self._update_count += 1
        self.repaints += 1
        self.refresh()
