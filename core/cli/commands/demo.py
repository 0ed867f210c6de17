"""`deskwatch demo`: the whole system on your machine, no account or config needed.

Starts the helpdesk simulator (Zendesk, Freshdesk and Salesforce on 127.0.0.1), the daemon with
write-back on against it, and the console, all on a temporary store that is deleted on exit.
With --headless (or no terminal) it prints the live queue instead of opening the console.

The demo takes everything but [sources] and [store] from $DESKWATCH_CONFIG when it is set (your
routing, weights, console keys...). With --keep DIR the store and the config the demo used stay
in DIR: `deskwatch tui --config DIR/config.toml` opens a second console on the running demo.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from deskwatch.core import config

from deskwatch.core.daemon import logs
from deskwatch.core.model.timeutil import utcnow


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run simulator + daemon + console together (no setup needed)", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--headless", action="store_true", help="print the live queue instead of opening the console")
    p.add_argument("--duration", type=float, default=None, metavar="SECONDS", help="stop after this long (headless)")
    p.add_argument("--seed", type=int, default=None, help="simulator seed (default from config)")
    p.add_argument("--keep", metavar="DIR", help="keep the store and config in DIR instead of a temporary folder")
    p.set_defaults(func=run)


CONFIG_NAME = "config.toml"
OWN = ("sources", "store")  # the demo's own: the simulator's helpdesks and a store of its own


def user_data() -> dict:
    """The TOML data of $DESKWATCH_CONFIG without its [sources] and [store] ({} when unset)."""
    import os

    chosen = os.environ.get(config.ENV_CONFIG)
    if not chosen:
        return {}
    return {k: v for k, v in config.read_toml(Path(chosen)).items() if k not in OWN}


def demo_data(sim, folder: Path, user: dict | None = None) -> dict:
    """The demo's config as TOML data: defaults, the user's settings, the simulator's sources."""
    data = config.merge(config.default_data(), user or {})
    data["store"] = {**data.get("store", {}), "path": str(folder / "deskwatch.db")}
    data["sources"] = sim.sources_config(write_back=True, poll_interval=2.0)
    data["daemon"]["heartbeat_interval"] = 1.0
    return data


def demo_config(sim, folder: Path, user: dict | None = None) -> config.Config:
    return config.parse_data(demo_data(sim, folder, user), str(folder / CONFIG_NAME))


def write_config(data: dict, folder: Path) -> Path:
    """Write the demo's config into ``folder`` so another console (or `deskwatch queue`) can use it."""
    import tomli_w

    path = folder / CONFIG_NAME
    path.write_text("# written by `deskwatch demo --keep`: the simulator's sources and the demo's store\n"
                    + tomli_w.dumps(data), encoding="utf-8")
    return path


class DaemonThread(threading.Thread):
    """The daemon on its own event loop, so the console can own the main thread."""

    def __init__(self, cfg: config.Config):
        super().__init__(name="deskwatch-daemon", daemon=True)
        self.cfg = cfg
        self.loop: asyncio.AbstractEventLoop | None = None
        self.daemon_obj = None
        self.error: BaseException | None = None
        self.ready = threading.Event()

    def run(self) -> None:
        from deskwatch.core.cli.commands.daemon import build
        from deskwatch.core.daemon.sync import Daemon

        try:
            store, connectors = build(self.cfg)
            self.loop = asyncio.new_event_loop()
            self.daemon_obj = Daemon(self.cfg, store, connectors)
            self.ready.set()
            self.loop.run_until_complete(self.daemon_obj.run())
            store.close()
        except BaseException as e:  # surfaced by the main thread
            self.error = e
            self.ready.set()

    def stop(self, timeout: float = 15.0) -> None:
        if self.loop is not None and self.daemon_obj is not None and self.is_alive():
            self.loop.call_soon_threadsafe(self.daemon_obj.request_stop)
        self.join(timeout)


def run(args: argparse.Namespace) -> int:
    from deskwatch.core.simulator.runner import Simulator

    base = config.load(None)  # $DESKWATCH_CONFIG's [simulator] and the rest, checked before anything starts
    user = user_data()
    sim_cfg = base.simulator
    if args.seed is not None:
        from dataclasses import replace

        sim_cfg = replace(sim_cfg, seed=args.seed)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="deskwatch-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    sim = Simulator(sim_cfg).start()
    headless = args.headless or not sys.stdout.isatty()
    # In the console the log would scribble over the screen; keep it in a file there.
    log_stream = sys.stderr if headless else open(folder / "daemon.log", "a", encoding="utf-8")
    logs.setup("text", "info", stream=log_stream)
    data = demo_data(sim, folder, user)
    cfg = config.parse_data(data, str(folder / CONFIG_NAME))
    print(f"demo store: {cfg.store.path}" + ("" if args.keep else " (deleted on exit; --keep DIR keeps it)"), file=sys.stderr)
    if args.keep:
        path = write_config(data, folder)
        print(f"demo config: {path}; a second console: deskwatch tui --config {path}", file=sys.stderr)
    worker = DaemonThread(cfg)
    worker.start()
    worker.ready.wait(30)
    if worker.error is not None:
        sim.stop()
        raise worker.error
    try:
        if headless:
            _print_queue_until(cfg, args.duration)
        else:
            from deskwatch.tui.app import run_console

            run_console(cfg, actor="demo")
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
        sim.stop()
        _summary(cfg, sim)
        if log_stream is not sys.stderr:
            log_stream.close()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept in {folder}: the store and {CONFIG_NAME} (`deskwatch queue --config {folder / CONFIG_NAME}`)", file=sys.stderr)
    return 0


def _print_queue_until(cfg: config.Config, duration: float | None) -> None:
    from deskwatch.core.cli.commands.queue_cmd import format_rows
    from deskwatch.core.store import open_store

    store = open_store(cfg)
    deadline = time.monotonic() + duration if duration else None
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(min(3.0, max(0.1, (deadline - time.monotonic()) if deadline else 3.0)))
            now = utcnow()
            rows = store.queue(limit=15, now=now)
            st = store.status(now)
            print(f"\n--- {now:%H:%M:%S} UTC · {store.ticket_count(open_only=True)} open tickets · "
                  f"outbox {st.outbox_depth} pending · " + ", ".join(
                      f"{s.name}: {s.tickets_synced}" for s in st.sources), flush=True)
            print(format_rows(rows, now), flush=True)
    finally:
        store.close()


def _summary(cfg: config.Config, sim) -> None:
    from deskwatch.core.daemon.handoffs import count_handoffs
    from deskwatch.core.store import open_store

    store = open_store(cfg)
    try:
        st = store.status(utcnow())
        synced = sum(s.tickets_synced for s in st.sources)
        updates = sim.recorder.updates
        print(f"demo finished: {synced} tickets synced from {len(st.sources)} helpdesks, "
              f"{len(updates)} updates written back, {st.outbox_depth} still pending", file=sys.stderr)
        # deskwatch must not react to its own write-back (core/daemon/writeback.py): a second
        # handoff note for a ticket needs something new, and this line shows when it had none.
        handoffs = count_handoffs(store)
        print(handoffs.summary(), file=sys.stderr)
        for tid, at in handoffs.repeated[:10]:
            print(f"  {tid}: another handoff note at {at:%H:%M:%S} UTC without new information", file=sys.stderr)
    finally:
        store.close()
