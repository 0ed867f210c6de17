"""Several daemons on one store: who is running, which source each polls, and claims.

- ``daemons``: one row per ``[daemon] id`` with its host, pid, version and heartbeat. A daemon is
  alive while its heartbeat is younger than three of its intervals and it has not stopped.
- ``source_leases``: who polls a source, until when. Taking or renewing a lease is one
  conditional upsert (free, expired, or already ours), so two daemons can never both hold it.
- ``lease_holds``: each hold from taking to letting go (or expiry, for a killed holder), kept so
  `deskwatch status` and the fleet test can show one daemon at a time per source.

Times are the daemons' clocks, as UTC text like everywhere in the store but to the millisecond
(``ms``: a lease of a few seconds cannot be rounded to whole ones), always in that one form so
text order stays time order. Hosts must keep their clocks in step (NTP) to well within a lease
period. The claim helpers for outbox items,
notifications and chain timers live with their tables and share ``skip_locked`` below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from deskwatch.core.store.base import StoreBase, from_ts
from deskwatch.core.store.migrations import StoreError

LIVENESS_BEATS = 3  # a heartbeat older than this many intervals means the daemon is gone
HOLDS_KEPT = timedelta(days=7)


class DaemonIdInUse(StoreError):
    """Another running daemon already uses this ``[daemon] id``."""


def ms(dt: datetime) -> str:
    """UTC text to the millisecond (``2026-03-02T09:00:00.250Z``), for the fleet's tables."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def skip_locked(store: object) -> str:
    """What a claiming SELECT ends with: `` FOR UPDATE SKIP LOCKED`` on PostgreSQL (rows
    another daemon is claiming are passed over, not waited for), nothing on SQLite (a write
    transaction already holds the whole file)."""
    dialect = getattr(store, "dialect", None)
    return getattr(dialect, "skip_locked", "") if dialect is not None else ""


@dataclass(frozen=True)
class DaemonRow:
    id: str
    host: str
    pid: int
    version: str
    started_at: datetime
    heartbeat_at: datetime
    interval: float
    stopped_at: datetime | None
    alive: bool
    sources: tuple[str, ...]  # the sources whose lease it holds now


@dataclass(frozen=True)
class Lease:
    source: str
    holder: str
    taken_at: datetime
    renewed_at: datetime
    expires_at: datetime

    def held(self, now: datetime) -> bool:
        return self.expires_at > now


@dataclass(frozen=True)
class Hold:
    """One daemon's hold of one source's lease: from ``taken_at`` until ``ended_at`` (let go),
    or at the latest ``expires_at`` (its holder stopped renewing, say it was killed)."""

    source: str
    holder: str
    taken_at: datetime
    renewed_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    how: str | None  # released | lost | None (still held, or the holder died)

    @property
    def end(self) -> datetime:
        return min(self.ended_at, self.expires_at) if self.ended_at else self.expires_at


def _alive(r, now: datetime) -> bool:
    beat = from_ts(r["heartbeat_at"])
    return r["stopped_at"] is None and beat is not None and (now - beat).total_seconds() < LIVENESS_BEATS * r["beat_seconds"]


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


class FleetMixin(StoreBase):
    # -- daemons ----------------------------------------------------------------------------
    def register_daemon(self, daemon_id: str, host: str, pid: int, version: str, now: datetime, interval: float) -> None:
        """Record that daemon ``daemon_id`` starts now. Refuses (``DaemonIdInUse``) when a live
        daemon on another host, or another running process on this host, has the same id: two
        daemons sharing an id would both think they hold its leases. A restart on the same host
        (the old process is gone) takes the id over."""
        with self._tx() as conn:
            r = conn.execute("SELECT * FROM daemons WHERE id = ?", (daemon_id,)).fetchone()
            if r is not None and _alive(r, now) and (r["host"] != host or (r["pid"] != pid and _pid_running(r["pid"]))):
                age = (now - from_ts(r["heartbeat_at"])).total_seconds()
                raise DaemonIdInUse(
                    f"daemon id {daemon_id!r} is in use by a running daemon (pid {r['pid']} on {r['host']}, heartbeat "
                    f"{age:.0f} s ago); give each daemon its own [daemon] id, or stop the other one first")
            conn.execute(
                "INSERT INTO daemons (id, host, pid, version, started_at, heartbeat_at, beat_seconds, stopped_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, NULL) ON CONFLICT(id) DO UPDATE SET host = excluded.host, pid = excluded.pid, "
                "version = excluded.version, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, "
                "beat_seconds = excluded.beat_seconds, stopped_at = NULL",
                (daemon_id, host, pid, version, ms(now), ms(now), interval),
            )
            # History older than a week goes, and so do daemons not heard from for that long (a
            # container that got a new host name each restart would otherwise pile up in status).
            conn.execute("DELETE FROM lease_holds WHERE expires_at < ?", (ms(now - HOLDS_KEPT),))
            conn.execute("DELETE FROM daemons WHERE heartbeat_at < ? AND id <> ?", (ms(now - HOLDS_KEPT), daemon_id))

    def daemon_beat(self, daemon_id: str, pid: int, now: datetime) -> bool:
        """Heartbeat of ``daemon_id``; False when the row names another process now (a second
        daemon took the id over), so this one must stop polling."""
        with self._tx() as conn:
            cur = conn.execute("UPDATE daemons SET heartbeat_at = ?, stopped_at = NULL WHERE id = ? AND pid = ?",
                               (ms(now), daemon_id, pid))
            return cur.rowcount == 1

    def daemon_stopped(self, daemon_id: str, pid: int, now: datetime) -> None:
        """``daemon_id`` exited cleanly: not alive any more, without waiting for its heartbeat to age."""
        with self._tx() as conn:
            conn.execute("UPDATE daemons SET stopped_at = ?, heartbeat_at = ? WHERE id = ? AND pid = ?",
                         (ms(now), ms(now), daemon_id, pid))

    def daemons(self, now: datetime) -> list[DaemonRow]:
        """Every daemon that has run on this store, with its liveness and the sources it holds."""
        held: dict[str, list[str]] = {}
        for lease in self.leases():
            if lease.held(now):
                held.setdefault(lease.holder, []).append(lease.source)
        return [
            DaemonRow(r["id"], r["host"], r["pid"], r["version"], from_ts(r["started_at"]), from_ts(r["heartbeat_at"]),
                      r["beat_seconds"], from_ts(r["stopped_at"]), _alive(r, now), tuple(sorted(held.get(r["id"], ()))))
            for r in self._q("SELECT * FROM daemons ORDER BY id")
        ]

    def alive_daemons(self, now: datetime) -> int:
        """How many daemons are alive at ``now`` (for each one's fair share of the sources)."""
        return sum(1 for r in self._q("SELECT heartbeat_at, beat_seconds, stopped_at FROM daemons") if _alive(r, now))

    # -- leases -----------------------------------------------------------------------------
    def take_lease(self, source: str, holder: str, now: datetime, seconds: float) -> bool:
        """Take or renew the lease on ``source`` for ``holder`` until ``now + seconds``, in one
        conditional upsert: it succeeds only when the lease is free, expired, or already
        ``holder``'s. True when ``holder`` holds it now."""
        expires = ms(now + timedelta(seconds=seconds))
        with self._tx() as conn:
            row = conn.execute(
                "INSERT INTO source_leases (source, holder, taken_at, renewed_at, expires_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(source) DO UPDATE SET holder = excluded.holder, renewed_at = excluded.renewed_at, "
                "expires_at = excluded.expires_at, taken_at = CASE WHEN source_leases.holder = excluded.holder "
                "AND source_leases.expires_at > excluded.renewed_at THEN source_leases.taken_at ELSE excluded.taken_at END "
                "WHERE source_leases.holder = excluded.holder OR source_leases.expires_at <= excluded.renewed_at "
                "RETURNING taken_at",
                (source, holder, ms(now), ms(now), expires),
            ).fetchone()
            if row is None:
                return False
            # The hold's history: a new row when taken, its expiry moved on when renewed.
            conn.execute(
                "INSERT INTO lease_holds (source, holder, taken_at, renewed_at, expires_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(source, taken_at, holder) DO UPDATE SET renewed_at = excluded.renewed_at, "
                "expires_at = excluded.expires_at",
                (source, holder, row[0], ms(now), expires),
            )
            return True

    def release_lease(self, source: str, holder: str, now: datetime, how: str = "released") -> bool:
        """``holder`` lets go of ``source`` (stopping, or leaving it to a daemon with fewer):
        the lease is free at once. Does nothing to a lease someone else holds."""
        with self._tx() as conn:
            row = conn.execute("DELETE FROM source_leases WHERE source = ? AND holder = ? RETURNING taken_at",
                               (source, holder)).fetchone()
            if row is None:
                return False
            conn.execute("UPDATE lease_holds SET ended_at = ?, how = ? WHERE source = ? AND holder = ? AND taken_at = ? "
                         "AND ended_at IS NULL", (ms(now), how, source, holder, row[0]))
            return True

    def note_lease_lost(self, source: str, holder: str, now: datetime) -> None:
        """``holder`` stopped polling ``source`` at ``now`` because it could not renew."""
        with self._tx() as conn:
            conn.execute("UPDATE lease_holds SET ended_at = ?, how = 'lost' WHERE source = ? AND holder = ? "
                         "AND ended_at IS NULL", (ms(now), source, holder))

    def leases(self) -> list[Lease]:
        return [Lease(r["source"], r["holder"], from_ts(r["taken_at"]), from_ts(r["renewed_at"]), from_ts(r["expires_at"]))
                for r in self._q("SELECT * FROM source_leases ORDER BY source")]

    def lease_holds(self, source: str | None = None) -> list[Hold]:
        """Every recorded hold (of ``source``), oldest first."""
        sql = "SELECT * FROM lease_holds" + (" WHERE source = ?" if source else "") + " ORDER BY source, taken_at, holder"
        return [Hold(r["source"], r["holder"], from_ts(r["taken_at"]), from_ts(r["renewed_at"]), from_ts(r["expires_at"]),
                     from_ts(r["ended_at"]), r["how"])
                for r in self._q(sql, (source,) if source else ())]
