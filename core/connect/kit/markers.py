"""Idempotency on the ticket: how a connector marks an applied update and checks for it.

The outbox may send one update twice (a crash after the write, a lost response). A connector
therefore leaves a marker derived from ``TicketUpdate.idempotency_key`` on the ticket and looks
for it before writing:

* a **marker tag** (``dw-3f2a9c1e0b7d``) where the helpdesk has tags: written in the same
  request as the changes, or last, it says "this update is complete";
* a **note marker** (a line inside the private note) where a note is a separate request: it
  says "the note was posted", so a retry skips the note and does the rest.

    tag = marker_tag(update.idempotency_key)
    if tag in current_tags:
        return UpdateResult("already_applied", ...)
    if update.private_note and not notes_have_marker(note_bodies, line):
        post_note(note_with_marker(update.private_note, line))
    put(tags=merged_tags(current_tags, add, remove, tag))
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from deskwatch.core.connect.contract import idempotency_tag
from deskwatch.core.model import TicketUpdate


def marker_tag(key: str) -> str:
    """The marker tag of an update (``dw-`` + the first 12 letters and digits of the key)."""
    return idempotency_tag(key)


def has_marker_tag(tags: Iterable[Any], key: str) -> bool:
    """True when the ticket's tags carry the update's marker tag (the update was applied)."""
    tag = marker_tag(key)
    return any(t == tag for t in tags)


def note_with_marker(note: str, marker_line: str, *, first: bool = False, separator: str = "\n") -> str:
    """The note text with the marker line after it (or before it, ``first=True``)."""
    return f"{marker_line}{separator}{note}" if first else f"{note}{separator}{marker_line}"


def notes_have_marker(bodies: Iterable[Any], marker_line: str) -> bool:
    """True when a note of the ticket already carries ``marker_line`` (posted before a crash or a
    lost response). Non-text entries are ignored."""
    return any(isinstance(b, str) and marker_line in b for b in bodies)


def tag_changes(update: TicketUpdate, escalation_tag: str | None = None) -> tuple[list[str], list[str]]:
    """The tags an update adds and removes, without repeats; with ``escalation_tag`` the
    ``escalated`` flag is expressed as that tag (for helpdesks without an escalation field)."""
    add = list(dict.fromkeys(update.tags_add))
    remove = list(dict.fromkeys(update.tags_remove))
    if escalation_tag and update.escalated is True:
        add.append(escalation_tag)
    elif escalation_tag and update.escalated is False:
        remove.append(escalation_tag)
    return list(dict.fromkeys(add)), list(dict.fromkeys(remove))


def merged_tags(current: Sequence[str], add: Iterable[str] = (), remove: Iterable[str] = (), marker: str | None = None) -> list[str]:
    """The whole tag list to write where the API replaces it: ``current`` in its order without
    ``remove``, then ``add`` and the ``marker`` tag if not already there. Other tools' tags
    survive."""
    gone = set(remove)
    tags = [t for t in current if t not in gone]
    for t in [*add, *((marker,) if marker else ())]:
        if t not in tags:
            tags.append(t)
    return tags


def tag_delta(current: Iterable[str], add: Iterable[str], remove: Iterable[str]) -> tuple[list[str], list[str]]:
    """For APIs that take added and removed tags: the tags of ``add`` not on the ticket yet, and
    those of ``remove`` that are on it (and not being added)."""
    have = set(current)
    added = [t for t in dict.fromkeys(add) if t not in have]
    removed = [t for t in dict.fromkeys(remove) if t in have and t not in added]
    return added, removed
