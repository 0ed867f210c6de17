"""Auth as ``httpx.Auth``: basic, Zendesk token, Freshdesk key, API key header, bearer, and OAuth 2
(client credentials or JWT bearer, cached, refreshed once on 401)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import httpx

from deskwatch.core.connect.errors import AuthError, ConnectorError, RateLimited, TransientError
from deskwatch.core.model.settings import Secret
from deskwatch.core.connect.http.classify import parse_retry_after
from deskwatch.core.connect.http.base import user_agent
from deskwatch.core.connect.http.redact import redact, redact_url, register_secret, reveal

class BasicAuth(httpx.BasicAuth):
    """HTTP Basic auth whose password (and header) is registered for redaction."""

    def __init__(self, username: str | Secret, password: str | Secret):
        user, pw = reveal(username), reveal(password)
        super().__init__(user, pw)
        self.secrets = [pw, self._auth_header] if len(pw) >= 4 else [self._auth_header]
        if isinstance(username, Secret):
            self.secrets.append(user)
        for s in self.secrets:
            register_secret(s)
        register_secret(self._auth_header.split(" ", 1)[1])

    def __repr__(self) -> str:
        return "BasicAuth(***)"


def basic_auth(username: str | Secret, password: str | Secret) -> BasicAuth:
    return BasicAuth(username, password)


def zendesk_token_auth(email: str, token: str | Secret) -> BasicAuth:
    """Zendesk API token auth: Basic ``{email}/token:{token}``."""
    return BasicAuth(f"{email}/token", token)


def freshdesk_key_auth(api_key: str | Secret) -> BasicAuth:
    """Freshdesk API key auth: Basic ``{api_key}:X``."""
    return BasicAuth(api_key if isinstance(api_key, Secret) else Secret(api_key), "X")


class ApiKeyAuth(httpx.Auth):
    """An API key in a header: ``ApiKeyAuth("X-Api-Key", key)``, ``prefix="Bearer"`` for
    ``Bearer <key>``, or an exact ``template`` with a ``{key}`` placeholder for any other form,
    e.g. Zammad's ``ApiKeyAuth("Authorization", key, template="Token token={key}")``."""

    def __init__(self, header: str, key: str | Secret, *, prefix: str = "", template: str | None = None):
        if template is not None and (prefix or "{key}" not in template):
            raise ValueError('ApiKeyAuth: template needs a {key} placeholder (e.g. "Token token={key}") and no prefix')
        self.header = header
        if template is not None:
            self.value = template.replace("{key}", reveal(key))
        else:
            self.value = f"{prefix} {reveal(key)}".strip() if prefix else reveal(key)
        self.secrets = [reveal(key), self.value]
        register_secret(reveal(key))
        register_secret(self.value)

    def auth_flow(self, request: httpx.Request):
        request.headers[self.header] = self.value
        yield request

    def __repr__(self) -> str:
        return f"ApiKeyAuth({self.header}: ***)"


class BearerAuth(ApiKeyAuth):
    """``Authorization: Bearer <token>``."""

    def __init__(self, token: str | Secret):
        super().__init__("Authorization", token, prefix="Bearer")


@dataclass(frozen=True)
class OAuthToken:
    access_token: str = field(repr=False)
    instance_url: str | None = None
    expires_at: float | None = None  # clock() time, None when the server did not say
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class OAuth2Auth(httpx.Auth):
    """OAuth2 access tokens: fetched on first use, cached, refreshed once when a call gets a
    401 (Salesforce tokens expire silently), and ahead of ``expires_in`` when the server gives it.

    Client credentials: ``OAuth2Auth(token_url, client_id=..., client_secret=...)``.
    JWT bearer: ``OAuth2Auth(token_url, assertion=make_jwt)`` where ``make_jwt()`` returns a
    signed assertion string (called for every token request, so ``exp`` stays fresh).
    ``use_instance_url`` sends API calls to the ``instance_url`` of the token response.
    """

    requires_response_body = True  # httpx reads token responses before handing them to the flow

    def __init__(
        self,
        token_url: str,
        *,
        client_id: str | Secret | None = None,
        client_secret: str | Secret | None = None,
        assertion: Callable[[], str] | None = None,
        scope: str | None = None,
        client_auth: str = "body",
        use_instance_url: bool = False,
        clock: Callable[[], float] = time.monotonic,
        source: str = "",
    ):
        if assertion is None and not (client_id and client_secret):
            raise ValueError("OAuth2Auth needs client_id and client_secret, or an assertion callable")
        self.token_url = token_url
        self.client_id = reveal(client_id)
        self.client_secret = reveal(client_secret)
        self.assertion = assertion
        self.scope = scope
        self.client_auth = client_auth
        self.use_instance_url = use_instance_url
        self.clock = clock
        self.source = source
        self.token: OAuthToken | None = None
        self.token_requests = 0
        self._lock: asyncio.Lock | None = None
        self.secrets = [s for s in (self.client_secret,) if s]
        for s in self.secrets:
            register_secret(s)

    def __repr__(self) -> str:
        return f"OAuth2Auth({redact_url(self.token_url)})"

    def _token_request(self) -> httpx.Request:
        data: dict[str, str] = {}
        headers = {"Accept": "application/json", "User-Agent": user_agent()}
        if self.assertion is not None:
            data = {"grant_type": JWT_BEARER_GRANT, "assertion": self.assertion()}
        else:
            data = {"grant_type": "client_credentials"}
            if self.client_auth == "basic":
                headers["Authorization"] = httpx.BasicAuth(self.client_id, self.client_secret)._auth_header
            else:
                data.update(client_id=self.client_id, client_secret=self.client_secret)
        if self.scope:
            data["scope"] = self.scope
        self.token_requests += 1
        return httpx.Request("POST", self.token_url, data=data, headers=headers)

    def _read_token(self, response: httpx.Response) -> OAuthToken:
        try:
            body = json.loads(response.content or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if response.status_code >= 400 or not isinstance(body, Mapping) or not body.get("access_token"):
            reason = ""
            if isinstance(body, Mapping) and body.get("error"):
                reason = f": {body.get('error')}" + (f" ({body['error_description']})" if body.get("error_description") else "")
            elif response.status_code < 400:
                reason = ": the response carries no access_token"
            if response.status_code == 429:
                err_cls: type[ConnectorError] = RateLimited
            elif response.status_code >= 500 or (response.status_code < 400 and body is None) or (
                response.status_code == 403 and b"REQUEST_LIMIT_EXCEEDED" in response.content
            ):
                # The token service is down, overloaded or cut the answer short: not a credential problem.
                raise TransientError(
                    redact(f"OAuth token request to {redact_url(self.token_url)} failed with {response.status_code}"
                           f"{reason or ': the token service is unavailable'}; will retry", self.secrets),
                    retry_after=parse_retry_after(response.headers.get("retry-after")),
                    source=self.source,
                    status=response.status_code,
                )
            else:
                err_cls = AuthError
            raise err_cls(
                redact(
                    f"OAuth token request to {redact_url(self.token_url)} failed with {response.status_code}{reason}; "
                    "check the client id/secret (or the JWT key and user) in the source settings",
                    self.secrets,
                ),
                source=self.source,
                status=response.status_code,
            )
        token = str(body["access_token"])
        register_secret(token)
        expires_at = None
        try:
            if body.get("expires_in") is not None:
                expires_at = self.clock() + float(body["expires_in"]) - 30.0
        except (TypeError, ValueError):
            pass
        return OAuthToken(token, body.get("instance_url"), expires_at, body)

    def _valid(self) -> bool:
        return self.token is not None and (self.token.expires_at is None or self.clock() < self.token.expires_at)

    def _sign(self, request: httpx.Request) -> None:
        assert self.token is not None
        request.headers["Authorization"] = f"Bearer {self.token.access_token}"
        if self.use_instance_url and self.token.instance_url:
            base = httpx.URL(self.token.instance_url)
            request.url = request.url.copy_with(scheme=base.scheme, host=base.host, port=base.port)
            request.headers["Host"] = request.url.netloc.decode("ascii")

    def auth_flow(self, request: httpx.Request):
        if not self._valid():
            token_response = yield self._token_request()
            self.token = self._read_token(token_response)
        self._sign(request)
        response = yield request
        if response.status_code == 401:
            # Refresh once: a second 401 means the credentials themselves are refused.
            token_response = yield self._token_request()
            self.token = self._read_token(token_response)
            self._sign(request)
            yield request

    async def async_auth_flow(self, request: httpx.Request):
        # Same flow as auth_flow, but concurrent requests share one token fetch and one refresh.
        if self._lock is None:
            self._lock = asyncio.Lock()
        if not self._valid():
            async with self._lock:
                if not self._valid():
                    token_response = yield self._token_request()
                    await token_response.aread()
                    self.token = self._read_token(token_response)
        used = self.token
        self._sign(request)
        response = yield request
        if response.status_code == 401:
            async with self._lock:
                if self.token is used:  # nobody refreshed it while we waited
                    token_response = yield self._token_request()
                    await token_response.aread()
                    self.token = self._read_token(token_response)
            self._sign(request)
            yield request

    def invalidate(self) -> None:
        self.token = None
