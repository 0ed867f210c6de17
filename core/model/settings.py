"""Typed reading of configuration tables with errors that name the file, the key and the fix.

Every config section is parsed through a ``Section``: it knows its dotted path, so a bad value
reports ``config.toml: escalation.weights.sentiment: expected a number, got "high"``. Unknown
keys are errors too (with a "did you mean" hint), because a misspelt key silently falling back
to a default is the most common way a config lies to its owner.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Iterator, Mapping

from deskwatch.core.model.timeutil import parse_date

_MISSING = object()
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(Exception):
    """Invalid configuration. ``str()`` is the whole message for the user; exit code 2."""

    def __init__(self, file: str, key: str, problem: str):
        self.file, self.key, self.problem = file, key, problem
        where = f"{file}: " if file else ""
        super().__init__(f"{where}{key}: {problem}" if key else f"{where}{problem}")


@dataclass(frozen=True)
class Secret:
    """A credential from config. It never prints: repr and str are masked."""

    value: str
    source: str = ""  # e.g. "${ZENDESK_TOKEN}", safe to show

    def __repr__(self) -> str:
        return f"Secret({self.source or '***'})"

    __str__ = __repr__

    def reveal(self) -> str:
        return self.value


def _describe(v: Any) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Mapping):
        return "a table"
    if isinstance(v, list):
        return "a list"
    return repr(v)


class Section:
    """A read-only view of one config table that remembers where it came from."""

    def __init__(self, data: Mapping[str, Any] | None, path: str = "", file: str = ""):
        self.data = dict(data or {})
        self.path = path
        self.file = file
        self._read: set[str] = set()

    # -- plumbing ---------------------------------------------------------------------------
    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str, problem: str) -> ConfigError:
        return ConfigError(self.file, self.key(name) if name else self.path, problem)

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str, default: Any = None) -> Any:
        self._read.add(name)
        return self.data.get(name, default)

    def keys(self) -> Iterable[str]:
        return self.data.keys()

    def _get(self, name: str, default: Any) -> Any:
        self._read.add(name)
        if name in self.data:
            return self.data[name]
        if default is _MISSING:
            raise self.error(name, "missing; add it to the config")
        return default

    # -- scalars ----------------------------------------------------------------------------
    def number(self, name: str, default: Any = _MISSING, *, min: float | None = None, max: float | None = None) -> float:
        v = self._get(name, default)
        if v is None and default is None:
            return None  # type: ignore[return-value]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.error(name, f"expected a number, got {_describe(v)}")
        if min is not None and v < min:
            raise self.error(name, f"must be at least {min:g}, got {v:g}")
        if max is not None and v > max:
            raise self.error(name, f"must be at most {max:g}, got {v:g}")
        return float(v)

    def integer(self, name: str, default: Any = _MISSING, *, min: int | None = None, max: int | None = None) -> int:
        v = self._get(name, default)
        if v is None and default is None:
            return None  # type: ignore[return-value]
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.error(name, f"expected a whole number, got {_describe(v)}")
        if min is not None and v < min:
            raise self.error(name, f"must be at least {min}, got {v}")
        if max is not None and v > max:
            raise self.error(name, f"must be at most {max}, got {v}")
        return v

    def boolean(self, name: str, default: Any = _MISSING) -> bool:
        v = self._get(name, default)
        if not isinstance(v, bool):
            raise self.error(name, f"expected true or false, got {_describe(v)}")
        return v

    def string(self, name: str, default: Any = _MISSING, *, choices: Iterable[str] | None = None) -> str:
        v = self._get(name, default)
        if v is None and default is None:
            return None  # type: ignore[return-value]
        if not isinstance(v, str):
            raise self.error(name, f"expected a string, got {_describe(v)}")
        v = expand_env(v, self, name)
        if choices is not None:
            options = list(choices)
            if v not in options:
                raise self.error(name, f"expected one of {', '.join(options)}, got {_describe(v)}")
        return v

    def date(self, name: str, default: Any = _MISSING) -> date:
        v = self._get(name, default)
        if v is None and default is None:
            return None  # type: ignore[return-value]
        try:
            return parse_date(v)
        except ValueError as e:
            raise self.error(name, str(e)) from None

    def secret(self, name: str, default: Any = _MISSING) -> Secret | None:
        """A credential; write it as "${ENV_VAR}" to keep it out of the file."""
        v = self._get(name, default)
        if v is None:
            return None
        if not isinstance(v, str):
            raise self.error(name, f"expected a string such as \"${{TOKEN_ENV_VAR}}\", got {type(v).__name__}")
        m = _ENV.fullmatch(v.strip())
        if m:
            var = m.group(1)
            if var not in os.environ:
                raise self.error(name, f"environment variable {var} is not set; export it or put the value in the file")
            return Secret(os.environ[var], source=v.strip())
        return Secret(expand_env(v, self, name), source="")

    # -- collections ------------------------------------------------------------------------
    def strings(self, name: str, default: Any = _MISSING) -> tuple[str, ...]:
        v = self._get(name, default)
        if isinstance(v, str) or not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
            raise self.error(name, f"expected a list of strings, got {_describe(v)}")
        return tuple(v)

    def numbers(self, name: str, default: Any = _MISSING) -> dict[str, float]:
        """A table of name = number."""
        sub = self.section(name, default)
        return {k: sub.number(k) for k in sub.keys()}

    def section(self, name: str, default: Any = None) -> "Section":
        v = self._get(name, {} if default is None or default is _MISSING else default)
        if not isinstance(v, Mapping):
            raise self.error(name, f"expected a table, got {_describe(v)}")
        return Section(v, self.key(name), self.file)

    def sections(self, name: str, default: Any = ()) -> list["Section"]:
        """An array of tables ([[name]] in TOML)."""
        v = self._get(name, list(default))
        if not isinstance(v, list) or not all(isinstance(x, Mapping) for x in v):
            raise self.error(name, f"expected a list of tables ([[{self.key(name)}]]), got {_describe(v)}")
        return [Section(x, f"{self.key(name)}[{i}]", self.file) for i, x in enumerate(v)]

    def subsections(self) -> Iterator[tuple[str, "Section"]]:
        """Every key of this table whose value is a table, as (name, Section)."""
        for k in list(self.data):
            yield k, self.section(k)

    def check_unknown(self, known: Iterable[str]) -> None:
        """Fail on keys nobody reads: a typo should not silently become a default."""
        known = set(known) | self._read
        for k in self.data:
            if k not in known:
                hint = difflib.get_close_matches(k, sorted(known), n=1)
                fix = f"; did you mean {hint[0]!r}?" if hint else f"; known keys: {', '.join(sorted(known))}"
                raise self.error(k, f"unknown key{fix}")


def expand_env(text: str, section: Section | None = None, name: str = "") -> str:
    """Replace ${VAR} with the environment's value; a missing variable is a config error."""

    def sub(m: re.Match[str]) -> str:
        var = m.group(1)
        if var not in os.environ:
            if section is not None:
                raise section.error(name, f"environment variable {var} is not set; export it or write the value")
            raise ConfigError("", name, f"environment variable {var} is not set")
        return os.environ[var]

    return _ENV.sub(sub, text)
