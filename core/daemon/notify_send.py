"""Delivering queued notifications through Apprise, with retries, from the daemon.

Apprise is blocking, so each send runs in a worker thread, one at a time. A failed send is
retried with exponential backoff up to ``notify.max_attempts``; its error (with the URL's
secrets masked) is stored on the row and on the channel, which `deskwatch status` shows. One
channel failing never holds up another channel or the sync loops.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime, timedelta
from typing import Any, Callable

from deskwatch.core.daemon.notify import STOPPED_BY_ACK
from deskwatch.core.daemon.notify_config import NotifyConfig, load_plugin, redact

log = logging.getLogger("deskwatch.notify")

RETRY_BASE, RETRY_MAX = 30.0, 3600.0  # seconds
BATCH = 50  # notifications sent per pass before the loop yields
_send_lock = threading.Lock()  # the log capture below is per process: one send at a time


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def send(url: str, title: str, body: str) -> tuple[bool, str]:
    """Send one message to one Apprise URL: (delivered, error with the URL's secrets masked)."""
    import apprise

    with _send_lock:
        plugin = load_plugin(url)
        if plugin is None:
            return False, "not a URL Apprise can read"
        capture = _Capture()
        logger = logging.getLogger("apprise")
        logger.addHandler(capture)
        try:
            box = apprise.Apprise()
            box.add(plugin)
            ok = box.notify(body=body, title=title)
        except Exception as e:  # a plugin bug is this channel's failure, not the daemon's
            ok, capture.lines = False, [*capture.lines, f"{type(e).__name__}: {e}"]
        finally:
            logger.removeHandler(capture)
    if ok:
        return True, ""
    return False, redact(url, "; ".join(capture.lines[-3:]) or "not delivered")[:500]


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(RETRY_MAX, RETRY_BASE * 2 ** max(0, attempts - 1)))


async def deliver_due(store: Any, ncfg: NotifyConfig, clock: Callable[[], datetime], *,
                      sender: Callable[[str, str, str], tuple[bool, str]] = send, limit: int = BATCH,
                      holder: str | None = None) -> int:
    """Send the notifications that are due, up to ``limit``; returns how many were delivered.
    Each is claimed by ``holder`` (the daemon id) first, so a fleet sends it once."""
    delivered = 0
    for _ in range(limit):
        item = store.claim_notification(clock(), holder=holder)
        if item is None:
            break
        ack = store.ack_state(item.ticket_id)
        if item.event in STOPPED_BY_ACK and ack is not None and ack.acknowledged(clock()):
            store.cancel_notifications(item.ticket_id, STOPPED_BY_ACK, f"acknowledged by {ack.acknowledged_by}")
            continue
        channel = ncfg.channel(item.channel)
        if channel is None:
            store.notification_failed(item.key, item.channel, f"channel {item.channel} is no longer in [notify.channels]",
                                      clock(), None)
            continue
        ok, error = await asyncio.to_thread(sender, channel.url.reveal(), item.title, item.body)
        now = clock()
        if ok:
            store.notification_sent(item.key, item.channel, now)
            delivered += 1
            continue
        retry = None if item.attempts >= ncfg.max_attempts else now + backoff(item.attempts)
        store.notification_failed(item.key, item.channel, error, now, retry)
        log.warning("notification not delivered", extra={"channel": f"{item.channel} {channel.shown}",
                                                         "error": error, "ticket": item.ticket_id})
    return delivered


async def run(daemon: Any) -> None:
    """The daemon's delivery loop, next to its heartbeat; a last pass when it stops."""
    ncfg: NotifyConfig | None = getattr(daemon.config, "notify", None)
    if ncfg is None or not ncfg.channels:
        return
    holder = getattr(daemon, "daemon_id", None)
    daemon.store.settle_interrupted_notifications(holder)  # this daemon's own, from before a crash
    stopping = False
    while True:
        try:
            while await deliver_due(daemon.store, ncfg, daemon.clock, holder=holder) and not daemon.stopping.is_set():
                pass  # a full batch may leave more due
        except Exception:
            log.exception("notification delivery failed")
        if stopping:
            return
        stopping = await daemon.wait(ncfg.poll_interval)


async def finish(task: asyncio.Task, timeout: float) -> None:
    """Let the loop's last pass end within ``timeout`` seconds, then cancel it."""
    done, pending = await asyncio.wait({task}, timeout=timeout)
    for t in pending:
        t.cancel()
    await asyncio.gather(task, return_exceptions=True)
