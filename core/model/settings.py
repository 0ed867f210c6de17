"""Typed reading of configuration tables with errors that name the file, the key and the fix.

Every config section is parsed through a ``Section``: it knows its dotted path, so a bad value
reports ``config.toml: escalation.weights.sentiment: expected a number, got "high"``. Unknown
keys are errors too (with a "did you mean" hint), because a misspelt key silently falling back
to a default is the most common way a config lies to its owner.
"""

from __future__ import annotations

import json

import difflib
import math
import os
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable, Iterator, Mapping

from deskwatch.core.model.timeutil import parse_date

_MISSING = object()
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Larger magnitudes are no real weight, threshold, money or duration: typos or hostile input,
# and floats beyond ~1e308 are infinite. Integers go as far as the ids helpdesks hand out.
MAX_NUMBER = 1e15
MAX_INTEGER = 2**53


_ESCAPES = {c: repr(chr(c))[1:-1] for c in (*range(32), *range(127, 160), 0x2028, 0x2029)}  # all that splits a line


class ConfigError(Exception):
    """Invalid configuration. ``str()`` is the whole message for the user; exit code 2."""

    def __init__(self, file: str, key: str, problem: str):
        # One error, one line: a value quoted into the message may hold a line break or a
        # control character (a TOML "\r"); show it escaped, as TOML would write it.
        problem = problem.translate(_ESCAPES)
        self.file, self.key, self.problem = file, key, problem
        where = f"{file}: " if file else ""
        super().__init__(f"{where}{key}: {problem}" if key else f"{where}{problem}")


@dataclass
class ConfigReport:
    """Every problem found in one pass (``deskwatch config check``). A ``Section`` given a
    report records a bad value there and goes on with the default, so one run lists them all;
    without one, the first problem raises (what loading config to run wants)."""

    errors: list[ConfigError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, error: ConfigError) -> None:
        if all(str(e) != str(error) for e in self.errors):
            self.errors.append(error)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


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
        # JSON quoting: a value with a line break or a control character stays on one line
        return json.dumps(v if len(v) <= 60 else v[:57] + "...", ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int) and abs(v) > 10**18:
        return f"a number of {len(str(abs(v)))} digits"  # TOML itself refuses over 4300
    if isinstance(v, Mapping):
        return "a table"
    if isinstance(v, list):
        return "a list"
    return repr(v)


class Section:
    """A read-only view of one config table that remembers where it came from."""

    def __init__(self, data: Mapping[str, Any] | None, path: str = "", file: str = "",
                 report: ConfigReport | None = None):
        self.data = dict(data or {})
        self.path = path
        self.file = file
        self.report = report
        self._read: set[str] = set()

    # -- plumbing ---------------------------------------------------------------------------
    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str, problem: str) -> ConfigError:
        return ConfigError(self.file, self.key(name) if name else self.path, problem)

    def _fail(self, name: str, problem: str, default: Any) -> Any:
        """Raise the error, or with a report, record it and go on with the default."""
        err = self.error(name, problem)
        if self.report is None or default is _MISSING:
            raise err
        self.report.add(err)
        return default

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
            return self._fail(name, f"expected a number, got {_describe(v)}", default)
        if isinstance(v, float) and not math.isfinite(v):
            return self._fail(name, f"expected a number, got {v} (nan and inf are not numbers)", default)
        if abs(v) > MAX_NUMBER:
            return self._fail(name, f"{_describe(v)} is out of range (at most {MAX_NUMBER:g} either way)", default)
        if min is not None and v < min:
            return self._fail(name, f"must be at least {min:g}, got {v:g}", default)
        if max is not None and v > max:
            return self._fail(name, f"must be at most {max:g}, got {v:g}", default)
        return float(v)

    def integer(self, name: str, default: Any = _MISSING, *, min: int | None = None, max: int | None = None) -> int:
        v = self._get(name, default)
        if v is None and default is None:
            return None  # type: ignore[return-value]
        if isinstance(v, bool) or not isinstance(v, int):
            return self._fail(name, f"expected a whole number, got {_describe(v)}", default)
        if abs(v) > MAX_INTEGER:
            return self._fail(name, f"{_describe(v)} is out of range (at most {MAX_INTEGER} either way)", default)
        if min is not None and v < min:
            return self._fail(name, f"must be at least {min}, got {v}", default)
        if max is not None and v > max:
            return self._fail(name, f"must be at most {max}, got {v}", default)
        return v

    def boolean(self, name: str, default: Any = _MISSING) -> bool:
        v = self._get(name, default)
        if not isinstance(v, bool):
            return self._fail(name, f"expected true or false, got {_describe(v)}", default)
        return v

    def string(self, name: str, default: Any = _MISSING, *, choices: Iterable[str] | None = None) -> str:
        v = self._get(name, default)
        if v is None and default is None:
            return None  # type: ignore[return-value]
        if not isinstance(v, str):
            return self._fail(name, f"expected a string, got {_describe(v)}", default)
        try:
            v = expand_env(v, self, name)
        except ConfigError as e:
            return self._fail(name, e.problem, default)
        if choices is not None:
            options = list(choices)
            if v not in options:
                return self._fail(name, f"expected one of {', '.join(options)}, got {_describe(v)}", default)
        return v

    def date(self, name: str, default: Any = _MISSING) -> date:
        v = self._get(name, default)
        if v is None and default is None:
            return None  # type: ignore[return-value]
        try:
            return parse_date(v)
        except ValueError as e:
            return self._fail(name, str(e), default)

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
                problem = f"environment variable {var} is not set; export it or put the value in the file"
                if self.report is None:
                    raise self.error(name, problem)
                # Checking a config on another machine than the daemon's is normal: the daemon
                # refuses to start without it, the check only warns.
                self.report.warn(f"{self.error(name, problem)} (the daemon will not start without it)")
                return Secret(v.strip(), source=v.strip())  # a stand-in that only validation sees
            return Secret(os.environ[var], source=v.strip())
        return Secret(expand_env(v, self, name), source="")

    # -- collections ------------------------------------------------------------------------
    def strings(self, name: str, default: Any = _MISSING) -> tuple[str, ...]:
        v = self._get(name, default)
        if isinstance(v, str) or not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
            return self._fail(name, f"expected a list of strings, got {_describe(v)}", default)
        return tuple(v)

    def numbers(self, name: str, default: Any = _MISSING) -> dict[str, float]:
        """A table of name = number."""
        sub = self.section(name, default)
        return {k: sub.number(k) for k in sub.keys()}

    def section(self, name: str, default: Any = None) -> "Section":
        fallback = {} if default is None or default is _MISSING else default
        v = self._get(name, fallback)
        if not isinstance(v, Mapping):
            v = self._fail(name, f"expected a table, got {_describe(v)}", fallback)
        return Section(v, self.key(name), self.file, self.report)

    def sections(self, name: str, default: Any = ()) -> list["Section"]:
        """An array of tables ([[name]] in TOML)."""
        v = self._get(name, list(default))
        if not isinstance(v, list) or not all(isinstance(x, Mapping) for x in v):
            v = self._fail(name, f"expected a list of tables ([[{self.key(name)}]]), got {_describe(v)}", list(default))
        return [Section(x, f"{self.key(name)}[{i}]", self.file, self.report) for i, x in enumerate(v)]

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
                err = self.error(k, f"unknown key{fix}")
                if self.report is None:
                    raise err
                self.report.add(err)


def expand_env(text: str, section: Section | None = None, name: str = "") -> str:
    """Replace ${VAR} with the environment's value; a missing variable or a ``${`` that does
    not close into ``${NAME}`` is a config error."""
    if "${" in text:
        rest = _ENV.sub("", text)
        if "${" in rest:
            bad = rest[rest.index("${"):][:30]
            problem = f'"{bad}" is not a complete ${{NAME}} reference (letters, digits and _, closed by }}); fix it'
            if section is not None:
                raise section.error(name, problem)
            raise ConfigError("", name, problem)

    def sub(m: re.Match[str]) -> str:
        var = m.group(1)
        if var not in os.environ:
            if section is not None:
                raise section.error(name, f"environment variable {var} is not set; export it or write the value")
            raise ConfigError("", name, f"environment variable {var} is not set")
        return os.environ[var]

    return _ENV.sub(sub, text)
