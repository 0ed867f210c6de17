"""Settings of the Salesforce connector: defaults, credentials as Secrets, precise errors."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from deskwatch.core.model.settings import ConfigError, Section
from deskwatch.plugins.salesforce.settings import parse_settings

BASE = {
    "base_url": "https://acme.my.salesforce.com/",
    "client_id": "${SF_TEST_CLIENT_ID}",
    "client_secret": "${SF_TEST_CLIENT_SECRET}",
}

PEM = "-----BEGIN PRIVATE KEY-----\nMIIB...\n-----END PRIVATE KEY-----\n"


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("SF_TEST_CLIENT_ID", "3MVG9consumer-key")
    monkeypatch.setenv("SF_TEST_CLIENT_SECRET", "s3cr3t-consumer-secret")
    monkeypatch.setenv("SF_TEST_KEY", PEM)


def parse(extra=None, drop=()):
    data = {**BASE, **(extra or {})}
    for k in drop:
        data.pop(k, None)
    return parse_settings(Section(data, "sources.acme-sf", "config.toml"))


def test_defaults_and_source_name_from_the_section_path():
    s = parse()
    assert s.name == "acme-sf"
    assert s.base_url == "https://acme.my.salesforce.com"
    assert s.token_url == "https://acme.my.salesforce.com/services/oauth2/token"
    assert s.auth == "client_credentials"
    assert s.api_version == "v61.0" and s.data_path == "/services/data/v61.0"
    assert s.page_size == 2000 and s.api_budget == 0.9
    assert s.account_value_field == "AnnualRevenue" and s.account_tier_field is None
    assert s.channel_map["Email"] == "email" and s.status_map["On Hold"] == "on_hold"
    assert s.start_time is None


def test_secrets_are_read_from_the_environment_and_never_print():
    s = parse()
    assert s.client_secret.reveal() == "s3cr3t-consumer-secret"
    for text in (repr(s), str(s), repr(s.client_secret), str(s.client_id)):
        assert "s3cr3t" not in text and "3MVG9" not in text


def test_overrides_merge_over_the_default_maps():
    s = parse(
        {
            "api_version": "58.0",
            "page_size": 500,
            "start_time": "2026-11-01T00:00:00Z",
            "account_tier_field": "Tier__c",
            "account_renewal_field": "Renewal_Date__c",
            "tags_field": "Tags__c",
            "channel_map": {"WhatsApp": "chat"},
            "status_map": {"Awaiting Reply": "pending"},
            "priority_map": {"P1": "urgent"},
            "queues": {"Tier 2": "00G5e000001AbCdEAK"},
        }
    )
    assert s.api_version == "v58.0"
    assert s.page_size == 500
    assert s.start_time == datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert s.channel_map["WhatsApp"] == "chat" and s.channel_map["Email"] == "email"
    assert s.status_map["Awaiting Reply"] == "pending" and s.status_map["New"] == "new"
    assert s.priority_map["P1"] == "urgent"
    assert s.queues == {"Tier 2": "00G5e000001AbCdEAK"}


def test_jwt_bearer_needs_username_and_a_pem_key():
    s = parse({"auth": "jwt_bearer", "username": "integration@acme.com", "private_key": "${SF_TEST_KEY}"}, drop=("client_secret",))
    assert s.auth == "jwt_bearer" and s.private_key.reveal() == PEM
    assert s.audience == "https://login.salesforce.com"
    assert "BEGIN" not in repr(s)
    with pytest.raises(ConfigError, match=r"sources\.acme-sf\.username: missing"):
        parse({"auth": "jwt_bearer", "private_key": "${SF_TEST_KEY}"})
    with pytest.raises(ConfigError, match=r"sources\.acme-sf\.private_key: missing"):
        parse({"auth": "jwt_bearer", "username": "u@acme.com"})
    with pytest.raises(ConfigError, match=r"private_key: expected a PEM-encoded"):
        parse({"auth": "jwt_bearer", "username": "u@acme.com", "private_key": "not a key"})


def test_jwt_key_from_a_file(tmp_path):
    f = tmp_path / "sf.pem"
    f.write_text(PEM)
    s = parse({"auth": "jwt_bearer", "username": "u@acme.com", "private_key_file": str(f), "login_url": "https://test.salesforce.com"})
    assert s.private_key.reveal() == PEM
    assert s.audience == "https://test.salesforce.com"  # sandboxes sign for test.salesforce.com
    assert s.token_url == "https://test.salesforce.com/services/oauth2/token"
    with pytest.raises(ConfigError, match="private_key_file: cannot read"):
        parse({"auth": "jwt_bearer", "username": "u@acme.com", "private_key_file": str(tmp_path / "nope.pem")})


@pytest.mark.parametrize(
    ("extra", "drop", "message"),
    [
        ({}, ("base_url",), r"config.toml: sources.acme-sf.base_url: missing; set it to your org's My Domain URL"),
        ({"base_url": "acme.my.salesforce.com"}, (), r"base_url: expected an http\(s\) URL"),
        ({}, ("client_secret",), r"client_secret: missing; client_credentials needs the consumer secret"),
        ({"auth": "password"}, (), r"auth: expected one of client_credentials, jwt_bearer, got \"password\""),
        ({"api_version": "latest"}, (), r"api_version: expected a REST API version such as \"v61.0\""),
        ({"page_size": 50}, (), r"page_size: must be at least 200, got 50"),
        ({"start_time": "yesterday"}, (), r"start_time: expected an ISO 8601 time"),
        ({"account_tier_field": "Tier__c; DELETE"}, (), r"account_tier_field: expected a Salesforce field API name"),
        ({"status_map": {"Parked": "snoozed"}}, (), r"status_map.Parked: expected one of new, open, pending"),
        ({"queues": {"Tier 2": "005000000000001"}}, (), r"queues.Tier 2: expected a queue Id"),
        ({"api_budget": 1.5}, (), r"api_budget: must be at most 1"),
        ({"client_secet": "x"}, (), r"client_secet: unknown key; did you mean 'client_secret'\?"),
        ({"client_secret": "${SF_NOT_SET_ANYWHERE}"}, (), r"client_secret: environment variable SF_NOT_SET_ANYWHERE is not set"),
    ],
)
def test_bad_settings_name_the_key_and_the_fix(extra, drop, message):
    with pytest.raises(ConfigError, match=message):
        parse(extra, drop)
