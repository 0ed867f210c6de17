"""Updated-since paging with same-timestamp ties: a bookmark that loses and repeats nothing.

Helpdesks list "records updated at or after T" with timestamps of limited resolution (a
second, often). Many records can share the boundary timestamp, and a page or a sync can end in
the middle of them. Resuming with ``> T`` would lose the rest of that second; resuming with
``>= T`` delivers its first part again. A ``Watermark`` is the pair (T, the keys already
delivered at T): resume with ``>= T`` and drop exactly those keys.

    mark = Watermark.from_json(bookmark)            # or Watermark(start_time)
    for record in page:                              # in ascending timestamp order
        mark, fresh = mark.admit(record_id, record_updated_at)
        if fresh:
            deliver(record)
    yield Page(..., bookmark=mark.capped(until).as_json())
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Hashable, Iterable, Mapping, Sequence, TypeVar

from deskwatch.core.connect.contract import BadResponse
from deskwatch.core.model.timeutil import format_time, parse_time

R = TypeVar("R")


@dataclass(frozen=True)
class Watermark:
    """Where paging resumes: records stamped at or after ``since``, except the ``seen`` keys
    already delivered with a stamp equal to ``since``. ``since=None``: from the beginning."""

    since: datetime | None = None
    seen: frozenset[Hashable] = frozenset()

    def admit(self, key: Hashable, stamp: datetime) -> tuple["Watermark", bool]:
        """The watermark after delivering ``key`` stamped ``stamp``, and whether it is new.

        Records must come in ascending stamp order. An older stamp or a key already seen at
        the watermark is a re-delivery (False); a later stamp moves the watermark there."""
        if self.since is not None and stamp < self.since:
            return self, False
        if self.since is not None and stamp == self.since:
            if key in self.seen:
                return self, False
            return Watermark(self.since, self.seen | {key}), True
        return Watermark(stamp, frozenset({key})), True

    def admit_all(self, records: Iterable[R], key: Callable[[R], Hashable], stamp: Callable[[R], datetime]) -> tuple["Watermark", list[R]]:
        """``admit`` over a page: the moved watermark and the records not delivered before."""
        mark, fresh = self, []
        for r in records:
            mark, new = mark.admit(key(r), stamp(r))
            if new:
                fresh.append(r)
        return mark, fresh

    def capped(self, until: datetime | None) -> "Watermark":
        """Never let a bookmark cover changes after ``until`` (the sync start, the signpost)."""
        if until is None or self.since is None or self.since <= until:
            return self
        return Watermark(until)

    def as_json(self) -> dict[str, Any]:
        """``{"since": "<UTC time>", "seen": [sorted keys]}`` (``{}`` before the first record)."""
        if self.since is None:
            return {}
        return {"since": format_time(self.since), "seen": sorted(self.seen)}  # type: ignore[type-var]

    @classmethod
    def from_json(cls, raw: Any, where: str = "bookmark", key_type: type = str) -> "Watermark":
        """Read what ``as_json`` wrote; BadResponse names the part that is wrong and the fix."""
        if not isinstance(raw, Mapping) or "since" not in raw:
            raise BadResponse(f"{where}: expected {{since, seen}}, got {raw!r}; reset the source's bookmark")
        try:
            since = parse_time(raw["since"])
        except ValueError as e:
            raise BadResponse(f"{where}.since: {e}; reset the source's bookmark") from None
        seen = raw.get("seen") or []
        if not isinstance(seen, list) or not all(isinstance(k, key_type) and not isinstance(k, bool) for k in seen):
            raise BadResponse(f"{where}.seen: expected a list of {key_type.__name__} keys, got {seen!r}; reset the source's bookmark")
        return cls(since, frozenset(seen))


def until_signpost(records: Sequence[R], stamp: Callable[[R], datetime], until: datetime | None) -> tuple[list[R], bool]:
    """The records stamped at or before ``until`` (changes after the sync start belong to the
    next sync), and whether any were left out."""
    if until is None:
        return list(records), False
    kept = [r for r in records if stamp(r) <= until]
    return kept, len(kept) < len(records)
