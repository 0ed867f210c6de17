"""pytest plugin for connector authors (fixtures of the conformance suite).

Registered through the ``pytest11`` entry point, so any project with deskwatch installed gets
these fixtures without a conftest.py.
"""

from __future__ import annotations

from typing import Callable, Iterator

import pytest


@pytest.fixture
def deskwatch_sleeps():
    """An instant sleep that records each wait (pass it to make_api_client / RateBudget)."""
    from deskwatch.testing.conformance import SleepRecorder

    return SleepRecorder()


@pytest.fixture
def deskwatch_client_factory(deskwatch_sleeps) -> Callable:
    """A ClientFactory whose retries sleep through ``deskwatch_sleeps`` (no real waiting)."""
    from deskwatch.core.connect.http import client_factory

    return client_factory(sleep=deskwatch_sleeps)


@pytest.fixture
def deskwatch_plugin_manager() -> Iterator:
    """A fresh plugin manager with no entry points loaded, installed as the process-wide one
    for the test; register throw-away plugins with ``manager.register(obj, "name")``."""
    from deskwatch.core.connect import plugins

    manager = plugins.PluginManager()
    previous = plugins.set_plugin_manager(manager)
    try:
        yield manager
    finally:
        plugins.set_plugin_manager(previous)
