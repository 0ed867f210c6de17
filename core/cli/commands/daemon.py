"""`deskwatch daemon`: sync every configured helpdesk, decide, and write back.

Write-back is off per source until `write_back = true`: until then the daemon records what it
would do (shadow mode). SIGTERM or Ctrl-C stops it cleanly; a killed daemon resumes from its
bookmarks.
"""

from __future__ import annotations

import argparse
import asyncio

from deskwatch.core import config

from deskwatch.core.daemon import logs
from deskwatch.core.cli import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("daemon", help="sync helpdesks, decide and write back (headless)", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", "-c", metavar="FILE", help="config file (default: $DESKWATCH_CONFIG or built-in defaults)")
    p.add_argument("--once", action="store_true", help="one sync cycle per source, then exit (exit 1 if any failed)")
    p.add_argument("--log-format", choices=("text", "json"), help="log format (default: daemon.log_format)")
    p.add_argument("--strict-plugins", action="store_true", help="fail if any plugin cannot be loaded")
    p.set_defaults(func=run)


def build(cfg: config.Config, *, strict: bool = False):
    """The store and one connector per enabled source; raises ConfigError/UsageError with the fix."""
    from deskwatch.core.connect import plugins
    from deskwatch.core.store import open_store

    plugins.get_plugin_manager(cfg, strict=strict or None)
    plugins.validate_sources(cfg)
    enabled = {n: s for n, s in cfg.sources.items() if s.enabled}
    if not enabled:
        raise UsageError(f"{cfg.file}: no enabled [sources.<name>] in the config; add one (see `deskwatch init`) "
                         "or try `deskwatch demo`")
    connectors = {n: plugins.build_connector(s) for n, s in enabled.items()}
    return open_store(cfg), connectors


def run(args: argparse.Namespace) -> int:
    from deskwatch.core.connect import plugins
    from deskwatch.core.daemon.sync import Daemon

    cfg = config.load(args.config)
    logs.setup(args.log_format or cfg.daemon.log_format, cfg.daemon.log_level)
    store, connectors = build(cfg, strict=args.strict_plugins)
    plugins.startup(cfg)
    try:
        report = asyncio.run(Daemon(cfg, store, connectors).run(once=args.once))
    finally:
        plugins.shutdown()
        store.close()
    return 1 if args.once and report.errors else 0
