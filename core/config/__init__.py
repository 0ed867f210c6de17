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

from deskwatch.core.model.settings import ConfigError, Section

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
}

ENV_CONFIG = "DESKWATCH_CONFIG"


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
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found; create one with `deskwatch init` or pass --config") from None
    except OSError as e:
        raise ConfigError(str(path), "", f"cannot read: {e.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(path), "", f"not valid TOML: {e}") from None


def parse_data(data: Mapping[str, Any], file: str) -> Config:
    """Validate merged data into a Config; raises ConfigError naming file and key."""
    top = Section(data, "", file)
    parsed: dict[str, Any] = {}
    for name in SECTION_OWNERS:
        parsed[name] = _owner(name)[1](top.section(name))
    top.check_unknown(SECTION_OWNERS)
    return Config(file=file, sections=parsed, raw=data)


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Embedded defaults, overlaid by the file at ``path`` (or at $DESKWATCH_CONFIG)."""
    chosen: Path | None = Path(path) if path else None
    if chosen is None and os.environ.get(ENV_CONFIG):
        chosen = Path(os.environ[ENV_CONFIG])
    if chosen is None:
        return parse_data(default_data(), "(defaults)")
    user = read_toml(chosen)
    return parse_data(merge(default_data(), user), str(chosen))
