"""Reading helpdesk API bodies: type checks whose errors name the field and what was there.

Connectors map JSON they do not control; a body of the wrong shape must become a BadResponse
that says where (``tickets[3].via``) and what was found, never a KeyError deep in a mapping.
"""

from __future__ import annotations

from typing import Any, Mapping

from deskwatch.core.connect.contract import BadResponse
from deskwatch.core.connect.http.redact import excerpt


def field_path(where: str, key: str) -> str:
    """``where.key``, or ``key`` at the top of a body."""
    return f"{where}.{key}" if where else key


def describe(v: Any) -> str:
    """What a JSON value is, for an error message: null, a list, the string "...", ..."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return f"the number {v!r}"
    if isinstance(v, str):
        return f'the string "{excerpt(v, 40)}"'
    if isinstance(v, list):
        return "a list"
    if isinstance(v, Mapping):
        return "an object"
    return type(v).__name__


def expect_object(v: Any, where: str) -> Mapping[str, Any]:
    """``v`` if it is a JSON object, else BadResponse naming ``where``."""
    if not isinstance(v, Mapping):
        raise BadResponse(f"{where or 'body'}: expected a JSON object, got {describe(v)}")
    return v


def string(d: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    """``d[key]`` if it is a string; None when absent or null (BadResponse if ``required``)."""
    v = d.get(key)
    if v is None:
        if required:
            raise BadResponse(f"{field_path(where, key)}: missing")
        return None
    if not isinstance(v, str):
        raise BadResponse(f"{field_path(where, key)}: expected a string, got {describe(v)}")
    return v


def boolean(d: Mapping[str, Any], key: str, where: str, default: bool = False) -> bool:
    """``d[key]`` if it is true or false; ``default`` when absent or null."""
    v = d.get(key)
    if v is None:
        return default
    if not isinstance(v, bool):
        raise BadResponse(f"{field_path(where, key)}: expected true or false, got {describe(v)}")
    return v
