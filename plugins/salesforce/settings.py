"""Settings of a Salesforce Service Cloud source: ``[sources.<name>]`` with ``type = "salesforce"``.

Every key is read through a ``Section`` so a bad value names the file, the dotted key and the fix;
unknown keys are errors. Credentials are ``Secret`` objects and never print.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from deskwatch.core.connect.kit import read_start_time
from deskwatch.core.connect.http import RetryPolicy
from deskwatch.core.model import CHANNELS, PRIORITIES, STATUSES
from deskwatch.core.model.settings import Secret, Section

TYPE_NAME = "salesforce"
AUTH_FLOWS = ("client_credentials", "jwt_bearer")
DEFAULT_LOGIN_URL = "https://login.salesforce.com"

# Salesforce picklist values are org-configurable; these are the out-of-the-box ones plus the
# usual additions. Each table merges over its default key by key, so an org adds its own values.
DEFAULT_CHANNEL_MAP = {
    "Email": "email",
    "Web": "web",
    "Phone": "phone",
    "Chat": "chat",
    "Messaging": "chat",
    "Social": "social",
    "Facebook": "social",
    "Twitter": "social",
    "API": "api",
}
DEFAULT_STATUS_MAP = {
    "New": "new",
    "Working": "open",
    "Escalated": "open",
    "Waiting on Customer": "pending",
    "On Hold": "on_hold",
    "Resolved": "solved",
    "Closed": "closed",
}
DEFAULT_PRIORITY_MAP = {"Low": "low", "Medium": "normal", "High": "high", "Critical": "urgent", "Urgent": "urgent"}

KEYS = (
    "base_url",
    "login_url",
    "instance_url",
    "ui_url",
    "api_version",
    "auth",
    "client_id",
    "client_secret",
    "username",
    "private_key",
    "private_key_file",
    "audience",
    "page_size",
    "start_time",
    "timeout",
    "max_attempts",
    "max_retry_wait",
    "requests_per_minute",
    "api_budget",
    "account_value_field",
    "account_tier_field",
    "account_renewal_field",
    "account_health_field",
    "tags_field",
    "include_emails",
    "channel_map",
    "status_map",
    "priority_map",
    "queues",
    "users",
)

_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")  # also keeps user text out of SOQL
_VERSION = re.compile(r"^v?(\d{2,3})\.(\d)$")
_SF_ID = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")


@dataclass(frozen=True)
class SalesforceSettings:
    """A parsed ``[sources.<name>]`` table for a Salesforce org (or a compatible server)."""

    name: str  # the configured source name; ticket ids are "<name>:<Case Id>"
    base_url: str  # My Domain URL (or a compatible server); also the default token host
    auth: str  # one of AUTH_FLOWS
    client_id: Secret
    client_secret: Secret | None = None
    username: str | None = None  # JWT subject
    private_key: Secret | None = field(default=None, repr=False)  # PEM, RS256 signing key
    login_url: str | None = None  # token endpoint host when it differs from base_url
    instance_url: str | None = None  # force the API host instead of the token's instance_url
    ui_url: str | None = None  # where humans open cases; defaults to the API host
    audience: str = DEFAULT_LOGIN_URL
    api_version: str = "v61.0"
    page_size: int = 2000  # Sforce-Query-Options batchSize; child rows (comments, e-mails) count toward it
    start_time: datetime | None = None
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    requests_per_minute: float | None = None  # client-side cap, shared by all calls of this source
    api_budget: float = 0.9  # stop fetching once this share of the daily API quota is used
    account_value_field: str | None = "AnnualRevenue"
    account_tier_field: str | None = None
    account_renewal_field: str | None = None
    account_health_field: str | None = None
    tags_field: str | None = None  # a text/multi-select Case field holding ";"-separated tags
    include_emails: bool = True
    channel_map: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(dict(DEFAULT_CHANNEL_MAP)))
    status_map: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(dict(DEFAULT_STATUS_MAP)))
    priority_map: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(dict(DEFAULT_PRIORITY_MAP)))
    queues: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # queue name -> 00G… Id
    users: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # agent name -> 005… User Id

    @property
    def token_url(self) -> str:
        return f"{(self.login_url or self.base_url).rstrip('/')}/services/oauth2/token"

    @property
    def data_path(self) -> str:
        """``/services/data/vNN.N`` — the REST root every call below hangs off."""
        return f"/services/data/{self.api_version}"

    def __repr__(self) -> str:  # the dataclass repr would be fine (Secrets mask) but keep it short
        return f"SalesforceSettings(name={self.name!r}, base_url={self.base_url!r}, auth={self.auth!r})"


def _url(s: Section, name: str, default: str | None) -> str | None:
    v = s.string(name, default)
    if v is None:
        return None
    v = v.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", v):
        raise s.error(name, f'expected an http(s) URL such as "https://example.my.salesforce.com", got "{v}"')
    return v


def _field(s: Section, name: str, default: str | None) -> str | None:
    v = s.string(name, default)
    if v is None or v == "":
        return None
    if not _FIELD.match(v):
        raise s.error(name, f'expected a Salesforce field API name such as "Tier__c", got "{v}"')
    return v


def _enum_map(s: Section, name: str, default: Mapping[str, str], allowed: tuple[str, ...]) -> Mapping[str, str]:
    sub = s.section(name)
    out = dict(default)
    for k in sub.keys():
        out[k] = sub.string(k, choices=allowed)
    return MappingProxyType(out)


def _ids(s: Section, key: str, prefix: str, what: str) -> Mapping[str, str]:
    sub = s.section(key)
    out = {}
    for k in sub.keys():
        v = sub.string(k)
        if not _SF_ID.match(v) or not v.startswith(prefix):
            raise sub.error(k, f'expected a {what} Id (15 or 18 characters starting with {prefix}), got "{v}"')
        out[k] = v
    return MappingProxyType(out)


def _queues(s: Section) -> Mapping[str, str]:
    return _ids(s, "queues", "00G", "queue")


def _rate(s: Section) -> float | None:
    v = s.number("requests_per_minute", None)
    if v is not None and v <= 0:
        raise s.error("requests_per_minute", f"must be more than 0, got {v:g}")
    return v


def _source_name(section: Section) -> str:
    # The sources parser hands us the section at "sources.<name>".
    return section.path.rsplit(".", 1)[-1] if section.path else TYPE_NAME


def parse_settings(section: Section, name: str | None = None) -> SalesforceSettings:
    """Read a Salesforce source table; raises ConfigError naming the key and the fix."""
    s = section
    s.check_unknown(KEYS)  # first: a misspelt key should be reported as such, not as "missing"
    auth = s.string("auth", "client_credentials", choices=AUTH_FLOWS)
    base_url = _url(s, "base_url", None)
    if base_url is None:
        raise s.error("base_url", 'missing; set it to your org\'s My Domain URL, e.g. "https://acme.my.salesforce.com"')
    client_id = s.secret("client_id", None)
    if client_id is None:
        raise s.error("client_id", 'missing; the connected app\'s consumer key, e.g. "${SALESFORCE_CLIENT_ID}"')
    client_secret = s.secret("client_secret", None)
    username = s.string("username", None)
    private_key = s.secret("private_key", None)
    key_file = s.string("private_key_file", None)
    if auth == "client_credentials" and client_secret is None:
        raise s.error("client_secret", 'missing; client_credentials needs the consumer secret, e.g. "${SALESFORCE_CLIENT_SECRET}"')
    if auth == "jwt_bearer":
        if not username:
            raise s.error("username", "missing; jwt_bearer needs the Salesforce username the integration runs as")
        if private_key is not None and key_file is not None:
            raise s.error("private_key_file", "give either private_key or private_key_file, not both")
        if key_file is not None:
            try:
                private_key = Secret(Path(key_file).expanduser().read_text(encoding="utf-8"), source=key_file)
            except OSError as e:
                raise s.error("private_key_file", f"cannot read {key_file}: {e.strerror}") from None
        if private_key is None:
            raise s.error("private_key", 'missing; jwt_bearer signs with an RSA key: private_key = "${SALESFORCE_PRIVATE_KEY}" or private_key_file')
        if "PRIVATE KEY" not in private_key.reveal():
            raise s.error("private_key" if key_file is None else "private_key_file", "expected a PEM-encoded RSA private key (-----BEGIN PRIVATE KEY-----)")
    version = s.string("api_version", "v61.0").strip()
    m = _VERSION.match(version)
    if not m:
        raise s.error("api_version", f'expected a REST API version such as "v61.0", got "{version}"')
    login_url = _url(s, "login_url", None)
    settings = SalesforceSettings(
        name=name or _source_name(section),
        base_url=base_url,
        auth=auth,
        client_id=client_id,
        client_secret=client_secret,
        username=username,
        private_key=private_key,
        login_url=login_url,
        instance_url=_url(s, "instance_url", None),
        ui_url=_url(s, "ui_url", None),
        audience=_url(s, "audience", login_url or DEFAULT_LOGIN_URL) or DEFAULT_LOGIN_URL,
        api_version=f"v{m.group(1)}.{m.group(2)}",
        page_size=s.integer("page_size", 2000, min=200, max=2000),
        start_time=read_start_time(s),
        timeout=s.number("timeout", 30.0, min=1, max=600),
        retry=RetryPolicy.from_section(s),
        requests_per_minute=_rate(s),
        api_budget=s.number("api_budget", 0.9, min=0.01, max=1.0),
        account_value_field=_field(s, "account_value_field", "AnnualRevenue"),
        account_tier_field=_field(s, "account_tier_field", None),
        account_renewal_field=_field(s, "account_renewal_field", None),
        account_health_field=_field(s, "account_health_field", None),
        tags_field=_field(s, "tags_field", None),
        include_emails=s.boolean("include_emails", True),
        channel_map=_enum_map(s, "channel_map", DEFAULT_CHANNEL_MAP, CHANNELS),
        status_map=_enum_map(s, "status_map", DEFAULT_STATUS_MAP, STATUSES),
        priority_map=_enum_map(s, "priority_map", DEFAULT_PRIORITY_MAP, PRIORITIES),
        queues=_queues(s),
        users=_ids(s, "users", "005", "User"),
    )
    return settings
