"""`deskwatch config check`: validate the configuration without running anything.

Every problem is listed in one run (one line each, naming the file and the key), then the exit
code is 2 if there was any. A secret whose ``${ENV_VAR}`` is not set is a warning here (the
check may run on another machine than the daemon), and an error when the daemon starts.
"""

from __future__ import annotations

import argparse
import sys

from deskwatch.core import config
from deskwatch.core.model.settings import ConfigError, ConfigReport


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="inspect the configuration", description="Inspect the configuration.")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    c = csub.add_parser("check", help="validate the config file and exit", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("--config", "-c", metavar="FILE", help="config file (default: $DESKWATCH_CONFIG or built-in defaults)")
    c.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = config.check(args.config)
    cfg, report = result.config, result.report
    if cfg is not None:
        for check in (_sources, _analyzer, _console_keys):
            try:
                check(cfg, report)
            except ConfigError as e:
                report.add(e)
    for warning in report.warnings:
        print(f"deskwatch: warning: {warning}", file=sys.stderr)
    for error in report.errors:
        print(f"deskwatch: configuration error: {error}", file=sys.stderr)
    if report.errors:
        n = len(report.errors)
        print(f"deskwatch: {n} error{'s' if n != 1 else ''} in {cfg.file if cfg else args.config or 'the config'}",
              file=sys.stderr)
        return 2
    assert cfg is not None
    sources = cfg.sources
    print(f"{cfg.file}: ok ({len(sources)} source{'s' if len(sources) != 1 else ''} configured)")
    for problem in model_problems(cfg):
        print(f"deskwatch: warning: {problem}; the engine decides by the rules without it "
              "(fix: `deskwatch models rollback` or train again with `deskwatch learn`)", file=sys.stderr)
    return 0


def _sources(cfg: config.Config, report: ConfigReport) -> None:
    """Each source's type is installed and its settings parse; one source's error does not
    hide the next one's."""
    try:
        from deskwatch.core.connect.plugins import get_plugin_manager
    except ImportError:
        return
    manager = get_plugin_manager(cfg)
    for source in cfg.sources.values():
        try:
            manager.parse_source_settings(source)
        except ConfigError as e:
            report.add(e)


def _analyzer(cfg: config.Config, report: ConfigReport) -> None:
    # The engine looks the analyzer up when it first scores a text; asking here finds a typo
    # before the daemon has started.
    from deskwatch.core.engine.nlp import available_analyzers

    name = cfg.nlp.analyzer
    if name in available_analyzers():
        return
    try:
        from deskwatch.core.connect import plugins

        contributed = sorted(plugins.analyzers())
    except ImportError:
        contributed = []
    if name not in contributed:
        known = ", ".join(sorted({*available_analyzers(), *contributed}))
        report.add(ConfigError(cfg.file, "nlp.analyzer",
                               f'unknown analyzer "{name}"; available: {known} (a plugin can add more)'))


def model_problems(cfg: config.Config) -> list[str]:
    """Active learned models in the configured store that do not load."""
    from pathlib import Path

    if not cfg.store.url and not Path(cfg.store.path).expanduser().exists():
        return []
    from deskwatch.core.learn.load import load_active
    from deskwatch.core.store import open_store

    store = open_store(cfg)
    try:
        return load_active(store)[1]
    finally:
        store.close()


def _console_keys(cfg: config.Config, report: ConfigReport) -> None:
    # The action ids live with the console's screens, so the console checks [tui.keys]; asking
    # it here finds a typo before an engineer opens the console at 3 a.m.
    if cfg.tui.keys:
        from deskwatch.tui.app import check_keys

        check_keys(cfg.tui.keys, cfg.file)
