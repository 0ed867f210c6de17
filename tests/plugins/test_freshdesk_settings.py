"""Settings of a Freshdesk source: defaults, every key's validation, secrets that never print."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from deskwatch.core.model.settings import ConfigError, Section
from deskwatch.plugins.freshdesk.settings import FreshdeskSettings, parse_settings


def section(**kw) -> Section:
    return Section(kw, "sources.fd", "config.toml")


@pytest.fixture(autouse=True)
def api_key_env(monkeypatch):
    monkeypatch.setenv("FD_KEY", "s3cr3t-api-key")


def test_minimal_settings_take_documented_defaults():
    cfg = parse_settings(section(base_url="https://acme.freshdesk.com/", api_key="${FD_KEY}"))
    assert cfg.base_url == "https://acme.freshdesk.com"
    assert cfg.api_url == "https://acme.freshdesk.com/api/v2"
    assert cfg.ticket_url(21) == "https://acme.freshdesk.com/a/tickets/21"
    assert cfg.api_key.reveal() == "s3cr3t-api-key"
    assert (cfg.page_size, cfg.page_cap, cfg.start_time) == (100, 300, None)
    assert cfg.conversations and cfg.companies and cfg.sync_deleted
    assert cfg.status_map == {6: "pending", 7: "on_hold"}
    assert cfg.escalation_tag == "escalated"


def test_domain_builds_the_freshdesk_url():
    cfg = parse_settings(section(domain="acme", api_key="${FD_KEY}"))
    assert cfg.base_url == "https://acme.freshdesk.com"


def test_every_key_read():
    cfg = parse_settings(
        section(
            base_url="http://127.0.0.1:8765",
            api_key="${FD_KEY}",
            page_size=50,
            page_cap=10,
            start_time="2026-01-01T00:00:00Z",
            conversations=False,
            companies=False,
            sync_deleted=False,
            account_value_field="custom_fields.arr",
            tier_field="custom_fields.plan",
            renewal_field="custom_fields.renews",
            health_field="custom_fields.health",
            status_map={"6": "on_hold", "8": "pending"},
            groups={"billing": 67000001},
            agents={"ana": 67013469919},
            escalation_tag="dw-escalated",
        )
    )
    assert cfg == FreshdeskSettings(
        base_url="http://127.0.0.1:8765",
        api_key=cfg.api_key,
        page_size=50,
        page_cap=10,
        start_time=datetime(2026, 1, 1, tzinfo=timezone.utc),
        conversations=False,
        companies=False,
        sync_deleted=False,
        account_value_field="custom_fields.arr",
        tier_field="custom_fields.plan",
        renewal_field="custom_fields.renews",
        health_field="custom_fields.health",
        status_map={6: "on_hold", 7: "on_hold", 8: "pending"},
        groups={"billing": 67000001},
        agents={"ana": 67013469919},
        escalation_tag="dw-escalated",
    )


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"api_key": "${FD_KEY}"}, "sources.fd.base_url: missing; add base_url"),
        ({"base_url": "acme.freshdesk.com", "api_key": "${FD_KEY}"}, 'sources.fd.base_url: expected a URL such as'),
        ({"base_url": "https://acme.freshdesk.com/api/v2", "api_key": "${FD_KEY}"}, 'leave out /api/v2: write "https://acme.freshdesk.com"'),
        ({"base_url": "https://a.freshdesk.com", "domain": "a", "api_key": "${FD_KEY}"}, "either base_url or domain"),
        ({"domain": "acme.freshdesk.com", "api_key": "${FD_KEY}"}, "sources.fd.domain: expected the account name only"),
        ({"base_url": "https://a.freshdesk.com"}, "sources.fd.api_key: missing; add api_key = \"${FRESHDESK_API_KEY}\""),
        ({"base_url": "https://a.freshdesk.com", "api_key": "${FD_UNSET_VAR}"}, "environment variable FD_UNSET_VAR is not set"),
        ({"base_url": "https://a.freshdesk.com", "api_key": "${FD_KEY}", "page_size": 101}, "sources.fd.page_size: must be at most 100, got 101"),
        ({"base_url": "https://a.freshdesk.com", "api_key": "${FD_KEY}", "page_size": "50"}, 'sources.fd.page_size: expected a whole number, got "50"'),
        ({"base_url": "https://a.freshdesk.com", "api_key": "${FD_KEY}", "start_time": "last monday"}, "sources.fd.start_time: expected an ISO 8601 time"),
        ({"base_url": "https://a.freshdesk.com", "api_key": "${FD_KEY}", "status_map": {"3": "open"}}, "sources.fd.status_map.3: keys are custom Freshdesk status numbers"),
        ({"base_url": "https://a.freshdesk.com", "api_key": "${FD_KEY}", "status_map": {"6": "waiting"}}, "sources.fd.status_map.6: expected one of new, open, pending, on_hold, solved, closed"),
        ({"base_url": "https://a.freshdesk.com", "api_key": "${FD_KEY}", "groups": {"billing": "billing-team"}}, "sources.fd.groups.billing: expected a whole number"),
        ({"base_url": "https://a.freshdesk.com", "api_key": "${FD_KEY}", "tier_field": "custom_fields."}, "sources.fd.tier_field: expected a field name"),
        ({"base_url": "https://a.freshdesk.com", "api_key": "${FD_KEY}", "escalation_tag": "very urgent"}, "sources.fd.escalation_tag: expected one tag"),
        ({"base_url": "https://a.freshdesk.com", "api_key": "${FD_KEY}", "page_sise": 10}, "sources.fd.page_sise: unknown key; did you mean 'page_size'?"),
    ],
)
def test_bad_settings_name_the_key_and_the_fix(kw, message):
    with pytest.raises(ConfigError) as e:
        parse_settings(section(**kw))
    assert message in str(e.value)
    assert str(e.value).startswith("config.toml: sources.fd.")


def test_api_key_never_prints():
    cfg = parse_settings(section(base_url="https://acme.freshdesk.com", api_key="${FD_KEY}"))
    assert "s3cr3t" not in repr(cfg)
    assert "s3cr3t" not in str(cfg)
    literal = parse_settings(section(base_url="https://acme.freshdesk.com", api_key="inline-key-123"))
    assert "inline-key-123" not in repr(literal)


def test_shared_http_keys():
    cfg = parse_settings(
        section(base_url="https://acme.freshdesk.com", api_key="${FD_KEY}", timeout=5, max_attempts=3, max_retry_wait=60, requests_per_minute=100, low_quota=10)
    )
    assert (cfg.timeout, cfg.retry.max_attempts, cfg.retry.max_total_wait, cfg.requests_per_minute, cfg.low_quota) == (5.0, 3, 60.0, 100.0, 10)
    with pytest.raises(ConfigError, match="sources.fd.requests_per_minute: must be more than 0"):
        parse_settings(section(base_url="https://acme.freshdesk.com", api_key="${FD_KEY}", requests_per_minute=0))
