"""deskwatch connector plugin for the Example Desk JSON API.

The whole plugin surface is this module: one ``hookimpl`` that registers one ConnectorType.
deskwatch finds it through the ``deskwatch`` entry point in pyproject.toml.
"""

from __future__ import annotations

from deskwatch.core import hookimpl
from deskwatch.core.connect.contract import ConnectorType
from deskwatch_example_connector.connector import ExampleConnector, ExampleSettings, create, parse_settings

__version__ = "0.1.0"

EXAMPLE = ConnectorType(
    name="example",
    parse_settings=parse_settings,
    create=create,
    description="Example Desk (a tiny JSON API; the template for third-party connectors)",
)


@hookimpl
def deskwatch_register_connector_types(register):
    register(EXAMPLE)


__all__ = ["EXAMPLE", "ExampleConnector", "ExampleSettings", "create", "parse_settings"]
