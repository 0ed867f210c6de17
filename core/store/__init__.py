"""The SQLite store: tickets, decisions, audit log, outbox, timers, sync status and the queue.

See docs/store.md for the schema and how to back it up.
"""

from deskwatch.core.store.escalations import AckState
from deskwatch.core.store.fleet import DaemonIdInUse, DaemonRow, Hold, Lease
from deskwatch.core.store.migrations import MIGRATIONS, StoreError, StoreVersionError, migration
from deskwatch.core.store.outbox import OutboxItem
from deskwatch.core.store.queue import QueueFilter, QueueRow, TicketDetail
from deskwatch.core.store.status import DaemonStatus, SourceStatus, StoreStatus
from deskwatch.core.store.store import Store, open_store
from deskwatch.core.store.tickets import LoadCounts, PageResult, StoreHistory

__all__ = [
    "MIGRATIONS", "AckState", "DaemonIdInUse", "DaemonRow", "DaemonStatus", "Hold", "Lease", "LoadCounts", "OutboxItem", "PageResult", "QueueFilter", "QueueRow",
    "SourceStatus", "Store", "StoreError", "StoreHistory", "StoreStatus", "StoreVersionError", "TicketDetail",
    "migration", "open_store",
]
