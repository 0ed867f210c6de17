"""`deskwatch status`: per-source sync health, outbox depth and daemon liveness, from the store.

With several daemons on one store it lists each daemon, its heartbeat, whether it is alive
(a heartbeat younger than three intervals) and the sources whose lease it holds."""

from __future__ import annotations

import argparse
import json
import re

from deskwatch.core import config
from deskwatch.core.daemon.failed_updates import failure_fix
from deskwatch.core.daemon.notify_status import notify_status, print_notify
from deskwatch.core.model.timeutil import format_time, utcnow


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="show sync health from the store", description=__doc__)
    p.add_argument("--config", "-c", metavar="FILE", help="config file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    s = int(seconds)
    return f"{s}s" if s < 120 else f"{s // 60}m" if s < 7200 else f"{s // 3600}h"


def as_dict(st, cfg, now=None, notifications=None) -> dict:
    now = now or utcnow()
    return {
        "daemon": {"alive": st.daemon.alive, "pid": st.daemon.pid,
                   "last_heartbeat": format_time(st.daemon.at) if st.daemon.at else None},
        "daemons": [_daemon(d, now) for d in st.daemons],
        "outbox": {"depth": st.outbox_depth, "failed": st.outbox_failed, "retrying": st.outbox_retrying,
                   "failures": [_failure(i) for i in st.failures]},
        "sources": [
            {"name": s.name, "configured": s.name in cfg.sources,
             "write_back": bool(cfg.sources[s.name].write_back) if s.name in cfg.sources else None,
             "last_success": format_time(s.last_success_at) if s.last_success_at else None,
             "lag_seconds": round(s.lag_seconds, 1) if s.lag_seconds is not None else None,
             "tickets": s.tickets_synced, "open_tickets": s.open_tickets, "outbox_depth": s.outbox_depth,
             "last_error": s.last_error, "rate_limit": dict(s.rate_limit) if s.rate_limit else None,
             "waiting": _waiting(s, now, st.daemon.alive),
             "held_by": next((d.id for d in st.daemons if s.name in d.sources), None)}
            for s in st.sources
        ],
        "notifications": notifications,
    }


def _daemon(d, now) -> dict:
    return {"id": d.id, "host": d.host, "pid": d.pid, "version": d.version, "alive": d.alive,
            "started_at": format_time(d.started_at), "last_heartbeat": format_time(d.heartbeat_at),
            "heartbeat_age_seconds": round(max(0.0, (now - d.heartbeat_at).total_seconds()), 1),
            "stopped_at": format_time(d.stopped_at) if d.stopped_at else None, "sources": list(d.sources)}


def _print_daemons(daemons: list[dict]) -> None:
    if not daemons:
        return  # no daemon has run on this store yet
    print(f"daemons: {sum(d['alive'] for d in daemons)} alive of {len(daemons)}")
    for d in daemons:
        state = "alive" if d["alive"] else "stopped" if d["stopped_at"] else "not heard from"
        holds = ", ".join(d["sources"]) or "no source"
        print(f"  {d['id']:<14} {state}, pid {d['pid']} on {d['host']}, heartbeat {_age(d['heartbeat_age_seconds'])} ago, "
              f"holds {holds}")


def _failure(item) -> dict:
    return {"ticket": item.ticket_id, "source": item.source, "key": item.key, "attempts": item.attempts,
            "error": item.error, "retry_at": format_time(item.retry_at) if item.retry_at else None,
            "final": item.retry_at is None, "fix": failure_fix(item.error or "")}


def _waiting(s, now, alive: bool) -> dict | None:
    """The request the source is waiting on; only while the daemon lives (a killed daemon
    leaves its last wait behind)."""
    seconds = s.waiting_seconds(now)
    if seconds is None or not alive:
        return None
    return {"endpoint": s.waiting_on, "since": format_time(s.waiting_since), "seconds": round(seconds, 1)}


def _last_sync(s: dict) -> str:
    if s["lag_seconds"] is None:
        return "never synced"
    return f"last sync {_age(s['lag_seconds'])} ago"


def _models(store) -> dict:
    from deskwatch.core.learn.load import load_active

    models, problems = load_active(store)
    return {"active": dict(models.versions) if models else {}, "problems": problems}


def run(args: argparse.Namespace) -> int:
    from deskwatch.core.store import open_store

    cfg = config.load(args.config)
    store = open_store(cfg)
    now = utcnow()
    try:
        st = store.status(now)
        notes = notify_status(store, cfg)  # each channel's last outcome, errors redacted
        data = as_dict(st, cfg, now, notes)
        data["models"] = _models(store)
    finally:
        store.close()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    d = data["daemon"]
    print(f"daemon: {'alive (pid ' + str(d['pid']) + ')' if d['alive'] else 'not running'}"
          f"{', last heartbeat ' + d['last_heartbeat'] if d['last_heartbeat'] else ''}")
    _print_daemons(data["daemons"])
    ob = data["outbox"]
    retrying = f" ({ob['retrying']} retrying after an error)" if ob["retrying"] else ""
    print(f"outbox: {ob['depth']} pending{retrying}, {ob['failed']} failed")
    for f in ob["failures"]:
        when = "gave up" if f["final"] else f"retry at {f['retry_at']}"
        print(f"  {f['ticket']:<14} {when} after {f['attempts']} attempt(s): {f['error']}")
        print(f"  {'':<14} fix: {f['fix']}")
    m = data["models"]
    if m["active"] or m["problems"]:
        print("models: " + (", ".join(f"{k} v{v}" for k, v in sorted(m["active"].items())) or "none active"))
        for p in m["problems"]:
            print(f"  does not load: {p}; the rules decide without it (deskwatch models rollback)")
    if not data["sources"]:
        print("no source has synced yet")
    for s in data["sources"]:
        mode = ("write-back" if s["write_back"] else "shadow") if s["configured"] else "not in this config"
        budget = ""
        if s["rate_limit"]:
            rl = s["rate_limit"]
            budget = f", budget {rl.get('remaining', '?')}/{rl.get('limit', '?')}"
        held = f", polled by {s['held_by']}" if s["held_by"] and len(data["daemons"]) > 1 else ""
        print(f"  {s['name']:<14} {_last_sync(s)}, {s['tickets']} tickets "
              f"({s['open_tickets']} open), outbox {s['outbox_depth']}, {mode}{budget}{held}")
        if s["waiting"]:
            print(f"  {'':<14} waiting on {s['waiting']['endpoint']} for {int(s['waiting']['seconds'])} s")
        if s["last_error"]:
            print(f"  {'':<14} last error: {s['last_error']}")
    print_notify(data["notifications"])
    return 0
