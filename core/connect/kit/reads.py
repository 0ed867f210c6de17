"""Strict readers for the envelope of a helpdesk response: errors name the field and what was there.

Ids, timestamps and lists a connector relies on are read strictly: a body of the wrong shape is a
``BadResponse`` such as ``tickets[3].updated_at: expected an ISO 8601 time, got the string "x"``,
never a KeyError deep in a mapping. (Fields typed by people are read leniently: ``kit.fields``.)
``where`` is the path of the object holding ``key`` (``"tickets[3]"``, or ``""`` at the top).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from deskwatch.core.connect.contract import BadResponse
from deskwatch.core.connect.payload import boolean, describe, expect_object, field_path, string
from deskwatch.core.model.timeutil import parse_time

__all__ = ["array", "boolean", "describe", "expect_object", "field_path", "integer", "string", "timestamp"]


def integer(d: Mapping[str, Any], key: str, where: str, *, required: bool = True, expected: str = "a whole number") -> int | None:
    """``d[key]`` if it is a whole number (not a boolean); None when absent and not ``required``."""
    v = d.get(key)
    if v is None:
        if required:
            raise BadResponse(f"{field_path(where, key)}: missing (expected {expected})")
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise BadResponse(f"{field_path(where, key)}: expected {expected}, got {describe(v)}")
    return v


def timestamp(
    d: Mapping[str, Any], key: str, where: str, *, required: bool = True, expected: str = "an ISO 8601 time"
) -> datetime | None:
    """``d[key]`` read as an ISO 8601 time (aware; no offset means UTC)."""
    v = d.get(key)
    if v is None:
        if required:
            raise BadResponse(f"{field_path(where, key)}: missing (expected {expected})")
        return None
    try:
        return parse_time(v)
    except ValueError:
        raise BadResponse(f"{field_path(where, key)}: expected {expected}, got {describe(v)}") from None


def array(d: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> list[Any]:
    """``d[key]`` if it is a JSON array; ``[]`` when absent and not ``required``."""
    v = d.get(key)
    if v is None:
        if required:
            raise BadResponse(f"{field_path(where, key)}: missing (expected a list)")
        return []
    if not isinstance(v, list):
        raise BadResponse(f"{field_path(where, key)}: expected a list, got {describe(v)}")
    return v
