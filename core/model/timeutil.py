"""Time parsing and formatting. The engine never reads the clock: callers pass ``now`` in."""

from __future__ import annotations

from datetime import date, datetime, timezone


def parse_time(value: object) -> datetime:
    """Parse an ISO 8601 time; a time without an offset is taken as UTC. Raises ValueError."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected an ISO 8601 time such as 2026-11-23T09:00:00Z, got {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Salesforce writes offsets without a colon (+0000), which fromisoformat reads since 3.11.
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected an ISO 8601 time such as 2026-11-23T09:00:00Z, got {value!r}") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def parse_date(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, str):
        raise ValueError(f"expected a date such as 2026-12-31, got {value!r}")
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise ValueError(f"expected a date such as 2026-12-31, got {value!r}") from None


def format_time(dt: datetime) -> str:
    """UTC, second precision, Z suffix: stable text for output and the store."""
    if dt.tzinfo is timezone.utc:
        # A batch formats the same instants again and again (``now``, SLA due times). Only UTC
        # times are remembered: equal times in another zone can differ in ``fold`` and so in text.
        text = _FORMATTED.get(dt)
        if text is None:
            if len(_FORMATTED) >= 4096:
                _FORMATTED.clear()
            text = _FORMATTED[dt] = dt.replace(microsecond=0).isoformat().replace("+00:00", "Z")
        return text
    return dt.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


_FORMATTED: dict[datetime, str] = {}


def utcnow() -> datetime:
    """The one clock read, for the edges (CLI, daemon, console); the engine takes ``now`` as input."""
    return datetime.now(timezone.utc)
