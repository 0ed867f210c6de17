"""Config sections for the running system: sources, store, daemon, plugins, console."""

from __future__ import annotations

import os
import re
import socket
from datetime import timedelta
from dataclasses import dataclass, field
from pathlib import Path

from urllib.parse import urlsplit

from deskwatch.core.model.settings import ConfigError, Section

SOURCES_DEFAULTS: dict = {}
STORE_DEFAULTS = {"path": "~/.local/share/deskwatch/deskwatch.db"}
STORE_KEYS = (*STORE_DEFAULTS, "url")  # url: a PostgreSQL store instead of the SQLite file
DAEMON_DEFAULTS = {
    "log_format": "text",
    "log_level": "info",
    "shutdown_timeout": 10.0,
    "heartbeat_interval": 5.0,
    "page_size": 100,
    # Prometheus metrics (core/daemon/metrics.py): 0 is off; loopback unless told otherwise.
    "metrics_port": 0,
    "metrics_host": "127.0.0.1",
    # Several daemons on one store (docs/several-daemons.md): a stable name per daemon (default:
    # the host name, so one daemon per host needs no setting), and the source lease's length.
    "id": "",
    "lease_seconds": 30.0,
}
PLUGINS_DEFAULTS = {"strict": False, "block": []}
TUI_DEFAULTS = {"refresh_interval": 1.0, "max_rows": 2000, "actor": "", "max_snooze": "7d", "acknowledge_assigns": True, "keys": {}}
_SPAN = re.compile(r"^\s*(\d{1,6})\s*([mhd])\s*$")  # six digits: a digit string cannot overflow

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
    path: Path  # the SQLite file (unused when url is set)
    url: str | None = None  # postgresql://user@host:5432/db selects the PostgreSQL store

    @property
    def where(self) -> str:
        """The store as messages name it: the URL with its password hidden, or the file."""
        if self.url:
            from deskwatch.core.store.pg import redact_url  # plain text work: psycopg is not imported

            return redact_url(self.url)
        return str(self.path)


@dataclass(frozen=True)
class DaemonConfig:
    log_format: str
    log_level: str
    shutdown_timeout: float
    heartbeat_interval: float
    page_size: int
    metrics_port: int = 0  # 0: no metrics server
    metrics_host: str = "127.0.0.1"
    id: str = ""  # this daemon's name in the store; parse_daemon fills in the host name
    lease_seconds: float = 30.0  # a source's lease runs this long; renewed every third of it


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
    max_snooze: timedelta = timedelta(days=7)  # the console refuses a longer snooze
    acknowledge_assigns: bool = True  # acknowledging also assigns the ticket to the acting person


def parse_sources(s: Section) -> dict[str, SourceConfig]:
    out: dict[str, SourceConfig] = {}
    for name in list(s.keys()):
        try:
            out[name] = _source(s, name)
        except ConfigError as e:
            if s.report is None:
                raise
            s.report.add(e)  # and go on to the next source: `config check` lists them all
    return out


def _source(s: Section, name: str) -> SourceConfig:
    if not _SOURCE_NAME.match(name):
        raise s.error(name, "source names are lower-case letters, digits, '-' and '_', starting with a letter")
    sub = s.section(name)
    settings = {k: v for k, v in sub.data.items() if k not in ("type", "enabled", "poll_interval", "write_back")}
    source = SourceConfig(
        name=name,
        type=sub.string("type"),
        enabled=sub.boolean("enabled", True),
        poll_interval=sub.number("poll_interval", 60.0, min=0.05),
        write_back=sub.boolean("write_back", False),
        settings=Section(settings, sub.path, sub.file, sub.report),
    )
    try:
        _check_base_url(sub)
    except ConfigError as e:
        if sub.report is None:
            raise
        sub.report.add(e)  # and let the connector check the source's other keys
    return source


def _check_base_url(sub: Section) -> None:
    """A ``base_url`` every connector would choke on (no host, a port past 65535) is named here,
    before any connector reads it; a value still holding ``${VAR}`` is checked once expanded."""
    raw = sub.data.get("base_url")
    if not isinstance(raw, str) or "${" in raw:
        return
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
    except ValueError as e:
        if "out of range" in str(e):
            raise sub.error("base_url", "the port is out of range; ports go from 1 to 65535") from None
        raise sub.error("base_url", f"not a valid URL ({e}); write it like https://acme.zendesk.com") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise sub.error("base_url", f'expected an http(s) URL such as "https://acme.zendesk.com", got "{raw[:80]}"')
    if port == 0:
        raise sub.error("base_url", "port 0 is not a port; give 1-65535 or leave the port out")


def parse_store(s: Section) -> StoreConfig:
    # path always has its embedded default: it counts as set only when it says something else.
    if s.has("url") and s.data.get("path", STORE_DEFAULTS["path"]) != STORE_DEFAULTS["path"]:
        raise s.error("url", "store.url and store.path are both set; keep url for PostgreSQL or path for SQLite, not both")
    raw = s.string("path", STORE_DEFAULTS["path"])
    url = s.string("url", "") if s.has("url") else None
    s.check_unknown(STORE_KEYS)
    if not raw.strip():
        raise s.error("path", "must not be empty; give a file path for the SQLite store")
    too_long = [part for part in Path(os.path.expanduser(raw)).parts if len(os.fsencode(part)) > 255]
    if too_long:
        # The file system refuses such a name only when the store is opened; say so now.
        raise s.error("path", f"has a name of {len(os.fsencode(too_long[0]))} bytes (at most 255 per folder or file "
                              "name); give a shorter path for the SQLite store")
    if url is not None:
        _check_store_url(s, url)
    return StoreConfig(path=Path(os.path.expanduser(raw)), url=url)


def _check_store_url(s: Section, url: str) -> None:
    from deskwatch.core.store.pg import redact_url

    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as e:
        raise s.error("url", f"not a valid URL ({e}); write it like postgresql://user@host:5432/deskwatch") from None
    if parts.scheme not in ("postgresql", "postgres"):
        shown = redact_url(url) if "://" in url else "a value without a scheme"
        raise s.error("url", f'expected a postgresql:// URL such as "postgresql://user@host:5432/deskwatch", got {shown}; '
                             "for SQLite set store.path instead")
    if not parts.path.strip("/"):
        raise s.error("url", f"{redact_url(url)} names no database; add it, as in postgresql://user@host:5432/deskwatch")


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
        id=_daemon_id(s),
        lease_seconds=s.number("lease_seconds", d["lease_seconds"], min=1.0, max=3600.0),
    )
    if not cfg.metrics_host.strip():
        raise s.error("metrics_host", "must not be empty; give an address to listen on, e.g. 127.0.0.1")
    s.check_unknown(d)
    return cfg


_DAEMON_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def _daemon_id(s: Section) -> str:
    """``[daemon] id``, or the host name: stable across restarts (a pid would not be), so a
    restarted daemon finds its own leases and claims; two daemons on one host need their own."""
    raw = s.string("id", "")
    if not raw.strip():
        host = socket.gethostname().split(".")[0] or "localhost"
        return re.sub(r"[^A-Za-z0-9._-]", "-", host)[:63]
    if not _DAEMON_ID.match(raw):
        raise s.error("id", f'expected a name of letters, digits, ".", "_" or "-" (up to 63, e.g. "dw-eu-1"), got "{raw[:80]}"')
    return raw


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
        max_snooze=_span(s, "max_snooze", d["max_snooze"]),
        acknowledge_assigns=s.boolean("acknowledge_assigns", d["acknowledge_assigns"]),
    )
    s.check_unknown(d)
    return cfg


def _span(s: Section, name: str, default: str) -> timedelta:
    text = s.string(name, default)
    m = _SPAN.match(text)
    if not m or int(m.group(1)) == 0:
        raise s.error(name, f'expected a duration such as "12h" or "7d" (minutes m, hours h, days d), got "{text}"')
    return timedelta(minutes=int(m.group(1)) * {"m": 1, "h": 60, "d": 1440}[m.group(2)])


def _keys(s: Section) -> tuple[tuple[str, str], ...]:
    out = []
    for action in s.keys():
        keys = s.string(action)
        if not keys.strip() or any(not k.strip() for k in keys.split(",")):
            raise s.error(action, 'expected keys such as "E" or "E,ctrl+e", got an empty key')
        out.append((action, ",".join(k.strip() for k in keys.split(","))))
    return tuple(out)
