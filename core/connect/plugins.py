"""Finding, loading and calling plugins.

Plugins come from the ``deskwatch`` entry-point group, the bundled connectors included (they are
declared in deskwatch's own pyproject.toml, so they load exactly as a third party's would).

Each plugin is loaded in isolation: one that fails to import, fails to register, implements a
hook that does not exist, or raises inside a hook is recorded as a ``PluginLoadError`` (name,
version, error) and everything else keeps working (STYLE.md P3). Strict mode (``--strict-plugins``,
``[plugins] strict = true`` or ``DESKWATCH_STRICT_PLUGINS=1``) turns any such error into a
configuration error (exit code 2).

Operators block plugins by name with ``[plugins] block = [...]`` or
``DESKWATCH_DISABLE_PLUGINS=a,b``; the environment variable (and the ``block`` list of the file
named by ``DESKWATCH_CONFIG``) is applied before import, so a plugin that breaks at import time
can be switched off.

The rest of deskwatch calls the typed facade (``connector_types()``, ``signal_functions()``,
``analyzers()``, ``notify_decision()``, ``startup()``, ``shutdown()``) rather than ``pm.hook``.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import sys
import tomllib
import traceback
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any, Callable, Iterable

import pluggy

from deskwatch.core.connect import hookspecs
from deskwatch.core.connect.contract import Connector, ConnectorType
from deskwatch.core.engine import nlp
from deskwatch.core.model.settings import ConfigError

if TYPE_CHECKING:
    import argparse

    from deskwatch.core.config import Config
    from deskwatch.core.config.runtime import SourceConfig
    from deskwatch.core.model import Decision, Ticket

log = logging.getLogger("deskwatch.plugins")

ENTRY_POINT_GROUP = "deskwatch"
ENV_DISABLE = "DESKWATCH_DISABLE_PLUGINS"
ENV_STRICT = "DESKWATCH_STRICT_PLUGINS"
ENV_TRACE = "DESKWATCH_TRACE_PLUGINS"


@dataclass(frozen=True)
class PluginLoadError:
    """A plugin that did not load, or a hook of it that failed."""

    name: str
    version: str
    error: str
    stage: str = "import"  # import, register, validate, or the hook that raised

    def __str__(self) -> str:
        return f"plugin {self.name} {self.version}: {self.stage} failed: {self.error}"


@dataclass(frozen=True)
class PluginInfo:
    """One loaded plugin, as ``deskwatch plugins`` lists it."""

    name: str
    version: str
    distribution: str
    module: str
    hooks: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "distribution": self.distribution,
                "module": self.module, "hooks": list(self.hooks)}


def _error_text(exc: BaseException) -> str:
    from deskwatch.core.connect.http import redact

    text = str(exc).strip()
    return redact(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


class PluginManager:
    """pluggy's PluginManager plus tolerant loading, blocking and a typed facade."""

    def __init__(self, *, strict: bool = False, block: Iterable[str] = ()):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.strict = strict
        self.blocked: set[str] = set()
        self.errors: list[PluginLoadError] = []
        self._dist: dict[str, tuple[str, str]] = {}  # plugin name -> (distribution, version)
        self._cache: dict[str, Any] = {}
        for name in block:
            self.block(name)
        self.trace = bool(os.environ.get(ENV_TRACE))

    # -- loading --------------------------------------------------------------------------------
    @property
    def hook(self) -> "_IsolatedHooks":
        """Hook callers that isolate each implementation (``pm.hook.x(...)`` would let one
        plugin's exception stop the rest)."""
        return _IsolatedHooks(self)

    def block(self, name: str) -> None:
        """Block a plugin by name (its entry-point name); unregisters it if already loaded."""
        name = name.strip()
        if not name:
            return
        self.blocked.add(name)
        if self.pm.has_plugin(name):
            self.pm.unregister(name=name)
        self.pm.set_blocked(name)
        self._cache.clear()

    def load_entry_points(self, entry_points: Iterable[metadata.EntryPoint] | None = None) -> None:
        """Import and register every plugin of the ``deskwatch`` group that is not blocked."""
        eps = list(entry_points) if entry_points is not None else list(metadata.entry_points(group=ENTRY_POINT_GROUP))
        for ep in eps:
            if ep.name in self.blocked or self.pm.has_plugin(ep.name):
                continue
            dist = getattr(ep, "dist", None)
            dist_name = dist.metadata["Name"] if dist is not None else ""
            version = dist.version if dist is not None else ""
            try:
                plugin = ep.load()
            except Exception as e:  # noqa: BLE001 - a broken plugin must not take deskwatch down
                self._record(PluginLoadError(ep.name, version or "unknown", _error_text(e), "import"))
                continue
            self.register(plugin, ep.name, distribution=dist_name, version=version)

    def register(self, plugin: object, name: str, *, distribution: str = "", version: str = "") -> bool:
        """Register one plugin object or module under ``name``; errors are recorded, not raised
        (unless strict). Tests use this to add throw-away plugins."""
        if name in self.blocked:
            return False
        self._dist[name] = (distribution, version or _module_version(plugin))
        try:
            self.pm.register(plugin, name=name)
        except Exception as e:  # noqa: BLE001 - pluggy's validation errors and anything else
            self._dist.pop(name, None)
            self._record(PluginLoadError(name, version or "unknown", _error_text(e), "register"))
            return False
        callers = list(self.pm.get_hookcallers(plugin) or [])
        unknown = [hc.name for hc in callers if hc.spec is None]
        for hook_name in unknown:
            self._record(PluginLoadError(name, self._dist[name][1], f"implements unknown hook {hook_name} (misspelt? see docs/plugins.md)", "validate"))
        problems = [p for hc in callers for impl in hc.get_hookimpls() if impl.plugin is plugin
                    for p in _impl_problems(hc.name, impl.function)]
        if problems:
            # Such a hook would be called wrongly (a coroutine never awaited, an argument never
            # passed), so the plugin is not loaded at all.
            self.pm.unregister(name=name)
            self._dist.pop(name, None)
            for problem in problems:
                self._record(PluginLoadError(name, version or _module_version(plugin), problem, "validate"))
            return False
        self._cache.clear()
        return True

    def unregister(self, name: str) -> None:
        if self.pm.has_plugin(name):
            self.pm.unregister(name=name)
        self._dist.pop(name, None)
        self._cache.clear()

    def _record(self, err: PluginLoadError) -> None:
        if err in self.errors:  # the same failure seen again (e.g. a hook re-collected)
            return
        self.errors.append(err)
        print(f"deskwatch: warning: {err}", file=sys.stderr)
        if self.strict:
            raise strict_error([err])

    def raise_if_errors(self) -> None:
        """In strict mode, fail on errors recorded so far."""
        if self.errors:
            raise strict_error(self.errors)

    # -- listing --------------------------------------------------------------------------------
    def plugins(self) -> list[PluginInfo]:
        out = []
        for name, plugin in sorted(self.pm.list_name_plugin(), key=lambda x: x[0] or ""):
            if plugin is None or name is None:
                continue
            dist, version = self._dist.get(name, ("", ""))
            hooks = sorted(hc.name for hc in (self.pm.get_hookcallers(plugin) or []))
            module = getattr(plugin, "__name__", type(plugin).__module__ + "." + type(plugin).__qualname__)
            out.append(PluginInfo(name, version or "unknown", dist, module, tuple(hooks)))
        return out

    # -- calling hooks --------------------------------------------------------------------------
    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation of a hook, each isolated: an exception is recorded against
        its plugin and the others still run. Returns (plugin name, result) pairs."""
        caller = getattr(self.pm.hook, hook_name)
        results = []
        # pluggy's order: last registered first, honouring tryfirst/trylast.
        for impl in reversed(caller.get_hookimpls()):
            self._trace(hook_name, impl.plugin_name)
            try:
                args = [kwargs[a] for a in impl.argnames]
            except KeyError as e:
                self._record(PluginLoadError(impl.plugin_name, self._version(impl.plugin_name), f"asks for unknown argument {e}", hook_name))
                continue
            try:
                results.append((impl.plugin_name, impl.function(*args)))
            except Exception as e:  # noqa: BLE001
                self._trace_failure(e)
                self._record(PluginLoadError(impl.plugin_name, self._version(impl.plugin_name), _error_text(e), hook_name))
        return results

    def _trace(self, hook_name: str, plugin_name: str) -> None:
        if self.trace:
            print(f"deskwatch: hook {hook_name} -> {plugin_name}", file=sys.stderr)

    def _trace_failure(self, exc: BaseException) -> None:
        """With DESKWATCH_TRACE_PLUGINS=1, the whole traceback of a hook that raised (the
        error list keeps one line), so a plugin author sees where it failed."""
        if self.trace:
            from deskwatch.core.connect.http import redact

            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            print(redact(text), file=sys.stderr, end="")

    def _bundled(self, name: str) -> bool:
        """A plugin shipped with deskwatch itself (the bundled connectors)."""
        plugin = self.pm.get_plugin(name)
        module = getattr(plugin, "__name__", type(plugin).__module__)
        return self._dist.get(name, ("", ""))[0] == "deskwatch" or module.startswith("deskwatch.plugins.")

    def _version(self, name: str) -> str:
        return self._dist.get(name, ("", "unknown"))[1] or "unknown"

    def _collect(self, hook_name: str, make_register: Callable[[str, dict], Callable[..., None]]) -> dict:
        if hook_name not in self._cache:
            found: dict[str, Any] = {}
            owners: dict[str, str] = {}
            caller = getattr(self.pm.hook, hook_name)
            # Bundled plugins first, then registration order: on a clash the plugin registered
            # first keeps the name, and a third party can never take over a bundled name.
            impls = sorted(caller.get_hookimpls(), key=lambda i: not self._bundled(i.plugin_name))
            for impl in impls:
                plugin_name = impl.plugin_name
                self._trace(hook_name, plugin_name)
                local: dict[str, Any] = {}
                try:
                    impl.function(*[{"register": make_register(plugin_name, local)}[a] for a in impl.argnames])
                except Exception as e:  # noqa: BLE001
                    self._trace_failure(e)
                    self._record(PluginLoadError(plugin_name, self._version(plugin_name), _error_text(e), hook_name))
                    continue
                for key, value in local.items():
                    if key in found:
                        fix = ("it is a bundled connector's name, which a plugin cannot take over; register yours under "
                               "another name" if self._bundled(owners[key]) else "block one of them with plugins.block")
                        self._record(PluginLoadError(
                            plugin_name, self._version(plugin_name),
                            f"{key!r} is already registered by plugin {owners[key]}; {fix}", hook_name))
                        continue
                    found[key], owners[key] = value, plugin_name
            self._cache[hook_name] = found
        return self._cache[hook_name]

    def connector_types(self) -> dict[str, ConnectorType]:
        """Every registered connector type by name."""

        def make(plugin: str, local: dict) -> Callable[..., None]:
            def register(connector_type: ConnectorType) -> None:
                if not isinstance(connector_type, ConnectorType):
                    raise TypeError(f"register() takes a deskwatch.core.connect.contract.ConnectorType, got {type(connector_type).__name__}")
                if connector_type.name in local:
                    raise ValueError(f"connector type {connector_type.name!r} registered twice")
                local[connector_type.name] = connector_type

            return register

        return dict(self._collect("deskwatch_register_connector_types", make))

    def signal_functions(self) -> dict[str, Callable[..., Any]]:
        """Every plugin signal function by name: ``fn(ticket, ctx) -> Signal | list | None``."""

        def make(plugin: str, local: dict) -> Callable[..., None]:
            def register(fn: Callable[..., Any], name: str | None = None) -> None:
                if not callable(fn):
                    raise TypeError(f"register() takes a signal function, got {type(fn).__name__}")
                local[name or fn.__name__] = fn

            return register

        return dict(self._collect("deskwatch_register_signals", make))

    def analyzers(self) -> dict[str, Callable[[], Any]]:
        """Every plugin sentiment analyzer factory by name."""

        def make(plugin: str, local: dict) -> Callable[..., None]:
            def register(name: str, factory: Callable[[], Any]) -> None:
                if not isinstance(name, str) or not callable(factory):
                    raise TypeError("register(name, factory) takes a name and a zero-argument factory")
                local[name] = factory

            return register

        return dict(self._collect("deskwatch_register_analyzers", make))

    def notify_decision(self, decision: "Decision", ticket: "Ticket") -> int:
        """Tell plugins about a decision; returns how many implementations failed."""
        before = len(self.errors)
        self.call_each("deskwatch_decision_made", decision=decision, ticket=ticket)
        return len(self.errors) - before

    def startup(self, config: "Config") -> None:
        self.call_each("deskwatch_startup", config=config)

    def shutdown(self) -> None:
        self.call_each("deskwatch_shutdown")

    def register_commands(self, subparsers: "argparse._SubParsersAction") -> None:
        self.call_each("deskwatch_register_commands", subparsers=subparsers)

    # -- sources --------------------------------------------------------------------------------
    def connector_type(self, source: "SourceConfig") -> ConnectorType:
        types = self.connector_types()
        if source.type not in types:
            installed = ", ".join(sorted(types)) or "none"
            raise ConfigError(
                source.settings.file, f"sources.{source.name}.type",
                f"unknown connector type {source.type!r}; installed types: {installed} "
                "(install the plugin into the same environment as deskwatch, or fix the name)",
            )
        return types[source.type]

    def parse_source_settings(self, source: "SourceConfig") -> Any:
        ctype = self.connector_type(source)
        try:
            return ctype.parse_settings(source.settings)
        except ConfigError:
            raise
        except Exception as e:  # noqa: BLE001 - a connector bug while reading settings
            raise ConfigError(source.settings.file, f"sources.{source.name}",
                              f"connector {source.type!r} could not read its settings: {_error_text(e)}") from None

    def validate_sources(self, config: "Config") -> None:
        for source in config.sources.values():
            self.parse_source_settings(source)

    def build_connector(self, source: "SourceConfig", *, client_factory: Callable[..., Any] | None = None) -> Connector:
        from deskwatch.core.connect.http import http_limits, make_api_client

        ctype = self.connector_type(source)
        settings = self.parse_source_settings(source)
        factory = client_factory or make_api_client
        # request_deadline and max_response_bytes apply to every connector's client, whether or
        # not its settings class carries them.
        limits = http_limits(source.settings)
        if limits:
            factory = functools.partial(factory, **limits)
        return ctype.create(source.name, settings, factory)


class _IsolatedHooks:
    """``manager.hook.deskwatch_x(**kwargs)``: every implementation called in isolation."""

    def __init__(self, manager: PluginManager):
        self._manager = manager

    def __getattr__(self, name: str) -> Callable[..., list[Any]]:
        if not name.startswith("deskwatch_"):
            raise AttributeError(name)
        getattr(self._manager.pm.hook, name)  # AttributeError for an unknown hook

        def call(**kwargs: Any) -> list[Any]:
            return [r for _, r in self._manager.call_each(name, **kwargs) if r is not None]

        return call


def _impl_problems(hook_name: str, fn: Callable[..., Any]) -> list[str]:
    """Why a hook implementation cannot work, each with the fix: deskwatch calls hooks
    synchronously (an ``async def`` would return a coroutine nobody awaits), and pluggy never
    passes an argument that has a default (it would silently keep the default)."""
    problems = []
    if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        problems.append(f"hook {hook_name} is an async def; hooks are called synchronously: make it a plain def "
                        "(async work belongs in the Connector's methods, which the daemon awaits)")
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        params = ()
    for p in params:
        if p.default is not inspect.Parameter.empty and p.name != "self":
            problems.append(f"hook {hook_name}: argument {p.name!r} has a default, so pluggy never passes it; "
                            f"remove the default (def {hook_name}({p.name}): ...)")
    return problems


def _module_version(plugin: object) -> str:
    v = getattr(plugin, "__version__", None)
    return str(v) if v else "unknown"


def strict_error(errors: Iterable[PluginLoadError]) -> ConfigError:
    lines = "; ".join(str(e) for e in errors)
    return ConfigError("", "plugins", f"{lines} (strict mode: fix or uninstall the plugin, or block it with plugins.block / {ENV_DISABLE})")


def env_blocked() -> tuple[str, ...]:
    """Names blocked before anything is imported: DESKWATCH_DISABLE_PLUGINS and the ``block``
    list of the file named by DESKWATCH_CONFIG (read leniently; config check reports errors)."""
    names = [n.strip() for n in os.environ.get(ENV_DISABLE, "").split(",") if n.strip()]
    path = os.environ.get("DESKWATCH_CONFIG")
    if path:
        try:
            with open(path, "rb") as f:
                block = tomllib.load(f).get("plugins", {}).get("block", [])
            names += [n for n in block if isinstance(n, str)]
        except (OSError, tomllib.TOMLDecodeError, AttributeError):
            pass
    return tuple(names)


def env_strict() -> bool:
    return os.environ.get(ENV_STRICT, "").strip().lower() in ("1", "true", "yes", "on")


_manager: PluginManager | None = None


def get_plugin_manager(config: "Config | None" = None, *, strict: bool | None = None) -> PluginManager:
    """The process-wide plugin manager, loaded on first use.

    Commands that use plugins call it again with the loaded ``config`` (applies
    ``plugins.block``) and the ``--strict-plugins`` flag; in strict mode (flag, config or
    DESKWATCH_STRICT_PLUGINS) any load error recorded so far raises ConfigError.
    """
    global _manager
    if _manager is None:
        _manager = PluginManager(block=env_blocked())
        _manager.load_entry_points()
    if config is not None:
        pcfg = getattr(config, "plugins", None)
        for name in getattr(pcfg, "block", ()) or ():
            _manager.block(name)
        if strict is None:
            strict = bool(getattr(pcfg, "strict", False))
    if strict or env_strict():
        _manager.strict = True
        _manager.raise_if_errors()
    return _manager


def set_plugin_manager(manager: PluginManager | None) -> PluginManager | None:
    """Replace the process-wide manager (tests); returns the previous one. None resets it so
    the next ``get_plugin_manager()`` loads entry points again."""
    global _manager
    previous, _manager = _manager, manager
    return previous


# -- module-level facade ---------------------------------------------------------------------------


def connector_types() -> dict[str, ConnectorType]:
    return get_plugin_manager().connector_types()


def signal_functions() -> dict[str, Callable[..., Any]]:
    return get_plugin_manager().signal_functions()


def analyzers() -> dict[str, Callable[[], Any]]:
    return get_plugin_manager().analyzers()


def notify_decision(decision: "Decision", ticket: "Ticket") -> int:
    return get_plugin_manager().notify_decision(decision, ticket)


def startup(config: "Config") -> None:
    get_plugin_manager(config).startup(config)


def shutdown() -> None:
    get_plugin_manager().shutdown()


def validate_sources(config: "Config") -> None:
    """Check each configured source: its ``type`` is installed and its settings parse.
    Raises ConfigError naming ``sources.<name>.<key>``."""
    get_plugin_manager(config).validate_sources(config)


def build_connector(source: "SourceConfig", *, client_factory: Callable[..., Any] | None = None) -> Connector:
    """A Connector for one configured source (settings parsed and validated)."""
    return get_plugin_manager().build_connector(source, client_factory=client_factory)


def add_strict_flag(parser: "argparse.ArgumentParser") -> None:
    """Add ``--strict-plugins`` to a command that loads plugins."""
    parser.add_argument("--strict-plugins", action="store_true", default=None,
                        help="fail if any plugin fails to load (default: warn and continue)")


__all__ = [
    "ENTRY_POINT_GROUP", "PluginInfo", "PluginLoadError", "PluginManager", "add_strict_flag", "analyzers",
    "build_connector", "connector_types", "get_plugin_manager", "notify_decision", "set_plugin_manager",
    "shutdown", "signal_functions", "startup", "validate_sources",
]


# Plugin analyzers reach the (pure) engine through this lookup, looked up at call time so that a
# test's monkeypatch of ``analyzers`` is seen.
nlp.plugin_analyzers = lambda: analyzers()
