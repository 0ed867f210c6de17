"""Comments from the incremental ticket events export, once the connector is caught up.

Reading a changed ticket's comments costs one request per ticket. Once the connector runs in
steady state it reads ``/api/v2/incremental/ticket_events.json?include=comment_events``
instead: one request per 1,000 events, whatever the number of tickets they touch. The events
carry only what happened in their window, so the connector keeps a ``CommentLog``: the full
comment list of the tickets it has seen, each complete from the moment it entered the log,
brought up to date with the comment events that follow.

A ticket enters the log in one of two ways, and both leave it complete:

* its comments were read in full (``remember``), while the events cursor stood no later than
  that read (the cursor starts a minute before the log's first use and only moves forward to
  what the export has covered, which trails the clock by Zendesk's one-minute hold-back);
* its creating audit (a ``Create`` child event) came through the events: everything since is
  in the events too.

A ticket is served from the log only when the events read so far cover its latest change
(``generated_timestamp`` at most the export's ``end_time``); otherwise, or when it is not in the
log (a restart empties it, and the least recently used tickets leave it past ``max_tickets``),
its comments are read in full as before. Comment events carry the comment's own id, so an
event seen twice, or a comment both read and seen as an event, is kept once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Sequence

from deskwatch.core.connect.contract import BadResponse

EVENTS_PATH = "/api/v2/incremental/ticket_events.json"
MAX_TICKETS = 5000  # tickets whose comments the log keeps (least recently used leave first)
MIN_TICKETS = 2  # tickets an events read must serve to be worth an export slot
START_SLACK = 61  # seconds: the cursor starts behind the clock by Zendesk's hold-back and a second


def _unix(value: Any) -> int | None:
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


@dataclass(frozen=True)
class EventsPage:
    """One page of the ticket events export, envelope checked."""

    events: tuple[Mapping[str, Any], ...]
    end_time: int | None
    end_of_stream: bool


def read_events_page(body: Any) -> EventsPage:
    """Check a ticket events page; raises BadResponse naming the field that is wrong."""
    if not isinstance(body, Mapping):
        raise BadResponse("ticket events response: expected a JSON object")
    events = body.get("ticket_events")
    if not isinstance(events, list):
        raise BadResponse("ticket_events: missing or not a list (is base_url a Zendesk account?)")
    for i, e in enumerate(events):
        if not isinstance(e, Mapping) or not isinstance(e.get("ticket_id"), int):
            raise BadResponse(f"ticket_events[{i}].ticket_id: expected a number")
        if not isinstance(e.get("child_events", []), list):
            raise BadResponse(f"ticket_events[{i}].child_events: expected a list")
    end = body.get("end_time")
    if end is not None and not isinstance(end, int):
        raise BadResponse(f"end_time: expected unix seconds, got {end!r}")
    if "end_of_stream" not in body:
        raise BadResponse("end_of_stream: missing (is base_url a Zendesk time-based export?)")
    return EventsPage(tuple(events), end, body.get("end_of_stream") is True)


def comment_of(audit: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """A ``Comment`` child event in the shape ``/tickets/{id}/comments`` gives a comment (the
    time and channel are the audit's)."""
    return {"id": child.get("id"), "type": "Comment", "author_id": child.get("author_id"), "body": child.get("body"),
            "html_body": child.get("html_body"), "public": child.get("public", True),
            "via": audit.get("via"), "created_at": audit.get("created_at")}


class CommentLog:
    """The comments of recently seen tickets, kept complete by the ticket events export."""

    def __init__(self, max_tickets: int = MAX_TICKETS):
        self.max_tickets = max_tickets
        self.since: int | None = None  # start_time of the next events read
        self.covered: int | None = None  # the events read so far reach this second
        self._tickets: OrderedDict[int, dict[Any, Mapping[str, Any]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._tickets)

    def start(self, now_ts: int) -> None:
        """Place the events cursor before the log's first full read (once)."""
        if self.since is None:
            self.since = now_ts - START_SLACK

    def holds(self, tid: int) -> bool:
        return tid in self._tickets

    def worth_reading(self, rows: Sequence[Mapping[str, Any]], at_least: int = MIN_TICKETS) -> bool:
        """Whether reading the events now would serve ``at_least`` tickets of ``rows`` (export
        rows whose comments are wanted) from the log: held but not yet covered, or created after
        the events cursor (their creating audit is in the events). An events request takes a
        slot of the export's 10 a minute; for a single ticket one comments request is cheaper."""
        found = 0
        for raw in rows:
            tid, changed = raw.get("id"), raw.get("generated_timestamp")
            if tid in self._tickets:
                if self.covered is None or not isinstance(changed, int) or changed > self.covered:
                    found += 1
                continue
            created = _unix(raw.get("created_at"))
            if created is not None and self.since is not None and created >= self.since:
                found += 1
        return found >= at_least

    def remember(self, tid: int, comments: Sequence[Mapping[str, Any]]) -> None:
        """A ticket's comments as just read in full (only after ``start``)."""
        if self.since is None:
            return
        self._tickets[tid] = {c.get("id"): c for c in comments}
        self._touch(tid)

    def forget(self, tid: int) -> None:
        self._tickets.pop(tid, None)

    def comments(self, tid: int, changed_at: int) -> list[Mapping[str, Any]] | None:
        """The ticket's comments, oldest first, if the log holds it and the events read cover
        its change at ``changed_at``; else None (read them in full)."""
        entry = self._tickets.get(tid)
        if entry is None or self.covered is None or changed_at > self.covered:
            return None
        self._touch(tid)
        return sorted(entry.values(), key=lambda c: (str(c.get("created_at")), str(c.get("id"))))

    def apply(self, page: EventsPage, read_at: int) -> None:
        """Fold one events page (asked for at ``read_at``, unix seconds) in: new tickets enter,
        held ones gain their new comments."""
        for audit in page.events:
            tid = audit["ticket_id"]
            children = [c for c in audit.get("child_events") or () if isinstance(c, Mapping)]
            if tid not in self._tickets and any(c.get("event_type") == "Create" for c in children):
                self._tickets[tid] = {}
                self._touch(tid)
            entry = self._tickets.get(tid)
            if entry is None:
                continue  # not held: read in full when the ticket comes up
            for c in children:
                if c.get("event_type") == "Comment":
                    entry[c.get("id")] = comment_of(audit, c)
        if page.end_time is not None:
            # Time-based paging: the next read starts at this page's last second (re-read, kept once).
            self.since = max(self.since or page.end_time, page.end_time)
            if page.end_of_stream:
                # Not the second the read was made in: a change later in that second is not in it.
                end = min(page.end_time, read_at - 1)
                self.covered = max(self.covered or end, end)

    def _touch(self, tid: int) -> None:
        self._tickets.move_to_end(tid)
        while len(self._tickets) > self.max_tickets:
            self._tickets.popitem(last=False)
