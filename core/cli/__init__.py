"""The `deskwatch` command line: a thin shell over core operations.

Each command lives in its own module under ``deskwatch.core.cli.commands`` with a
``register(subparsers)`` function that adds its parser and sets ``func``; plugins add commands
through the ``deskwatch_register_commands`` hook. Exit codes: 0 success, 1 partial failure
(some input rejected, a source unreachable), 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from deskwatch.core.model.settings import ConfigError

COMMAND_MODULES = (
    "deskwatch.core.cli.commands.init",
    "deskwatch.core.cli.commands.config_check",
    "deskwatch.core.cli.commands.score",
    "deskwatch.core.cli.commands.plugins_cmd",
    "deskwatch.core.cli.commands.check",
    "deskwatch.core.cli.commands.simulate",
    "deskwatch.core.cli.commands.daemon",
    "deskwatch.core.cli.commands.status",
    "deskwatch.core.cli.commands.queue_cmd",
    "deskwatch.core.cli.commands.report",
    "deskwatch.core.cli.commands.replay",
    "deskwatch.core.cli.commands.demo",
    "deskwatch.core.cli.commands.tui_cmd",
    "deskwatch.core.cli.commands.serve_ssh",
    "deskwatch.core.cli.commands.similar",
    "deskwatch.core.cli.commands.brief",
    "deskwatch.core.cli.commands.learn",
    "deskwatch.core.cli.commands.models_cmd",
    "deskwatch.core.cli.commands.notify_cmd",
    "deskwatch.core.cli.commands.store_cmd",
)


class UsageError(Exception):
    """A user action that cannot be carried out; the message says what to do instead."""


def stored_ticket(store, ticket_id: str, cfg):
    """The stored ticket ``ticket_id``, or a UsageError saying what ids look like."""
    ticket = store.get_ticket(ticket_id)
    if ticket is None:
        raise UsageError(f"no ticket {ticket_id!r} in the store ({cfg.store.where}); ids look like zendesk:1001 "
                         "(see `deskwatch queue`)")
    return ticket


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deskwatch",
        description="Watch every helpdesk at once, decide what to escalate and where, and show why.",
    )
    parser.add_argument("--version", action="version", version=f"deskwatch {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    _plugin_commands(sub)
    return parser


def _plugin_commands(sub: argparse._SubParsersAction) -> None:
    try:
        from deskwatch.core.connect.plugins import get_plugin_manager
    except ImportError:
        return
    get_plugin_manager().hook.deskwatch_register_commands(subparsers=sub)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("deskwatch")
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    from deskwatch.core.store.migrations import StoreError  # light: no driver, no store opened

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ConfigError as e:
        print(f"deskwatch: configuration error: {e}", file=sys.stderr)
        return 2
    except UsageError as e:
        print(f"deskwatch: {e}", file=sys.stderr)
        return 2
    except StoreError as e:  # the message names the store (password hidden) and the fix
        print(f"deskwatch: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `deskwatch queue | head` closing the pipe early is not an error.
        sys.stderr.close()
        return 0

