"""Sync health per source and the daemon heartbeat, for ``deskwatch status`` and the console."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from deskwatch.core.store.base import StoreBase, dumps, from_ts, ts


FAILURES_SHOWN = 20  # failed outbox items `deskwatch status` lists


@dataclass(frozen=True)
class SourceStatus:
    name: str
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    tickets_synced: int
    open_tickets: int
    rate_limit: Mapping[str, Any] | None  # what the connector reported, e.g. {"remaining": 80, "limit": 100}
    outbox_depth: int
    lag_seconds: float | None  # now - last successful sync
    waiting_on: str | None = None  # "GET /api/v2/tickets" while a request is outstanding
    waiting_since: datetime | None = None

    def waiting_seconds(self, now: datetime) -> float | None:
        """How long the source has waited on ``waiting_on``, or None when it is not waiting."""
        if self.waiting_on is None or self.waiting_since is None:
            return None
        return max(0.0, (now - self.waiting_since).total_seconds())

    @property
    def healthy(self) -> bool:
        """No error since the last successful sync."""
        if self.last_error_at is None:
            return True
        return self.last_success_at is not None and self.last_success_at >= self.last_error_at


@dataclass(frozen=True)
class DaemonStatus:
    pid: int | None
    at: datetime | None
    interval: float | None
    alive: bool


@dataclass(frozen=True)
class StoreStatus:
    sources: tuple[SourceStatus, ...]
    outbox_depth: int
    outbox_failed: int
    daemon: DaemonStatus
    outbox_retrying: int = 0  # part of outbox_depth: failed once, tried again later
    failures: tuple[Any, ...] = ()  # OutboxItem: the newest failed items, with their errors
    daemons: tuple[Any, ...] = ()  # fleet.DaemonRow: every daemon, its heartbeat and the sources it holds


class StatusMixin(StoreBase):
    def _source_row(self, conn, name: str) -> None:
        conn.execute("INSERT INTO sources (name) VALUES (?) ON CONFLICT(name) DO NOTHING", (name,))

    def record_sync_ok(self, source: str, now: datetime) -> None:
        """A sync of ``source`` finished (or made progress) at ``now``."""
        with self._tx() as conn:
            self._source_row(conn, source)
            conn.execute("UPDATE sources SET last_success_at = ? WHERE name = ?", (ts(now), source))

    def record_sync_error(self, source: str, error: str, now: datetime) -> None:
        """Remember the last error of ``source`` (already redacted by the caller: no secrets)."""
        with self._tx() as conn:
            self._source_row(conn, source)
            conn.execute("UPDATE sources SET last_error = ?, last_error_at = ? WHERE name = ?", (error, ts(now), source))

    def record_rate_limit(self, source: str, budget: Mapping[str, Any], now: datetime) -> None:
        """The rate-limit budget the connector last saw (a small JSON object)."""
        with self._tx() as conn:
            self._source_row(conn, source)
            conn.execute("UPDATE sources SET rate_limit = ?, rate_limit_at = ? WHERE name = ?", (dumps(dict(budget)), ts(now), source))

    def record_waiting(self, source: str, endpoint: str | None, since: datetime | None) -> None:
        """The request ``source`` is waiting on since ``since`` (None: none); the daemon sets it
        while a request is outstanding so a hanging helpdesk shows in ``deskwatch status``."""
        with self._tx() as conn:
            self._source_row(conn, source)
            conn.execute("UPDATE sources SET waiting_on = ?, waiting_since = ? WHERE name = ?",
                         (endpoint, ts(since) if since is not None and endpoint else None, source))

    def heartbeat(self, pid: int, now: datetime, interval: float) -> None:
        """The daemon is alive at ``now`` and beats every ``interval`` seconds."""
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO heartbeat (id, pid, at, interval) VALUES (1, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, at = excluded.at, interval = excluded.interval",
                (pid, ts(now), interval),
            )

    def heartbeat_stopped(self, now: datetime, pid: int | None = None) -> None:
        """The daemon exited cleanly at ``now``: no longer alive, without waiting for the
        heartbeat to age out. With ``pid``, only when that daemon wrote the last beat (another
        daemon of the fleet may still be running)."""
        with self._tx() as conn:
            conn.execute("UPDATE heartbeat SET pid = 0, at = ? WHERE id = 1" + (" AND pid = ?" if pid is not None else ""),
                         (ts(now), pid) if pid is not None else (ts(now),))  # 0: stopped

    def status(self, now: datetime) -> StoreStatus:
        """Per-source sync health, outbox depth and daemon liveness (a heartbeat younger than
        three intervals)."""
        open_by = dict(self._q("SELECT source, COUNT(*) FROM tickets WHERE is_open = 1 GROUP BY source"))
        sources = []
        for r in self._q("SELECT * FROM sources ORDER BY name"):
            last = from_ts(r["last_success_at"])
            sources.append(
                SourceStatus(
                    name=r["name"], last_success_at=last, last_error=r["last_error"], last_error_at=from_ts(r["last_error_at"]),
                    tickets_synced=r["tickets_synced"], open_tickets=open_by.get(r["name"], 0),
                    rate_limit=json.loads(r["rate_limit"]) if r["rate_limit"] else None,
                    outbox_depth=self.outbox_depth(r["name"]),  # type: ignore[attr-defined]
                    lag_seconds=(now - last).total_seconds() if last else None,
                    waiting_on=r["waiting_on"], waiting_since=from_ts(r["waiting_since"]),
                )
            )
        hb = self._q("SELECT pid, at, interval FROM heartbeat WHERE id = 1")
        if hb:
            at = from_ts(hb[0]["at"])
            alive = bool(hb[0]["pid"]) and at is not None and (now - at).total_seconds() < 3 * hb[0]["interval"]
            daemon = DaemonStatus(hb[0]["pid"] or None, at, hb[0]["interval"], alive)
        else:
            daemon = DaemonStatus(None, None, None, False)
        fleet = tuple(self.daemons(now))  # type: ignore[attr-defined]
        live = sorted((d for d in fleet if d.alive), key=lambda d: d.heartbeat_at, reverse=True)
        if live and not daemon.alive:
            # Several daemons share the one heartbeat row: one stopping must not hide the others.
            daemon = DaemonStatus(live[0].pid, live[0].heartbeat_at, live[0].interval, True)
        return StoreStatus(
            sources=tuple(sources),
            outbox_depth=self.outbox_depth(),  # type: ignore[attr-defined]
            outbox_failed=self.outbox_failed(),  # type: ignore[attr-defined]
            daemon=daemon,
            outbox_retrying=self.outbox_retrying(),  # type: ignore[attr-defined]
            failures=tuple(self.outbox_failures(limit=FAILURES_SHOWN)),  # type: ignore[attr-defined]
            daemons=fleet,
        )
