"""HTTP building blocks for connectors: client, classification, retries, paginators, auth, budget.

A connector is meant to be mostly declarations on top of these:

* ``make_api_client(base_url, auth=..., retry=...)`` returns an ``ApiClient``: an
  ``httpx.AsyncClient`` wrapped with response classification, tenacity retries (Retry-After
  first, exponential backoff with jitter, capped by attempts and total wait) and a rate budget.
* ``classify(response) -> Resolution``: ok / retry / rate_limited / reauthenticate / fail, with a
  redacted message. Connectors pass a ``classifier`` for their API's quirks (it is asked first).
* ``CursorPaginator``, ``PageNumberPaginator``, ``NextUrlPaginator``, ``UpdatedSincePaginator``
  ("search updated_at >= T") with ``paginate()``: they stop
  on an empty page and raise ``PaginationLoop`` when a token repeats.
* Auth as ``httpx.Auth``: ``basic_auth``, ``zendesk_token_auth``, ``freshdesk_key_auth``,
  ``ApiKeyAuth``, ``BearerAuth``, ``OAuth2Auth`` (client credentials or JWT bearer, cached,
  refreshed once on 401).
* Every request has a whole-exchange deadline (``request_deadline``) and a body size cap
  (``max_response_bytes``); ``waiting_on(source)`` names the request a source waits on.
* ``RateBudget``: a client-side token bucket that also reads the helpdesk's "remaining" headers,
  so ``deskwatch status`` can show how much quota is left.

Nothing here prints a credential: auth helpers register their secrets with ``register_secret``
and every message goes through ``redact``; ``RedactingFilter`` does the same for log records.
"""

from __future__ import annotations

from deskwatch.core.connect.http.base import (  # noqa: F401
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_DEADLINE,
    DEFAULT_TIMEOUT,
    Sleep,
    user_agent,
)
from deskwatch.core.connect.http.redact import (  # noqa: F401
    RedactingFilter,
    SECRET_PARAMS,
    excerpt,
    redact,
    redact_url,
    register_secret,
    variants,
)
from deskwatch.core.connect.http.classify import (  # noqa: F401
    Action,
    Classifier,
    RETRY_STATUSES,
    Resolution,
    body_excerpt,
    classify,
    describe,
    location_host,
    parse_retry_after,
)
from deskwatch.core.connect.http.retry import (  # noqa: F401
    IDEMPOTENT_METHODS,
    NO_RETRY,
    RetryPolicy,
)
from deskwatch.core.connect.http.budget import (  # noqa: F401
    BudgetSnapshot,
    RateBudget,
)
from deskwatch.core.connect.http.client import (  # noqa: F401
    ApiClient,
    HttpSettings,
    InFlight,
    client_factory,
    decode_json,
    http_limits,
    http_settings,
    make_api_client,
    make_client,
    no_sleep,
    waiting_on,
)
from deskwatch.core.connect.http.paginate import (  # noqa: F401
    CursorPaginator,
    NextUrlPaginator,
    PageData,
    PageNumberPaginator,
    UpdatedSincePaginator,
    PaginationLoop,
    Paginator,
    dig,
    paginate,
    records_at,
)
from deskwatch.core.connect.http.auth import (  # noqa: F401
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    OAuth2Auth,
    OAuthToken,
    basic_auth,
    freshdesk_key_auth,
    zendesk_token_auth,
)

__all__ = [
    "Action",
    "ApiClient",
    "ApiKeyAuth",
    "BasicAuth",
    "BearerAuth",
    "BudgetSnapshot",
    "Classifier",
    "CursorPaginator",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_REQUEST_DEADLINE",
    "DEFAULT_TIMEOUT",
    "HttpSettings",
    "IDEMPOTENT_METHODS",
    "InFlight",
    "NO_RETRY",
    "NextUrlPaginator",
    "OAuth2Auth",
    "OAuthToken",
    "PageData",
    "PageNumberPaginator",
    "UpdatedSincePaginator",
    "PaginationLoop",
    "Paginator",
    "RETRY_STATUSES",
    "RateBudget",
    "RedactingFilter",
    "Resolution",
    "RetryPolicy",
    "SECRET_PARAMS",
    "Sleep",
    "basic_auth",
    "body_excerpt",
    "classify",
    "client_factory",
    "decode_json",
    "describe",
    "dig",
    "excerpt",
    "freshdesk_key_auth",
    "http_limits",
    "http_settings",
    "location_host",
    "make_api_client",
    "make_client",
    "no_sleep",
    "paginate",
    "parse_retry_after",
    "records_at",
    "redact",
    "redact_url",
    "register_secret",
    "user_agent",
    "variants",
    "waiting_on",
    "zendesk_token_auth",
]
