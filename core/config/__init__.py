"""Loading the configuration: embedded defaults, a TOML file on top, precise errors.

Each section is owned by the module that uses it; that module exports ``DEFAULTS`` (the TOML
shape of its defaults, which ``deskwatch init`` writes out) and a ``parse(section)`` function.
Merging rule, documented in the README: scalar keys and tables merge key by key over the
defaults; a list (``[[routing.teams]]``, ``[[sla.policies]]`` …) given in the file replaces the
default list whole.
"""

from __future__ import annotations

import importlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from deskwatch.core.model.settings import ConfigError, ConfigReport, Section

# section name -> module that owns it (DEFAULTS + parse)
SECTION_OWNERS: dict[str, str] = {
    "escalation": "deskwatch.core.engine.escalation",
    "nlp": "deskwatch.core.engine.nlp",
    "sla": "deskwatch.core.policy.sla",
    "routing": "deskwatch.core.policy.routing",
    "store": "deskwatch.core.config.runtime",
    "daemon": "deskwatch.core.config.runtime",
    "sources": "deskwatch.core.config.runtime",
    "plugins": "deskwatch.core.config.runtime",
    "tui": "deskwatch.core.config.runtime",
    "simulator": "deskwatch.core.simulator.runner",
    "learn": "deskwatch.core.learn.settings",
    "notify": "deskwatch.core.daemon.notify_config",
}

ENV_CONFIG = "DESKWATCH_CONFIG"
# deskwatch's own tables go five levels deep; far deeper nesting is a broken or hostile file,
# and the recursive merge below must never meet it.
MAX_DEPTH = 32


@dataclass(frozen=True)
class Config:
    file: str  # where it came from, "(defaults)" when no file was read
    sections: Mapping[str, Any] = field(default_factory=dict)  # name -> parsed section object
    raw: Mapping[str, Any] = field(default_factory=dict)  # the merged TOML data

    def __getattr__(self, name: str) -> Any:
        sections = object.__getattribute__(self, "sections")
        if name in sections:
            return sections[name]
        raise AttributeError(name)


def _owner(name: str) -> tuple[Mapping[str, Any], Any]:
    """(defaults, parse) of a section: ``DEFAULTS``/``parse`` in a module that owns one
    section, ``<NAME>_DEFAULTS``/``parse_<name>`` in one that owns several."""
    mod = importlib.import_module(SECTION_OWNERS[name])
    defaults = getattr(mod, f"{name.upper()}_DEFAULTS", None)
    parse = getattr(mod, f"parse_{name}", None)
    if defaults is None or parse is None:
        defaults, parse = mod.DEFAULTS, mod.parse
    return defaults, parse


def default_data() -> dict[str, Any]:
    """The full default configuration as TOML-shaped data (what ``deskwatch init`` writes)."""
    return {name: _copy(_owner(name)[0]) for name in SECTION_OWNERS}


def _copy(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {k: _copy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_copy(x) for x in v]
    return v


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else (lists included) in ``over`` replaces ``base``."""
    out = {k: _copy(v) for k, v in base.items()}
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge(out[k], v)
        else:
            out[k] = _copy(v)
    return out


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML data of a config file; every way the file can be wrong is a ConfigError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found; create one with `deskwatch init` or pass --config") from None
    except OSError as e:
        raise ConfigError(str(path), "", f"cannot read: {e.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ConfigError(str(path), "", f"not UTF-8 text (line {line}, byte {e.start + 1}); "
                                         "save the file as UTF-8 (a config is a TOML text file)") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(path), "", f"not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(str(path), "", "tables or lists nested too deeply; deskwatch's config goes "
                                         "at most a few levels deep") from None
    except ValueError as e:  # tomllib passes on int()'s refusal of numbers over 4300 digits
        reason = "a number with thousands of digits" if "digits" in str(e) else str(e)[:200]
        raise ConfigError(str(path), "", f"not valid TOML: {reason}; fix the value") from None
    _check_depth(data, str(path))
    return data


def _check_depth(data: Mapping[str, Any], file: str) -> None:
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        v, key, depth = stack.pop()
        if depth > MAX_DEPTH:
            shown = key if len(key) <= 80 else key[:77] + "..."
            raise ConfigError(file, shown, f"nested more than {MAX_DEPTH} levels deep; "
                                           "deskwatch's config goes at most a few levels deep")
        if isinstance(v, Mapping):
            stack.extend((x, f"{key}.{k}" if key else str(k), depth + 1) for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((x, f"{key}[{i}]", depth + 1) for i, x in enumerate(v))


def parse_data(data: Mapping[str, Any], file: str, report: ConfigReport | None = None) -> Config:
    """Validate merged data into a Config; raises ConfigError naming file and key.

    With a ``report``, problems are recorded there instead and a section that cannot be read
    is replaced by its defaults, so that the other sections are still checked."""
    top = Section(data, "", file, report)
    parsed: dict[str, Any] = {}
    for name in SECTION_OWNERS:
        defaults, parse = _owner(name)
        try:
            parsed[name] = parse(top.section(name))
        except ConfigError as e:
            if report is None:
                raise
            report.add(e)
            parsed[name] = parse(Section(_copy(defaults), name, file))
    top.check_unknown(SECTION_OWNERS)
    return Config(file=file, sections=parsed, raw=data)


@dataclass
class CheckResult:
    """What ``check`` found: the config as far as it could be read, and every problem."""

    config: Config | None
    report: ConfigReport


def check(path: str | os.PathLike[str] | None = None) -> CheckResult:
    """Like ``load``, but every problem is collected into the report instead of raising the
    first; a secret whose environment variable is not set is a warning here."""
    report = ConfigReport()
    chosen = _chosen(path)
    try:
        data = default_data() if chosen is None else merge(default_data(), read_toml(chosen))
    except ConfigError as e:
        report.add(e)
        return CheckResult(None, report)
    file = "(defaults)" if chosen is None else str(chosen)
    return CheckResult(parse_data(data, file, report), report)


def _chosen(path: str | os.PathLike[str] | None) -> Path | None:
    chosen: Path | None = Path(path) if path else None
    if chosen is None and os.environ.get(ENV_CONFIG):
        chosen = Path(os.environ[ENV_CONFIG])
    return chosen


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Embedded defaults, overlaid by the file at ``path`` (or at $DESKWATCH_CONFIG)."""
    chosen = _chosen(path)
    if chosen is None:
        return parse_data(default_data(), "(defaults)")
    user = read_toml(chosen)
    return parse_data(merge(default_data(), user), str(chosen))
