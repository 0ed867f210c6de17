"""Logging for the daemon and CLI: text or JSON lines on stderr, every record redacted."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

from deskwatch.core.connect.http import RedactingFilter

# Fields passed through ``extra=`` that belong in a structured record.
FIELDS = ("source", "ticket", "pages", "tickets", "decided", "updates", "error", "retry_after", "state", "elapsed",
          "polled_from", "polled_to")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for f in FIELDS:
            if hasattr(record, f):
                out[f] = getattr(record, f)
        if record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(f"{f}={getattr(record, f)}" for f in FIELDS if hasattr(record, f))
        return f"{line} {extras}" if extras else line


def setup(fmt: str = "text", level: str = "info", stream=None) -> logging.Handler:
    """Send deskwatch's (and httpx's) logs to ``stream`` (stderr) in ``fmt``; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger("deskwatch")
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
    for name in ("httpx", "httpcore"):
        lg = logging.getLogger(name)
        lg.handlers = [handler]
        lg.setLevel("WARNING")
        lg.propagate = False
    return handler
