"""Strict envelope readers: a body of the wrong shape names the field and what was found."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from deskwatch.core.connect.contract import BadResponse
from deskwatch.core.connect.kit import reads


def test_integer():
    assert reads.integer({"id": 7}, "id", "tickets[0]") == 7
    assert reads.integer({}, "id", "t", required=False) is None
    with pytest.raises(BadResponse, match=r"^tickets\[0\]\.id: missing \(expected a numeric id\)$"):
        reads.integer({}, "id", "tickets[0]", expected="a numeric id")
    with pytest.raises(BadResponse, match=r'^id: expected a whole number, got the string "7"$'):
        reads.integer({"id": "7"}, "id", "")
    with pytest.raises(BadResponse, match=r"^t\.id: expected a whole number, got a boolean$"):
        reads.integer({"id": True}, "id", "t")


def test_timestamp():
    assert reads.timestamp({"at": "2026-11-23T09:00:00Z"}, "at", "t") == datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
    plus = reads.timestamp({"at": "2013-05-20T20:49:32.000+0200"}, "at", "t")
    assert plus.utcoffset() == timedelta(hours=2)
    assert reads.timestamp({"at": None}, "at", "t", required=False) is None
    with pytest.raises(BadResponse, match=r'^t\.at: expected an ISO 8601 time, got the string "yesterday"$'):
        reads.timestamp({"at": "yesterday"}, "at", "t")
    with pytest.raises(BadResponse, match=r"^t\.at: missing \(expected a time such as X\)$"):
        reads.timestamp({}, "at", "t", expected="a time such as X")


def test_array():
    assert reads.array({"tickets": [1]}, "tickets", "") == [1]
    assert reads.array({}, "users", "", required=False) == []
    with pytest.raises(BadResponse, match=r"^tickets: expected a list, got an object$"):
        reads.array({"tickets": {}}, "tickets", "")
    with pytest.raises(BadResponse, match=r"^meta\.tickets: missing \(expected a list\)$"):
        reads.array({"tickets": None}, "tickets", "meta")
