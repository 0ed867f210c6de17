"""The zendesk connector plugin: Zendesk Support API v2 (or any compatible server).

Registered through the ``deskwatch`` entry point like any third-party plugin; see
docs/connectors/zendesk.md for the settings and what is synced and written back.
"""

from __future__ import annotations

from deskwatch.core.connect.contract import ConnectorType
from deskwatch.core.connect.hookspecs import hookimpl
from deskwatch.plugins.zendesk.connector import ZendeskConnector, create
from deskwatch.plugins.zendesk.settings import TYPE_NAME, ZendeskSettings, parse_settings

ZENDESK = ConnectorType(
    name=TYPE_NAME,
    parse_settings=parse_settings,
    create=create,
    description="Zendesk Support: cursor incremental export, comments, safe updates, bulk update_many",
)


@hookimpl
def deskwatch_register_connector_types(register):
    register(ZENDESK)


__all__ = ["ZENDESK", "ZendeskConnector", "ZendeskSettings", "create", "parse_settings"]
