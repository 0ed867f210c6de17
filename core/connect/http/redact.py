"""Redaction: secrets never reach a message or a log line. Auth helpers register their secrets;
every message built here goes through ``redact``; ``RedactingFilter`` does the same for log records."""

from __future__ import annotations

import base64
import functools
import logging
import re
from typing import Iterable
from urllib.parse import quote, quote_plus

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


# The forms a credential takes on the wire besides itself: Basic auth base64-encodes
# "user:secret", query strings URL-encode it, some servers echo it upper-cased.
_MIN_FRAGMENT = 6  # shorter base64 fragments would mask ordinary words
# Bodies are capped elsewhere; a bounded window keeps redaction of an excerpt cheap.
EXCERPT_WINDOW = 1_000_000


def _base64_fragments(value: str) -> set[str]:
    """The base64 characters that ``value`` fixes whatever bytes surround it: for each of the
    three alignments, the characters made only of the secret's bits. Masking these hides the
    secret inside any base64 blob (``user:secret`` as Basic auth sends it, a token in a JWT)."""
    raw = value.encode("utf-8")
    out: set[str] = set()
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + raw).decode("ascii").rstrip("=")
        first = -(-8 * k // 6)  # first character made only of the secret's bits
        last = (8 * (k + len(raw))) // 6  # one past the last such character
        frag = enc[first:last]
        if len(frag) >= _MIN_FRAGMENT:
            out.add(frag)
            out.add(frag.replace("+", "-").replace("/", "_"))  # the URL-safe alphabet
    return out


def variants(value: str) -> set[str]:
    """The forms of ``value`` that ``redact`` masks: itself (any case), URL-encoded (any case)
    and base64 (standard and URL-safe alphabets, on its own or inside a longer blob)."""
    forms = {value, quote(value, safe=""), quote_plus(value, safe="")}
    forms |= _base64_fragments(value)
    return {f for f in forms if f}


@functools.lru_cache(maxsize=64)
def _pattern(values: frozenset[str]) -> re.Pattern[str] | None:
    plain: set[str] = set()
    encoded: set[str] = set()
    for v in values:
        plain |= {v, quote(v, safe=""), quote_plus(v, safe="")}
        encoded |= _base64_fragments(v)
    encoded -= plain
    alts = [(f, True) for f in plain] + [(f, False) for f in encoded]
    if not alts:
        return None
    # Longest first, so a secret that contains another is masked whole. Text forms match in
    # any case; base64 is case-sensitive (its case carries the bits).
    alts.sort(key=lambda a: len(a[0]), reverse=True)
    return re.compile("|".join(f"(?i:{re.escape(f)})" if ci else re.escape(f) for f, ci in alts))


def redact(text: str, secrets: Iterable[str | Secret | None] = ()) -> str:
    """``text`` with credentials replaced by ``***``: registered and given secret values and
    their encodings (any case, URL-encoded, base64), Authorization header values, bearer
    tokens, credentials in URLs and query strings."""
    if not text:
        return text
    values = set(_SECRETS)
    for s in secrets:
        if isinstance(s, Secret):
            s = s.reveal()
        if s and len(s) >= 4:
            values.add(s)
    pattern = _pattern(frozenset(values))
    if pattern is not None:
        text = pattern.sub("***", text)
    text = _USERINFO_RE.sub(r"\1***:***@", text)
    text = _PARAM_RE.sub(lambda m: f"{m.group(1)}=***", text)
    text = _AUTH_HEADER_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{(m.group(3) + ' ') if m.group(3) else ''}***", text)
    text = _BEARER_RE.sub("Bearer ***", text)
    return text


def excerpt(text: str, limit: int = 200, secrets: Iterable[str | Secret | None] = ()) -> str:
    """The start of ``text`` on one line, at most ``limit`` characters, redacted *before* it is
    cut: cutting first would leave the first characters of a secret the cut split in two."""
    text = redact(" ".join(text[:EXCERPT_WINDOW].split()), secrets)
    return text[:limit] + ("…" if len(text) > limit else "")


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
