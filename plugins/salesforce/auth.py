"""OAuth2 server-to-server auth for Salesforce: client credentials or JWT bearer (RS256).

Both flows go through ``deskwatch.core.connect.http.OAuth2Auth``, which caches the token and asks for a
new one once when a call comes back 401 (Salesforce sessions expire without an ``expires_in``).
The JWT is signed with ``cryptography`` (already installed as a dependency of asyncssh); it is
imported inside the function so a missing package fails only the jwt_bearer flow, clearly.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Callable

from deskwatch.core.connect.contract import AuthError
from deskwatch.core.connect.http import OAuth2Auth, register_secret

from .settings import SalesforceSettings

JWT_LIFETIME = 180  # seconds; Salesforce accepts assertions that expire within 3 minutes


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_jwt(claims: dict, private_key_pem: str) -> str:
    """A compact RS256 JWT for ``claims``. Raises AuthError (without the key) if it cannot sign."""
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
    except ImportError:  # pragma: no cover - cryptography ships with asyncssh in every install we know of
        raise AuthError("jwt_bearer needs the 'cryptography' package; pip install cryptography, or use auth = \"client_credentials\"") from None
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode("utf-8"), password=None)
    except (ValueError, TypeError) as e:
        raise AuthError(f"private_key: cannot load the RSA key ({type(e).__name__}); give an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise AuthError("private_key: expected an RSA private key (RS256), got another key type")
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64url(signature)}"


def jwt_assertion(settings: SalesforceSettings, clock: Callable[[], float] = time.time) -> Callable[[], str]:
    """A callable giving a fresh assertion each time a token is requested (``exp`` moves on)."""

    def make() -> str:
        assert settings.private_key is not None and settings.username
        claims = {
            "iss": settings.client_id.reveal(),
            "sub": settings.username,
            "aud": settings.audience,
            "exp": int(clock()) + JWT_LIFETIME,
        }
        token = sign_jwt(claims, settings.private_key.reveal())
        register_secret(token)  # a signed assertion is a credential for its lifetime
        return token

    return make


def oauth_auth(settings: SalesforceSettings, clock: Callable[[], float] = time.time) -> OAuth2Auth:
    """The httpx auth for a Salesforce source. API calls go to the token's ``instance_url``
    unless ``instance_url`` is forced in the settings."""
    common = dict(use_instance_url=settings.instance_url is None, source=settings.name)
    if settings.auth == "jwt_bearer":
        register_secret(settings.private_key)
        return OAuth2Auth(settings.token_url, assertion=jwt_assertion(settings, clock), **common)
    return OAuth2Auth(settings.token_url, client_id=settings.client_id, client_secret=settings.client_secret, **common)
