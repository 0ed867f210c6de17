"""The Salesforce Service Cloud connector plugin: ``type = "salesforce"`` in ``[sources.<name>]``.

Built the way a third-party connector would be: it registers a ``ConnectorType`` through the
``deskwatch_register_connector_types`` hook and does its work in ``SalesforceConnector``.
"""

from __future__ import annotations

from deskwatch.core.connect.contract import ConnectorType
from deskwatch.core.connect.hookspecs import hookimpl

from .connector import SalesforceConnector, create
from .settings import TYPE_NAME, SalesforceSettings, parse_settings

CONNECTOR_TYPE = ConnectorType(
    name=TYPE_NAME,
    parse_settings=parse_settings,
    create=create,
    description="Salesforce Service Cloud Cases (OAuth2 client credentials or JWT bearer; SOQL on SystemModstamp)",
)


@hookimpl
def deskwatch_register_connector_types(register):
    """Register the salesforce connector type."""
    register(CONNECTOR_TYPE)


__all__ = ["CONNECTOR_TYPE", "SalesforceConnector", "SalesforceSettings", "create", "parse_settings"]
