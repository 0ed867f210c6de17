"""Settings every connector reads the same way: name tables and a first-sync start time."""

from __future__ import annotations

from datetime import date, datetime, timezone

from deskwatch.core.model.settings import Section
from deskwatch.core.model.timeutil import parse_time


def id_table(section: Section, key: str, what: str = "group") -> dict[str, int]:
    """A settings table of ``"name" = numeric id`` (``[sources.<name>.<key>]``); a value that is
    not a positive whole number is a ConfigError naming ``<key>.<name>``."""
    sub = section.section(key)
    out: dict[str, int] = {}
    for name in sub.keys():
        if not name.strip():
            raise section.error(key, f"expected a table of {what} name = numeric id; a name is empty")
        out[name] = sub.integer(name, min=1)
    return out


def read_start_time(section: Section, key: str = "start_time") -> datetime | None:
    """Where a first sync starts: an ISO 8601 time (``"2026-11-01T00:00:00Z"``), a TOML datetime,
    or a TOML date (midnight UTC); None when absent or empty. A bad value is a ConfigError."""
    raw = section.raw(key)
    if raw is None or raw == "":
        return None
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return datetime(raw.year, raw.month, raw.day, tzinfo=timezone.utc)
    try:
        return parse_time(raw)
    except ValueError as e:
        raise section.error(key, str(e)) from None
