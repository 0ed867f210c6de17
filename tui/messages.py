"""Messages the console's widgets and screens post up."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from deskwatch.core.store import QueueRow


@dataclass
class StoreChanged(Message):
    """Queue rows changed in the store since the last poll (the daemon or another console)."""

    rows: list[QueueRow]


class StoreMoved(Message):
    """The store's change counter moved (posted by the store watcher's thread)."""


@dataclass
class ActionDone(Message):
    """An action on a ticket was recorded; ``queued`` updates went to the outbox."""

    ticket_id: str
    kind: str
    queued: int
