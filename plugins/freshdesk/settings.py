"""Settings of a Freshdesk source: the keys of ``[sources.<name>]`` with ``type = "freshdesk"``.

Every key is validated here with an error that names ``sources.<name>.<key>`` and the fix;
unknown keys are errors, so a misspelt key never silently falls back to a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping
from urllib.parse import urlsplit

from deskwatch.core.connect.kit import id_table, read_start_time
from deskwatch.core.connect.http import HttpSettings, RetryPolicy, http_settings
from deskwatch.core.model import STATUSES
from deskwatch.core.model.settings import Secret, Section

# Freshdesk's own status numbers (2 Open .. 5 Closed) are fixed; accounts add custom statuses
# from 6 upwards. New accounts ship "Waiting on Customer" (6) and "Waiting on Third Party" (7),
# hence these defaults; override them with `status_map` when an account differs.
DEFAULT_STATUS_MAP: Mapping[int, str] = {6: "pending", 7: "on_hold"}

KNOWN_KEYS = (
    "base_url",
    "domain",
    "api_key",
    "page_size",
    "page_cap",
    "start_time",
    "conversations",
    "backfill_closed_conversations",
    "caught_up_minutes",
    "include_stats",
    "companies",
    "sync_deleted",
    "account_value_field",
    "tier_field",
    "renewal_field",
    "health_field",
    "status_map",
    "groups",
    "agents",
    "escalation_tag",
    "low_quota",
    *HttpSettings.KEYS,  # timeout, max_attempts, max_retry_wait, requests_per_minute
)


@dataclass(frozen=True)
class FreshdeskSettings:
    """Parsed settings of one Freshdesk source (see docs/connectors/freshdesk.md)."""

    base_url: str  # e.g. https://acme.freshdesk.com (no /api/v2); any compatible server works
    api_key: Secret
    page_size: int = 100  # Freshdesk's maximum per_page
    page_cap: int = 300  # Freshdesk serves at most 300 pages per query
    start_time: datetime | None = None  # first sync reads from here; None = 30 days back
    conversations: bool = True  # fetch /tickets/{id}/conversations for the messages
    companies: bool = True  # list /companies (updated_since) for account value, tier, renewal, health
    # A resolved/closed ticket last changed over ``caught_up_after`` ago is backfill: no
    # conversations read for it (its description stands in) unless this is on.
    backfill_closed_conversations: bool = False
    caught_up_after: timedelta = timedelta(hours=1)
    include_stats: bool = False  # include=stats costs credits for the last status change time only
    quota_reserve: float = 0.1  # share of the account's quota left to its other integrations
    sync_deleted: bool = True  # extra passes with filter=deleted and filter=spam
    account_value_field: str = "custom_fields.annual_value"
    tier_field: str = "account_tier"
    renewal_field: str = "renewal_date"
    health_field: str = "health_score"
    status_map: Mapping[int, str] = field(default_factory=lambda: dict(DEFAULT_STATUS_MAP))
    groups: Mapping[str, int] = field(default_factory=dict)  # deskwatch group/team name -> group_id
    agents: Mapping[str, int] = field(default_factory=dict)  # deskwatch assignee name -> responder_id
    escalation_tag: str = "escalated"
    # When X-Ratelimit-Remaining drops to this many calls, slow down instead of hitting 429s.
    low_quota: int = 5
    timeout: float = 30.0
    retry: RetryPolicy = RetryPolicy()
    requests_per_minute: float | None = None  # client-side cap; None = only the server's headers

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/v2"

    def ticket_url(self, native_id: int | str) -> str:
        """Where an agent opens the ticket in the Freshdesk UI."""
        return f"{self.base_url}/a/tickets/{native_id}"


def _base_url(s: Section) -> str:
    if s.has("base_url") and s.has("domain"):
        raise s.error("domain", "give either base_url or domain, not both")
    if s.has("domain"):
        domain = s.string("domain").strip()
        if not domain or "/" in domain or "." in domain:
            raise s.error("domain", f'expected the account name only, e.g. "acme" for acme.freshdesk.com, got "{domain}"')
        return f"https://{domain}.freshdesk.com"
    if not s.has("base_url"):
        raise s.error("base_url", 'missing; add base_url = "https://<account>.freshdesk.com" (or domain = "<account>")')
    raw = s.string("base_url").strip().rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise s.error("base_url", f'expected a URL such as "https://acme.freshdesk.com", got "{raw}"')
    if parts.path.rstrip("/").endswith("/api/v2"):
        raise s.error("base_url", f'leave out /api/v2: write "{raw[: -len("/api/v2")]}"')
    if parts.query or parts.fragment:
        raise s.error("base_url", "must not carry a query string or fragment")
    return raw


def _field_path(s: Section, name: str, default: str) -> str:
    v = s.string(name, default).strip()
    if not v or any(not p for p in v.split(".")):
        raise s.error(name, f'expected a field name such as "{default}" (dots reach into nested objects), got "{v}"')
    return v


def _status_map(s: Section) -> dict[int, str]:
    out = dict(DEFAULT_STATUS_MAP)
    table = s.section("status_map")
    for key in table.keys():
        if not key.isdigit() or int(key) < 6:
            raise table.error(key, "keys are custom Freshdesk status numbers (6 and up) written as strings, e.g. \"6\" = \"pending\"")
        out[int(key)] = table.string(key, choices=STATUSES)
    return out


def parse_settings(section: Section) -> FreshdeskSettings:
    """Read ``[sources.<name>]`` of a Freshdesk source; raises ConfigError naming the key."""
    s = section
    base_url = _base_url(s)
    if not s.has("api_key"):
        raise s.error("api_key", 'missing; add api_key = "${FRESHDESK_API_KEY}" and export that variable')
    api_key = s.secret("api_key")
    if api_key is None or not api_key.reveal().strip():
        raise s.error("api_key", "is empty; set it to your Freshdesk API key (Profile settings > API key)")
    http = http_settings(s, default_base_url=base_url)
    cfg = FreshdeskSettings(
        base_url=base_url,
        api_key=api_key,
        page_size=s.integer("page_size", 100, min=1, max=100),
        page_cap=s.integer("page_cap", 300, min=1, max=300),
        start_time=read_start_time(s),
        conversations=s.boolean("conversations", True),
        companies=s.boolean("companies", True),
        backfill_closed_conversations=s.boolean("backfill_closed_conversations", False),
        caught_up_after=timedelta(minutes=s.number("caught_up_minutes", 60.0, min=0.0)),
        include_stats=s.boolean("include_stats", False),
        sync_deleted=s.boolean("sync_deleted", True),
        account_value_field=_field_path(s, "account_value_field", "custom_fields.annual_value"),
        tier_field=_field_path(s, "tier_field", "account_tier"),
        renewal_field=_field_path(s, "renewal_field", "renewal_date"),
        health_field=_field_path(s, "health_field", "health_score"),
        status_map=_status_map(s),
        groups=id_table(s, "groups", "group"),
        agents=id_table(s, "agents", "agent"),
        escalation_tag=s.string("escalation_tag", "escalated").strip(),
        low_quota=s.integer("low_quota", 5, min=0),
        timeout=http.timeout,
        retry=http.retry,
        requests_per_minute=http.requests_per_minute,
        quota_reserve=http.quota_reserve,
    )
    if not cfg.escalation_tag or " " in cfg.escalation_tag or "," in cfg.escalation_tag:
        raise s.error("escalation_tag", f'expected one tag without spaces or commas, got "{cfg.escalation_tag}"')
    s.check_unknown(KNOWN_KEYS)
    return cfg
