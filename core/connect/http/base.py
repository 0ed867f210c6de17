"""What every part of the HTTP kit shares: the sleep callable type, the default timeout and the
User-Agent header."""

from __future__ import annotations

from typing import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]

DEFAULT_TIMEOUT = 30.0  # seconds for each connect and each read
# Seconds for one whole exchange, connect to last byte: httpx's timeouts bound each read, so a
# server dripping a byte every few seconds would otherwise hold a source for ever.
DEFAULT_REQUEST_DEADLINE = 60.0
DEFAULT_MAX_RESPONSE_BYTES = 50 * 1024 * 1024  # a larger body is refused, not buffered


def user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"deskwatch/{version('deskwatch')}"
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "deskwatch"
