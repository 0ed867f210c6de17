"""`deskwatch init [PATH]`: write a short starter config (or, with --full, every default spelled out)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import tomli_w

from deskwatch.core import config
from deskwatch.core.cli import UsageError

FULL_HEADER = """\
# deskwatch configuration, written by `deskwatch init --full`.
# Every key shows its default; delete what you do not change. Secrets: write "${ENV_VAR}".
# The commented reference is config.toml in the deskwatch repository and the README.

"""

# Everything commented: the file loads to the defaults until a helpdesk is uncommented.
STARTER = """\
# deskwatch configuration, written by `deskwatch init`.
# Only what you change goes here: everything else keeps its default (`deskwatch init --full`
# writes every key with its default; docs/ and config.toml in the repository explain them).
# Secrets: write "${ENV_VAR}"; they are never printed, logged or stored.
# Check the file with `deskwatch config check --config PATH`.

# Uncomment the helpdesks you use. write_back = false is shadow mode: deskwatch decides and
# records, and changes nothing in the helpdesk until you turn it on.

# [sources.zendesk]
# type = "zendesk"
# subdomain = "acme"              # or base_url = "https://acme.zendesk.com"
# email = "bot@acme.example"
# token = "${ZENDESK_TOKEN}"
# poll_interval = 60              # seconds between syncs
# write_back = false

# [sources.freshdesk]
# type = "freshdesk"
# domain = "acme"                 # acme.freshdesk.com
# api_key = "${FRESHDESK_API_KEY}"
# poll_interval = 60
# write_back = false

# [sources.salesforce]
# type = "salesforce"
# base_url = "https://acme.my.salesforce.com"
# client_id = "${SF_CLIENT_ID}"
# client_secret = "${SF_CLIENT_SECRET}"
# poll_interval = 60
# write_back = false

# Each connector's keys: docs/connectors/<type>.md.

# [store]
# path = "~/.local/share/deskwatch/deskwatch.db"  # the SQLite store the daemon writes and the console reads
# url = "postgresql://deskwatch:${DESKWATCH_PG_PASSWORD}@db.internal:5432/deskwatch"  # PostgreSQL instead (not with path)

# [tui]
# actor = ""                      # who console actions are recorded as (default: the local user)
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="write a starter config file", description=__doc__)
    p.add_argument("path", nargs="?", default="deskwatch.toml", help="where to write it (default: deskwatch.toml)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--full", action="store_true", help="write every key with its default (the complete reference)")
    p.set_defaults(func=run)


def full_text() -> str:
    """Every section with its defaults, empty tables dropped so the file reads as a starting point."""
    data = {k: v for k, v in config.default_data().items() if v not in ({}, [], None)}
    return FULL_HEADER + tomli_w.dumps(data)


def run(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if path.exists() and not args.force:
        raise UsageError(f"{path} already exists; pass --force to overwrite it or give another path")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(full_text() if args.full else STARTER, encoding="utf-8")
    config.load(path)  # what we write must load; fail here rather than at the user's first run
    print(f"wrote {path}" + ("" if args.full else "; uncomment a [sources.*] table to connect a helpdesk"), file=sys.stderr)
    return 0
