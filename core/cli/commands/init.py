"""`deskwatch init [PATH]`: write a starter config with every default spelled out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import tomli_w

from deskwatch.core import config
from deskwatch.core.cli import UsageError

HEADER = """\
# deskwatch configuration, written by `deskwatch init`.
# Every key shows its default; delete what you do not change. Secrets: write "${ENV_VAR}".
# The commented reference is config.toml in the deskwatch repository and the README.

"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="write a starter config file", description=__doc__)
    p.add_argument("path", nargs="?", default="deskwatch.toml", help="where to write it (default: deskwatch.toml)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if path.exists() and not args.force:
        raise UsageError(f"{path} already exists; pass --force to overwrite it or give another path")
    data = config.default_data()
    # Drop empty tables so the file reads as a starting point, not a dump.
    data = {k: v for k, v in data.items() if v not in ({}, [], None)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + tomli_w.dumps(data), encoding="utf-8")
    config.load(path)  # what we write must load; fail here rather than at the user's first run
    print(f"wrote {path}", file=sys.stderr)
    return 0
