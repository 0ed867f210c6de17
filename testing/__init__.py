"""Test kit for connector authors: the conformance suite, shipped as a pytest plugin.

``from deskwatch.testing import ConnectorConformance`` and subclass it (docs/plugins.md);
``FakeHelpdesk`` is a base for the in-memory API it runs against (queued failures, auth
rejection, a clock).
The pytest plugin (``deskwatch.testing.pytest_plugin``, loaded automatically once deskwatch is
installed) adds the ``deskwatch_sleeps``, ``deskwatch_client_factory`` and
``deskwatch_plugin_manager`` fixtures.
"""

try:
    import pytest

    # Before the import below: a failing conformance test then shows the values it compared,
    # not a bare AssertionError.
    pytest.register_assert_rewrite("deskwatch.testing.conformance", "deskwatch.testing.conformance_changes",
                                   "deskwatch.testing.structure")
except ImportError:  # pytest is the test extra; the kit imports without it
    pass

from deskwatch.testing.conformance import ConnectorConformance, FakeApi, SleepRecorder
from deskwatch.testing.fakeapi import FakeClock, FakeHelpdesk, QueuedFailure

__all__ = ["ConnectorConformance", "FakeApi", "FakeClock", "FakeHelpdesk", "QueuedFailure", "SleepRecorder"]
