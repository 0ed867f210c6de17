"""`deskwatch config check`: validate the configuration without running anything."""

from __future__ import annotations

import argparse
import sys

from deskwatch.core import config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="inspect the configuration", description="Inspect the configuration.")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    c = csub.add_parser("check", help="validate the config file and exit", description=__doc__)
    c.add_argument("--config", "-c", metavar="FILE", help="config file (default: $DESKWATCH_CONFIG or built-in defaults)")
    c.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = config.load(args.config)
    validators = []
    try:
        from deskwatch.core.connect.plugins import validate_sources
    except ImportError:
        validate_sources = None
    if validate_sources is not None:
        validators.append(validate_sources)
    validators.append(_console_keys)
    for check in validators:
        check(cfg)
    sources = cfg.sources
    print(f"{cfg.file}: ok ({len(sources)} source{'s' if len(sources) != 1 else ''} configured)")
    for problem in model_problems(cfg):
        print(f"warning: {problem}; the engine decides by the rules without it "
              "(fix: `deskwatch models rollback` or train again with `deskwatch learn`)", file=sys.stderr)
    return 0


def model_problems(cfg: config.Config) -> list[str]:
    """Active learned models in the configured store that do not load."""
    from pathlib import Path

    if not Path(cfg.store.path).expanduser().exists():
        return []
    from deskwatch.core.learn.load import load_active
    from deskwatch.core.store import open_store

    store = open_store(cfg)
    try:
        return load_active(store)[1]
    finally:
        store.close()


def _console_keys(cfg: config.Config) -> None:
    # The action ids live with the console's screens, so the console checks [tui.keys]; asking
    # it here finds a typo before an engineer opens the console at 3 a.m.
    if cfg.tui.keys:
        from deskwatch.tui.keymap import check

        check(dict(cfg.tui.keys), cfg.file)
