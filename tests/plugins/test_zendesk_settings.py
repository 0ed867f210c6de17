"""Zendesk source settings: defaults, credentials as secrets, precise errors."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from deskwatch.core.model.settings import ConfigError, Section
from deskwatch.plugins.zendesk.settings import parse_settings


def section(**data):
    return Section(data, "sources.support", "config.toml")


@pytest.fixture(autouse=True)
def _token_env(monkeypatch):
    monkeypatch.setenv("ZD_TOKEN", "s3cr3t-token-value")
    monkeypatch.setenv("ZD_OAUTH", "oauth-access-token")


def test_minimal_api_token_source():
    s = parse_settings(section(subdomain="acme", email="admin@acme.com", token="${ZD_TOKEN}"))
    assert s.name == "support"
    assert s.base_url == "https://acme.zendesk.com"
    assert s.api_url == "https://acme.zendesk.com/api/v2"
    assert s.ticket_url(42) == "https://acme.zendesk.com/agent/tickets/42"
    assert s.token.reveal() == "s3cr3t-token-value"
    assert s.page_size == 1000 and s.fetch_comments and s.start_time is None  # the export's maximum: fewest requests
    assert s.account_value_field == "annual_value" and s.tier_field == "tier"


def test_secret_never_prints():
    s = parse_settings(section(subdomain="acme", email="admin@acme.com", token="${ZD_TOKEN}"))
    assert "s3cr3t" not in repr(s) and "s3cr3t" not in str(s)
    assert "${ZD_TOKEN}" in repr(s)


def test_base_url_for_a_compatible_server_and_api_root_is_accepted():
    s = parse_settings(section(base_url="http://127.0.0.1:8080/api/v2/", oauth_token="${ZD_OAUTH}"))
    assert s.base_url == "http://127.0.0.1:8080"
    assert s.oauth_token.reveal() == "oauth-access-token" and s.token is None


def test_source_name_defaults_to_type_name_for_a_bare_section():
    s = parse_settings(Section({"subdomain": "acme", "oauth_token": "x"}))
    assert s.name == "zendesk"
    assert parse_settings(Section({"subdomain": "acme", "oauth_token": "x"}), name="eu").name == "eu"


def test_all_options():
    s = parse_settings(
        section(
            subdomain="acme",
            email="admin@acme.com",
            token="${ZD_TOKEN}",
            page_size=1000,
            comments_page_size=50,
            fetch_comments=False,
            start_time="2026-11-01T00:00:00Z",
            lookback_days=7,
            account_value_field="arr",
            tier_field="plan",
            renewal_field="renews_on",
            health_field="health_score",
            group_ids={"billing": 360004077472},
            agent_ids={"ana": 377922500012},
            escalation_tag="dw_escalated",
            timeout=10,
        )
    )
    assert s.start_time == datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert s.group_ids == {"billing": 360004077472} and s.agent_ids == {"ana": 377922500012}
    assert (s.account_value_field, s.tier_field, s.renewal_field, s.health_field) == (
        "arr",
        "plan",
        "renews_on",
        "health_score",
    )
    assert s.page_size == 1000 and s.comments_page_size == 50 and not s.fetch_comments


def test_toml_date_as_start_time():
    s = parse_settings(section(subdomain="acme", oauth_token="x", start_time=date(2026, 10, 1)))
    assert s.start_time == datetime(2026, 10, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, 'config.toml: sources.support.subdomain: missing; add subdomain = "acme"'),
        (
            {"subdomain": "acme", "base_url": "https://x", "oauth_token": "x"},
            "config.toml: sources.support.base_url: give either subdomain or base_url, not both",
        ),
        ({"subdomain": "acme.zendesk.com", "oauth_token": "x"}, "sources.support.subdomain: expected the account name"),
        ({"base_url": "acme.zendesk.com", "oauth_token": "x"}, "sources.support.base_url: expected an http(s) URL"),
        ({"subdomain": "acme"}, "sources.support.token: missing; add token"),
        ({"subdomain": "acme", "token": "${ZD_TOKEN}"}, "sources.support.email: missing; an API token needs"),
        (
            {"subdomain": "acme", "token": "${ZD_TOKEN}", "email": "a@b.c", "oauth_token": "x"},
            "sources.support.oauth_token: give either oauth_token, or email + token",
        ),
        (
            {"subdomain": "acme", "token": "${ZD_MISSING}", "email": "a@b.c"},
            "sources.support.token: environment variable ZD_MISSING is not set",
        ),
        ({"subdomain": "acme", "oauth_token": "x", "page_size": 5000}, "sources.support.page_size: must be at most 1000"),
        ({"subdomain": "acme", "oauth_token": "x", "page_size": "100"}, "sources.support.page_size: expected a whole number"),
        (
            {"subdomain": "acme", "oauth_token": "x", "start_time": "last tuesday"},
            "sources.support.start_time: expected an ISO 8601 time",
        ),
        (
            {"subdomain": "acme", "oauth_token": "x", "group_ids": {"billing": "abc"}},
            "sources.support.group_ids.billing: expected a whole number",
        ),
        (
            {"subdomain": "acme", "oauth_token": "x", "tier_field": "plan tier"},
            "sources.support.tier_field: expected an organization field key",
        ),
        (
            {"subdomain": "acme", "oauth_token": "x", "escalation_tag": "needs review"},
            "sources.support.escalation_tag: expected one tag without spaces",
        ),
        (
            {"subdomain": "acme", "oauth_token": "x", "page_sise": 10},
            "sources.support.page_sise: unknown key; did you mean 'page_size'?",
        ),
    ],
)
def test_errors_name_the_key_and_the_fix(data, message):
    with pytest.raises(ConfigError) as e:
        parse_settings(section(**data))
    assert message in str(e.value)
    assert "s3cr3t" not in str(e.value)


def test_a_config_file_source_builds_a_zendesk_connector(tmp_path):
    from deskwatch.core import config
    from deskwatch.core.connect import plugins
    from deskwatch.plugins.zendesk.connector import ZendeskConnector

    f = tmp_path / "deskwatch.toml"
    f.write_text(
        '[sources.eu-support]\ntype = "zendesk"\nsubdomain = "acme-eu"\nemail = "admin@acme.com"\n'
        'token = "${ZD_TOKEN}"\ntier_field = "plan"\n'
    )
    cfg = config.load(f)
    connector = plugins.build_connector(cfg.sources["eu-support"])
    assert isinstance(connector, ZendeskConnector)
    assert connector.source == connector.settings.name == "eu-support"
    assert connector.settings.base_url == "https://acme-eu.zendesk.com" and connector.settings.tier_field == "plan"

    f.write_text('[sources.eu]\ntype = "zendesk"\nsubdomain = "acme"\noauth_token = "x"\ntier_fild = "plan"\n')
    with pytest.raises(ConfigError, match=r"deskwatch.toml: sources.eu.tier_fild: unknown key; did you mean 'tier_field'\?"):
        plugins.validate_sources(config.load(f))
