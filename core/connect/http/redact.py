"""Redaction: secrets never reach a message or a log line. Auth helpers register their secrets;
every message built here goes through ``redact``; ``RedactingFilter`` does the same for log records."""

from __future__ import annotations

import logging
import re
from typing import Iterable

import httpx

from deskwatch.core.model.settings import Secret

log = logging.getLogger("deskwatch.http")

_SECRETS: set[str] = set()
# Query keys whose values are credentials, in URLs and form bodies.
SECRET_PARAMS = (
    "token", "access_token", "refresh_token", "id_token", "api_key", "apikey", "key", "password",
    "secret", "client_secret", "assertion", "code", "signature", "sig", "auth", "session_id",
)
_PARAM_RE = re.compile(r"(?i)\b(" + "|".join(SECRET_PARAMS) + r")=([^&\s\"'#]+)")
_AUTH_HEADER_RE = re.compile(r"(?i)\b((?:proxy-)?authorization|x-api-key|api-key)(\"?\s*[:=]\s*\"?)(?:(basic|bearer|token|oauth)\s+)?([^\s\"',}]+)")
_USERINFO_RE = re.compile(r"(?i)\b(https?://)([^/\s:@]+):([^/\s@]+)@")
_BEARER_RE = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*")


def register_secret(value: str | Secret | None) -> None:
    """Remember a credential so ``redact`` removes it wherever it shows up. Very short values
    are skipped: masking "X" everywhere would garble messages without protecting anything."""
    if isinstance(value, Secret):
        value = value.reveal()
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str, secrets: Iterable[str | Secret | None] = ()) -> str:
    """``text`` with credentials replaced by ``***``: registered and given secret values,
    Authorization header values, bearer tokens, credentials in URLs and query strings."""
    if not text:
        return text
    values = set(_SECRETS)
    for s in secrets:
        if isinstance(s, Secret):
            s = s.reveal()
        if s and len(s) >= 4:
            values.add(s)
    # Longest first, so a secret that contains another is masked whole.
    for v in sorted(values, key=len, reverse=True):
        text = text.replace(v, "***")
    text = _USERINFO_RE.sub(r"\1***:***@", text)
    text = _PARAM_RE.sub(lambda m: f"{m.group(1)}=***", text)
    text = _AUTH_HEADER_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{(m.group(3) + ' ') if m.group(3) else ''}***", text)
    text = _BEARER_RE.sub("Bearer ***", text)
    return text


def redact_url(url: str | httpx.URL) -> str:
    """A URL safe to show: no user info, secret query values masked."""
    return redact(str(url))


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the rendered message of every record it sees. Install it
    on handlers (the daemon does) so a credential in an exception never reaches a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        record.msg, record.args = redact(msg), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


# httpx logs every request URL at INFO; query strings can hold tokens.
for _name in ("httpx", "httpcore"):
    if not any(isinstance(f, RedactingFilter) for f in logging.getLogger(_name).filters):
        logging.getLogger(_name).addFilter(RedactingFilter())


def reveal(v: str | Secret | None) -> str:
    if v is None:
        return ""
    return v.reveal() if isinstance(v, Secret) else v


def auth_secrets(auth: httpx.Auth | None) -> list[str]:
    return list(getattr(auth, "secrets", ()) or ())
