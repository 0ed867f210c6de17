"""Notification health for `deskwatch status`: queue counts and each channel's last outcome."""

from __future__ import annotations

from typing import Any

from deskwatch.core.model.timeutil import format_time


def notify_status(store: Any, cfg: Any) -> dict:
    """Counts by state and one entry per channel that has been tried (errors stored redacted)."""
    ncfg = getattr(cfg, "notify", None)
    counts = store.notification_counts()
    channels = []
    for h in store.channel_health():
        ch = ncfg.channel(h.name) if ncfg is not None else None
        channels.append({
            "name": h.name, "url": ch.shown if ch is not None else None, "configured": ch is not None,
            "failing": h.failing, "failures": h.failures,
            "last_ok": format_time(h.last_ok_at) if h.last_ok_at else None,
            "last_error": h.last_error if h.failing else None,
            "last_error_at": format_time(h.last_error_at) if h.last_error_at else None,
        })
    return {
        "channels_configured": len(ncfg.channels) if ncfg is not None else 0,
        "pending": counts.get("pending", 0) + counts.get("sending", 0),
        "sent": counts.get("sent", 0),
        "failed": counts.get("failed", 0),
        "unknown": counts.get("unknown", 0),
        "channels": channels,
    }


def print_notify(data: dict) -> None:
    """The text form: one summary line, then one line per failing channel with its last error."""
    if not data["channels_configured"] and not data["channels"]:
        return
    print(f"notifications: {data['pending']} pending, {data['sent']} sent, {data['failed']} failed"
          + (f", {data['unknown']} unknown (daemon stopped mid-send)" if data["unknown"] else ""))
    for c in data["channels"]:
        if c["failing"]:
            print(f"  {c['name']:<14} failing ({c['failures']} in a row): {c['last_error']}")
