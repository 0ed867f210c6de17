"""`deskwatch notify test TARGET`: send a test message and say whether it was delivered.

TARGET is a name under [notify.channels] (a team, rotation or person; every URL under it is
tried), one channel such as "Engineering[0]", or an Apprise URL. URLs are shown with their
secrets masked. Exit 0 when every message was delivered, 1 when one was not.
"""

from __future__ import annotations

import argparse

from deskwatch.core import config
from deskwatch.core.cli import UsageError

TITLE = "[deskwatch] test notification"
BODY = ("A test from `deskwatch notify test`: this channel reaches you. Pages and escalation steps "
        "will arrive here with the ticket, the ask, why, where it is routed and how to acknowledge.")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("notify", help="notifications to people", description="Notifications to people (docs/notify.md).")
    nsub = p.add_subparsers(dest="notify_command", metavar="ACTION", required=True)
    t = nsub.add_parser("test", help="send a test message to a channel", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("target", metavar="TARGET", help="a team, rotation or person in [notify.channels], or an Apprise URL")
    t.add_argument("--config", "-c", metavar="FILE", help="config file (default: $DESKWATCH_CONFIG or built-in defaults)")
    t.set_defaults(func=run)


def targets(cfg: config.Config, target: str) -> list[tuple[str, str]]:
    """(label, url) for each channel ``target`` names; UsageError when it names none."""
    from deskwatch.core.daemon.notify_config import load_plugin, shown

    if "://" in target:
        if load_plugin(target) is None:
            scheme = target.split("://", 1)[0][:20]
            raise UsageError(f'not a URL Apprise can read (scheme "{scheme}"); '
                             "see https://github.com/caronc/apprise/wiki for each service's URL form")
        return [(shown(target), target)]
    ncfg = cfg.notify
    one = ncfg.channel(target)
    channels = (one,) if one is not None else ncfg.named(target)
    if not channels:
        known = ", ".join(sorted({c.name for c in ncfg.channels})) or "none"
        raise UsageError(f"no channel named {target!r} in [notify.channels] of {cfg.file} (configured: {known}); "
                         "add one, or give an Apprise URL")
    return [(f"{c.id} {c.shown}", c.url.reveal()) for c in channels]


def run(args: argparse.Namespace) -> int:
    from deskwatch.core.daemon.notify_send import send

    cfg = config.load(args.config)
    failed = 0
    for label, url in targets(cfg, args.target):
        ok, error = send(url, TITLE, BODY)
        print(f"{label}: {'delivered' if ok else 'not delivered: ' + error}")
        failed += not ok
    return 1 if failed else 0
