"""Watermark paging: records sharing the boundary timestamp are neither lost nor repeated."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from deskwatch.core.connect.contract import BadResponse
from deskwatch.core.connect.kit import Watermark, until_signpost

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def updated_since(records, since, page_no: int, limit: int):
    """A server's "updated at or after T, ascending, page N" (inclusive, as the APIs are)."""
    rows = sorted((r for r in records if since is None or r[1] >= since), key=lambda r: (r[1], r[0]))
    return rows[(page_no - 1) * limit : page_no * limit]


def sync(records, mark: Watermark, limit: int, until=None):
    """Page through with the watermark, round-tripping it through JSON after every page. The
    window moves to the watermark after each page; only a page that did not move it (a whole
    page of one second) is followed by the next page number of the same window."""
    delivered, page_no = [], 1
    for _ in range(1000):
        window = mark.since
        page = updated_since(records, window, page_no, limit)
        kept, past = until_signpost(page, lambda r: r[1], until)
        mark, fresh = mark.admit_all(kept, key=lambda r: r[0], stamp=lambda r: r[1])
        delivered += fresh
        if mark.since is not None:
            mark = Watermark.from_json(json.loads(json.dumps(mark.capped(until).as_json())), key_type=int)
        if past or len(page) < limit:
            return delivered, mark
        page_no = page_no + 1 if mark.since == window else 1
    raise AssertionError("did not terminate")


def test_ties_on_one_second_across_pages_are_delivered_exactly_once():
    # seven records in one second, pages of three: a "> T" resume would lose four of them,
    # a plain ">= T" resume would repeat three on every page.
    records = [(i, T0) for i in range(1, 8)] + [(8, T0 + timedelta(seconds=1))]
    delivered, mark = sync(records, Watermark(T0 - timedelta(days=1)), limit=3)
    assert sorted(r[0] for r in delivered) == list(range(1, 9))
    assert len(delivered) == 8
    assert mark.since == T0 + timedelta(seconds=1) and mark.seen == frozenset({8})


def test_a_later_sync_sees_only_what_changed():
    records = [(i, T0 + timedelta(seconds=i // 2)) for i in range(10)]
    _, mark = sync(records, Watermark(), limit=4)
    # a record updated in the watermark's own second, and one later: both new, nothing repeated
    records += [(42, mark.since), (43, mark.since + timedelta(seconds=5))]
    again, _ = sync(records, mark, limit=4)
    assert [r[0] for r in again] == [42, 43]


@pytest.mark.parametrize("seed", range(5))
def test_random_ties_and_page_sizes_lose_and_repeat_nothing(seed):
    rnd = random.Random(seed)
    records = [(i, T0 + timedelta(seconds=rnd.randrange(6))) for i in range(40)]
    delivered, _ = sync(records, Watermark(), limit=rnd.randrange(2, 15))
    assert sorted(r[0] for r in delivered) == list(range(40))


def test_admit_moves_forward_and_refuses_older_or_seen():
    mark, fresh = Watermark(T0, frozenset({"a"})).admit("a", T0)
    assert not fresh and mark.seen == frozenset({"a"})
    mark, fresh = mark.admit("b", T0)
    assert fresh and mark.seen == frozenset({"a", "b"})
    older, fresh = mark.admit("c", T0 - timedelta(seconds=1))
    assert not fresh and older == mark
    later, fresh = mark.admit("a", T0 + timedelta(seconds=1))
    assert fresh and later == Watermark(T0 + timedelta(seconds=1), frozenset({"a"}))


def test_signpost_caps_the_watermark_and_leaves_later_records():
    until = T0 + timedelta(seconds=2)
    records = [(1, T0), (2, until), (3, until + timedelta(seconds=1))]
    kept, past = until_signpost(records, lambda r: r[1], until)
    assert [r[0] for r in kept] == [1, 2] and past
    assert until_signpost(records, lambda r: r[1], None) == (records, False)
    assert Watermark(until + timedelta(hours=1), frozenset({9})).capped(until) == Watermark(until)
    assert Watermark(T0, frozenset({9})).capped(until) == Watermark(T0, frozenset({9}))


def test_json_form_and_bad_bookmarks():
    mark = Watermark(T0, frozenset({3, 1}))
    assert mark.as_json() == {"since": "2026-11-23T09:00:00Z", "seen": [1, 3]}
    assert Watermark.from_json(mark.as_json(), key_type=int) == mark
    assert Watermark().as_json() == {}
    with pytest.raises(BadResponse, match=r"bookmark: expected \{since, seen\}.*reset the source's bookmark"):
        Watermark.from_json({"after": 5})
    with pytest.raises(BadResponse, match=r"bookmark\.since: expected an ISO 8601 time"):
        Watermark.from_json({"since": "yesterday"})
    with pytest.raises(BadResponse, match=r"passes\.all\.seen: expected a list of int keys"):
        Watermark.from_json({"since": "2026-11-23T09:00:00Z", "seen": ["x"]}, "passes.all", int)
