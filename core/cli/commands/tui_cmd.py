"""`deskwatch tui`: the console for on-call engineers.

    deskwatch tui [--config FILE] [--actor NAME] [--mouse]

Reads the shared store (``store.path``) that the daemon fills; several consoles can run at once.
The console never calls a helpdesk: actions are recorded in the store and sent by the daemon
through the outbox when the source has write-back on. Actions are recorded as ``--actor``, else
$DESKWATCH_ACTOR (set by ``deskwatch serve-ssh``), else ``tui.actor``, else the local user.
"""

from __future__ import annotations

import argparse
import sys

from deskwatch.core import config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tui", help="the console: queue, ticket detail, actions, review, overview",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", "-c", metavar="FILE", help="config file (default: $DESKWATCH_CONFIG or built-in defaults)")
    p.add_argument("--actor", metavar="NAME", help="who the actions are recorded as (default: the local user)")
    p.add_argument("--mouse", action="store_true", help="enable the mouse (off by default: cheaper over SSH)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from deskwatch.core.cli import UsageError
    from deskwatch.core.store import StoreError

    cfg = config.load(args.config)
    if not sys.stdout.isatty() and not sys.stderr.isatty():
        raise UsageError("the console needs a terminal; run it in one (over SSH: ssh -t, or use deskwatch serve-ssh)")
    from deskwatch.tui.app import run_console
    from deskwatch.tui.context import resolve_actor

    if not resolve_actor(args.actor, cfg.tui.actor):
        raise UsageError("no actor: pass --actor NAME or set tui.actor in the config")
    try:
        return run_console(cfg, args.actor, mouse=args.mouse)
    except StoreError as e:
        raise UsageError(str(e)) from None
