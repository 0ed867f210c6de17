"""The freshdesk connector plugin: Freshdesk API v2 (or any compatible server).

Registered through the ``deskwatch`` entry point like any third-party plugin; see
docs/connectors/freshdesk.md for the settings and what is synced and written back.
"""

from __future__ import annotations

from deskwatch.core.connect.contract import ConnectorType
from deskwatch.core.connect.hookspecs import hookimpl
from deskwatch.plugins.freshdesk.connector import TYPE_NAME, FreshdeskConnector, create
from deskwatch.plugins.freshdesk.settings import FreshdeskSettings, parse_settings

FRESHDESK = ConnectorType(
    name=TYPE_NAME,
    parse_settings=parse_settings,
    create=create,
    description="Freshdesk: updated_since windows, spam/deleted passes, conversations, tagged idempotent updates",
)


@hookimpl
def deskwatch_register_connector_types(register):
    register(FRESHDESK)


__all__ = ["FRESHDESK", "FreshdeskConnector", "FreshdeskSettings", "create", "parse_settings"]
