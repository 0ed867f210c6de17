"""Settings of a Zendesk source: the ``[sources.<name>]`` table with ``type = "zendesk"``.

Parsed once at start-up into a frozen ``ZendeskSettings``; every mistake is a ``ConfigError``
naming the file, the dotted key and the fix. Credentials are ``Secret`` objects, so the
settings can be logged or printed without leaking a token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping

from deskwatch.core.connect.kit import id_table, read_start_time
from deskwatch.core.connect.http import HttpSettings, RetryPolicy, http_settings
from deskwatch.core.model.settings import Secret, Section

TYPE_NAME = "zendesk"

# Zendesk's incremental export takes up to 1000 tickets a page; comments up to 100.
MAX_PAGE_SIZE = 1000
MAX_COMMENTS_PAGE_SIZE = 100

_SUBDOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*$")

KNOWN_KEYS = (
    "subdomain",
    "base_url",
    "email",
    "token",
    "oauth_token",
    "page_size",
    "comments_page_size",
    "fetch_comments",
    "comment_events",
    "backfill_closed_comments",
    "caught_up_minutes",
    "export_requests_per_minute",
    "start_time",
    "lookback_days",
    "account_value_field",
    "tier_field",
    "renewal_field",
    "health_field",
    "group_ids",
    "agent_ids",
    "escalation_tag",
    *HttpSettings.KEYS,  # base_url, timeout, max_attempts, max_retry_wait, requests_per_minute
)


@dataclass(frozen=True)
class ZendeskSettings:
    """Everything the Zendesk connector needs to know about one configured source."""

    name: str  # the source's name in config; prefixes ticket ids ("<name>:<native id>")
    base_url: str  # account root, e.g. https://acme.zendesk.com (no trailing slash, no /api/v2)
    email: str | None = None  # with ``token``: HTTP Basic "{email}/token:{token}"
    token: Secret | None = None
    oauth_token: Secret | None = None  # alternative: "Authorization: Bearer …"
    page_size: int = 1000  # tickets per incremental export page (Zendesk's maximum: one request per 1,000)
    comments_page_size: int = 100
    fetch_comments: bool = True  # one extra request per changed ticket; off = description only
    comment_events: bool = True  # caught up: comments from the ticket events export, not per ticket
    # A solved/closed ticket whose last change is older than ``caught_up_after`` is backfill:
    # its description stands in for its comments (one request per ticket saved) unless this is on.
    backfill_closed_comments: bool = False
    caught_up_after: timedelta = timedelta(hours=1)
    export_requests_per_minute: float = 10.0  # Zendesk's own limit on the incremental export
    quota_reserve: float = 0.1  # share of the account's quota left to its other integrations
    start_time: datetime | None = None  # where the first sync starts; None = lookback_days ago
    lookback_days: int = 30
    # organization_fields keys (Zendesk custom organization fields); "" = not used
    account_value_field: str = "annual_value"
    tier_field: str = "tier"
    renewal_field: str = "renewal_date"
    health_field: str = "health_score"
    # deskwatch team / agent names -> Zendesk group / user ids, for updates
    group_ids: Mapping[str, int] = field(default_factory=dict)
    agent_ids: Mapping[str, int] = field(default_factory=dict)
    escalation_tag: str = "escalated"  # Zendesk has no escalation flag; a tag stands for it
    timeout: float = 30.0
    retry: RetryPolicy = RetryPolicy()
    requests_per_minute: float | None = None  # client-side budget; None = only honour 429s

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v2"

    def ticket_url(self, native_id: int | str) -> str:
        """Where an agent opens the ticket in the Zendesk UI."""
        return f"{self.base_url}/agent/tickets/{native_id}"


def _base_url(s: Section) -> str:
    has_sub, has_base = s.has("subdomain"), s.has("base_url")
    if has_sub and has_base:
        raise s.error("base_url", "give either subdomain or base_url, not both")
    if has_sub:
        sub = s.string("subdomain").strip().lower()
        if not _SUBDOMAIN.match(sub):
            raise s.error("subdomain", f'expected the account name such as "acme" (for acme.zendesk.com), got "{sub}"')
        return f"https://{sub}.zendesk.com"
    if not has_base:
        raise s.error("subdomain", 'missing; add subdomain = "acme" (for acme.zendesk.com) or base_url = "https://…"')
    url = s.string("base_url").strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise s.error("base_url", f'expected an http(s) URL such as "https://acme.zendesk.com", got "{url}"')
    # People paste the API root; accept it and keep the account root.
    if url.endswith("/api/v2"):
        url = url[: -len("/api/v2")]
    return url


def _field_name(s: Section, name: str, default: str) -> str:
    v = s.string(name, default).strip()
    if v and not re.match(r"^[A-Za-z0-9_.-]+$", v):
        raise s.error(name, f'expected an organization field key such as "annual_value", got "{v}"')
    return v


def parse_settings(section: Section, name: str | None = None) -> ZendeskSettings:
    """Read a ``[sources.<name>]`` table of type zendesk; raises ConfigError naming the key.

    ``name`` is the source's name; by default the last part of the section's path
    (``sources.support`` -> ``support``), or "zendesk" for a bare section.
    """
    s = section
    source = name or (s.path.rsplit(".", 1)[-1] if s.path else TYPE_NAME)
    base_url = _base_url(s)
    http = http_settings(s, default_base_url=base_url)  # timeout, retries, requests_per_minute

    email = s.string("email", None)
    token = s.secret("token", None)
    oauth = s.secret("oauth_token", None)
    if oauth is not None and (token is not None or email is not None):
        raise s.error("oauth_token", "give either oauth_token, or email + token (API token), not both")
    if oauth is None:
        if token is None:
            raise s.error("token", 'missing; add token = "${ZENDESK_API_TOKEN}" with email, or oauth_token = "${…}"')
        if not email or "@" not in email:
            raise s.error("email", 'missing; an API token needs the agent e-mail it belongs to (email = "admin@acme.com")')
    if email is not None:
        email = email.strip()

    settings = ZendeskSettings(
        name=source,
        base_url=base_url,
        email=email,
        token=token,
        oauth_token=oauth,
        page_size=s.integer("page_size", MAX_PAGE_SIZE, min=1, max=MAX_PAGE_SIZE),
        comments_page_size=s.integer("comments_page_size", 100, min=1, max=MAX_COMMENTS_PAGE_SIZE),
        fetch_comments=s.boolean("fetch_comments", True),
        comment_events=s.boolean("comment_events", True),
        backfill_closed_comments=s.boolean("backfill_closed_comments", False),
        caught_up_after=timedelta(minutes=s.number("caught_up_minutes", 60.0, min=0.0)),
        export_requests_per_minute=s.number("export_requests_per_minute", 10.0, min=0.1),
        quota_reserve=http.quota_reserve,
        start_time=read_start_time(s),
        lookback_days=s.integer("lookback_days", 30, min=0),
        account_value_field=_field_name(s, "account_value_field", "annual_value"),
        tier_field=_field_name(s, "tier_field", "tier"),
        renewal_field=_field_name(s, "renewal_field", "renewal_date"),
        health_field=_field_name(s, "health_field", "health_score"),
        group_ids=id_table(s, "group_ids", "group"),
        agent_ids=id_table(s, "agent_ids", "agent"),
        escalation_tag=s.string("escalation_tag", "escalated").strip(),
        timeout=http.timeout,
        retry=http.retry,
        requests_per_minute=http.requests_per_minute,
    )
    if not settings.escalation_tag or " " in settings.escalation_tag:
        raise s.error("escalation_tag", f'expected one tag without spaces, got "{settings.escalation_tag}"')
    s.check_unknown(KNOWN_KEYS)
    return settings
