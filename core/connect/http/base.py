"""What every part of the HTTP kit shares: the sleep callable type, the default timeout and the
User-Agent header."""

from __future__ import annotations

from typing import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]

DEFAULT_TIMEOUT = 30.0


def user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"deskwatch/{version('deskwatch')}"
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "deskwatch"
