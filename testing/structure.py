"""Structural checks for a connector plugin, without any API: the plugin registers a connector
type through the hook, loads cleanly, reads its settings (and refuses bad ones with a
ConfigError naming the key), builds a Connector with the contract's methods, and closes it.

    from deskwatch.testing.structure import StructuralChecks

    class TestStructure(StructuralChecks):
        plugin = my_plugin_module
        settings = {"base_url": "https://example.invalid", "api_key": "not-a-real-key"}

or call ``structural_problems(module, settings)`` for the list of what is wrong.
"""

from __future__ import annotations

import asyncio
import inspect
from types import ModuleType
from typing import Any, Mapping

from deskwatch.core.connect import plugins
from deskwatch.core.connect.contract import Connector, ConnectorType
from deskwatch.core.connect.http import make_api_client
from deskwatch.core.model.settings import ConfigError, Section

CONTRACT_METHODS = ("check", "fetch", "update", "close")


def _types(module: ModuleType, name: str) -> tuple[dict[str, ConnectorType], list[str]]:
    manager = plugins.PluginManager()
    problems: list[str] = []
    if not manager.register(module, name):
        return {}, [str(e) for e in manager.errors] or [f"{name}: not registered"]
    types = {k: v for k, v in manager.connector_types().items()}
    problems += [str(e) for e in manager.errors]
    return types, problems


def structural_problems(module: ModuleType, settings: Mapping[str, Any], *, name: str = "plugin-under-test") -> list[str]:
    """What keeps ``module`` from working as a connector plugin (empty when nothing)."""
    types, problems = _types(module, name)
    if problems:
        return problems
    if not types:
        return [f"{module.__name__}: registers no connector type (implement deskwatch_register_connector_types)"]
    for type_name, ctype in types.items():
        try:
            ctype.parse_settings(Section({}, f"sources.{type_name}", "config.toml"))
            problems.append(f"{type_name}: parse_settings accepts an empty section; required keys must raise ConfigError")
        except ConfigError:
            pass
        except Exception as e:  # noqa: BLE001 - the point is to report it
            problems.append(f"{type_name}: parse_settings raised {type(e).__name__} on an empty section, not ConfigError: {e}")
        try:
            ctype.parse_settings(Section({**settings, "no_such_key_x": 1}, f"sources.{type_name}", "config.toml"))
            problems.append(f"{type_name}: parse_settings accepts an unknown key; call section.check_unknown(KEYS)")
        except ConfigError as e:
            if "no_such_key_x" not in str(e):
                problems.append(f"{type_name}: the error for an unknown key does not name it: {e}")
        try:
            parsed = ctype.parse_settings(Section(dict(settings), f"sources.{type_name}", "config.toml"))
        except ConfigError as e:
            problems.append(f"{type_name}: parse_settings refuses the example settings: {e}")
            continue
        connector = ctype.create(type_name, parsed, make_api_client)
        if not isinstance(connector, Connector):
            problems.append(f"{type_name}: create() returned {type(connector).__name__}, not a Connector")
            continue
        if connector.type_name != type_name:
            problems.append(f"{type_name}: the connector's type_name is {connector.type_name!r}")
        for method in CONTRACT_METHODS:
            fn = getattr(connector, method, None)
            if fn is None or not (inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)):
                problems.append(f"{type_name}: {method}() must be an async method of the connector")
        asyncio.run(connector.close())
    return problems


class StructuralChecks:
    """Pytest mixin: set ``plugin`` (the module) and ``settings`` (a working source table)."""

    plugin: ModuleType
    settings: Mapping[str, Any] = {}

    def test_plugin_structure(self):
        problems = structural_problems(self.plugin, self.settings)
        assert problems == [], "\n".join(problems)
