"""`deskwatch simulate`: serve Zendesk-, Freshdesk- and Salesforce-compatible APIs on 127.0.0.1.

The real connectors talk to it unchanged through their ``base_url`` setting. It prints the
`[sources.*]` tables to paste into a config, then serves until interrupted.
"""

from __future__ import annotations

import argparse
import sys
import time

import tomli_w

from deskwatch.core import config
from deskwatch.core.simulator.runner import Simulator


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="run local simulated helpdesks for demos and tests", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", "-c", metavar="FILE", help="config file ([simulator] section)")
    p.add_argument("--duration", type=float, default=None, metavar="SECONDS", help="stop after this long")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = config.load(args.config)
    sim = Simulator(cfg.simulator).start()
    try:
        print("# Simulated helpdesks are up. Point deskwatch at them with:\n", flush=True)
        print(tomli_w.dumps({"sources": sim.sources_config()}), flush=True)
        print("# Ctrl-C stops the simulator.", file=sys.stderr, flush=True)
        deadline = time.monotonic() + args.duration if args.duration else None
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        counts = ", ".join(f"{k}: {v} requests" for k, v in sorted(sim.recorder.requests.items())) or "no requests"
        print(f"simulator stopped ({counts}; {len(sim.recorder.updates)} updates received)", file=sys.stderr)
    return 0
