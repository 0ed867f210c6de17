"""Config sections for the running system: sources, store, daemon, plugins, console."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from deskwatch.core.model.settings import Section

SOURCES_DEFAULTS: dict = {}
STORE_DEFAULTS = {"path": "~/.local/share/deskwatch/deskwatch.db"}
DAEMON_DEFAULTS = {
    "log_format": "text",
    "log_level": "info",
    "shutdown_timeout": 10.0,
    "heartbeat_interval": 5.0,
    "page_size": 100,
    # Prometheus metrics (core/daemon/metrics.py): 0 is off; loopback unless told otherwise.
    "metrics_port": 0,
    "metrics_host": "127.0.0.1",
}
PLUGINS_DEFAULTS = {"strict": False, "block": []}
TUI_DEFAULTS = {"refresh_interval": 1.0, "max_rows": 2000, "actor": "", "keys": {}}

_SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True)
class SourceConfig:
    """One configured helpdesk. ``settings`` holds the connector-specific keys, read by the
    connector type's own parser so each connector validates its keys with precise errors."""

    name: str
    type: str
    enabled: bool
    poll_interval: float
    write_back: bool
    settings: Section = field(compare=False)


@dataclass(frozen=True)
class StoreConfig:
    path: Path


@dataclass(frozen=True)
class DaemonConfig:
    log_format: str
    log_level: str
    shutdown_timeout: float
    heartbeat_interval: float
    page_size: int
    metrics_port: int = 0  # 0: no metrics server
    metrics_host: str = "127.0.0.1"


@dataclass(frozen=True)
class PluginsConfig:
    strict: bool
    block: tuple[str, ...]


@dataclass(frozen=True)
class TuiConfig:
    refresh_interval: float
    max_rows: int
    actor: str
    keys: tuple[tuple[str, str], ...] = ()  # action id -> keys; the console checks the ids (tui/keymap.py)


def parse_sources(s: Section) -> dict[str, SourceConfig]:
    out: dict[str, SourceConfig] = {}
    for name, sub in s.subsections():
        if not _SOURCE_NAME.match(name):
            raise s.error(name, "source names are lower-case letters, digits, '-' and '_', starting with a letter")
        settings = {k: v for k, v in sub.data.items() if k not in ("type", "enabled", "poll_interval", "write_back")}
        out[name] = SourceConfig(
            name=name,
            type=sub.string("type"),
            enabled=sub.boolean("enabled", True),
            poll_interval=sub.number("poll_interval", 60.0, min=0.05),
            write_back=sub.boolean("write_back", False),
            settings=Section(settings, sub.path, sub.file),
        )
    return out


def parse_store(s: Section) -> StoreConfig:
    raw = s.string("path", STORE_DEFAULTS["path"])
    s.check_unknown(STORE_DEFAULTS)
    if not raw.strip():
        raise s.error("path", "must not be empty; give a file path for the SQLite store")
    return StoreConfig(path=Path(os.path.expanduser(raw)))


def parse_daemon(s: Section) -> DaemonConfig:
    d = DAEMON_DEFAULTS
    cfg = DaemonConfig(
        log_format=s.string("log_format", d["log_format"], choices=("text", "json")),
        log_level=s.string("log_level", d["log_level"], choices=("debug", "info", "warning", "error")),
        shutdown_timeout=s.number("shutdown_timeout", d["shutdown_timeout"], min=0),
        heartbeat_interval=s.number("heartbeat_interval", d["heartbeat_interval"], min=0.1),
        page_size=s.integer("page_size", d["page_size"], min=1, max=1000),
        metrics_port=s.integer("metrics_port", d["metrics_port"], min=0, max=65535),
        metrics_host=s.string("metrics_host", d["metrics_host"]),
    )
    if not cfg.metrics_host.strip():
        raise s.error("metrics_host", "must not be empty; give an address to listen on, e.g. 127.0.0.1")
    s.check_unknown(d)
    return cfg


def parse_plugins(s: Section) -> PluginsConfig:
    cfg = PluginsConfig(strict=s.boolean("strict", False), block=s.strings("block", ()))
    s.check_unknown(PLUGINS_DEFAULTS)
    return cfg


def parse_tui(s: Section) -> TuiConfig:
    d = TUI_DEFAULTS
    cfg = TuiConfig(
        refresh_interval=s.number("refresh_interval", d["refresh_interval"], min=0.1),
        max_rows=s.integer("max_rows", d["max_rows"], min=10),
        actor=s.string("actor", d["actor"]),
        keys=_keys(s.section("keys", d["keys"])),
    )
    s.check_unknown(d)
    return cfg


def _keys(s: Section) -> tuple[tuple[str, str], ...]:
    out = []
    for action in s.keys():
        keys = s.string(action)
        if not keys.strip() or any(not k.strip() for k in keys.split(",")):
            raise s.error(action, 'expected keys such as "E" or "E,ctrl+e", got an empty key')
        out.append((action, ",".join(k.strip() for k in keys.split(","))))
    return tuple(out)
