"""The deskwatch conformance suite, run on the Example Desk connector: this is all it takes."""

from __future__ import annotations

import pytest

from deskwatch.core.model.settings import Section
from deskwatch.testing import ConnectorConformance
from deskwatch_example_connector import create, parse_settings
from deskwatch_example_connector.fake import FakeExampleDesk


class TestExampleConnector(ConnectorConformance):
    @pytest.fixture
    def fake_api(self, httpx_mock):
        return FakeExampleDesk().install(httpx_mock)

    @pytest.fixture
    def connector_factory(self, fake_api):
        settings = parse_settings(Section({"base_url": fake_api.base_url, "api_key": fake_api.secret, "page_size": 2}, "sources.demo"))
        return lambda client_factory: create("demo", settings, client_factory)

    # Example Desk's own status words, as the connector must map them.
    status_cases = {"waiting": "pending", "done": "solved", "open": "open", "closed": "closed"}
