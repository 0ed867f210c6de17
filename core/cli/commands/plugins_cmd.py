"""`deskwatch plugins [--json]`: what is installed, what each plugin implements, what failed.
`deskwatch plugins new NAME [--dir DIR]`: write a connector package skeleton to start from."""

from __future__ import annotations

import argparse
import json
import sys

from deskwatch.core import config

from deskwatch.core.connect import plugins


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="list plugins, their hooks and load errors", description=__doc__)
    p.add_argument("action", nargs="?", choices=("list", "new"), default="list",
                   help="list (default), or new: write a connector package skeleton")
    p.add_argument("name", nargs="?", help="with new: the connector type's name, e.g. zammad")
    p.add_argument("--dir", default=".", help="with new: the folder to write the package into")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--config", "-c", metavar="FILE", help="apply this config's [plugins] block and strict settings")
    plugins.add_strict_flag(p)
    p.set_defaults(func=run)


def report(manager: plugins.PluginManager) -> dict:
    """The listing as data: plugins, connector types, blocked names and load errors."""
    types = manager.connector_types()  # collecting may itself record errors, so do it first
    return {
        "plugins": [p.as_dict() for p in manager.plugins()],
        "connector_types": {name: {"description": t.description} for name, t in sorted(types.items())},
        "blocked": sorted(manager.blocked),
        "errors": [
            {"name": e.name, "version": e.version, "stage": e.stage, "error": e.error} for e in manager.errors
        ],
    }


def run(args: argparse.Namespace) -> int:
    if args.action == "new":
        return new(args)
    # The config is read only when named: a broken config must not hide the plugin listing.
    cfg = config.load(args.config) if args.config else None
    manager = plugins.get_plugin_manager(cfg, strict=args.strict_plugins)
    data = report(manager)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        _print_table(data)
    if manager.strict and data["errors"]:
        manager.raise_if_errors()
    return 1 if data["errors"] else 0


def _print_table(data: dict) -> None:
    rows = [(p["name"], p["version"], ", ".join(h.removeprefix("deskwatch_") for h in p["hooks"]) or "-") for p in data["plugins"]]
    if rows:
        w0 = max(len("NAME"), *(len(r[0]) for r in rows))
        w1 = max(len("VERSION"), *(len(r[1]) for r in rows))
        print(f"{'NAME':<{w0}}  {'VERSION':<{w1}}  HOOKS")
        for name, version, hooks in rows:
            print(f"{name:<{w0}}  {version:<{w1}}  {hooks}")
    else:
        print("no plugins loaded")
    if data["connector_types"]:
        print(f"connector types: {', '.join(data['connector_types'])}")
    if data["blocked"]:
        print(f"blocked: {', '.join(data['blocked'])}")
    for e in data["errors"]:
        print(f"error: {e['name']} {e['version']}: {e['stage']}: {e['error']}", file=sys.stderr)


def new(args: argparse.Namespace) -> int:
    """Write deskwatch-NAME/ with the package, its entry point and a structural test."""
    from pathlib import Path

    from deskwatch.core.cli.commands import plugin_skeleton

    if not args.name:
        print("deskwatch plugins new: give the connector's name, e.g. deskwatch plugins new zammad", file=sys.stderr)
        return 2
    try:
        root = plugin_skeleton.write(args.name, Path(args.dir))
    except (ValueError, FileExistsError) as e:
        print(f"deskwatch plugins new: {e}", file=sys.stderr)
        return 2
    print(f"wrote {root}: pip install -e '{root}[test]' and run pytest there, then fill in the TODOs")
    return 0
