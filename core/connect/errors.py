"""The errors a connector raises; the daemon tells them apart (pause the source, back off, retry
later, fail the item). Kept apart from the contract so the HTTP kit can raise them without
importing the contract."""

from __future__ import annotations


class ConnectorError(Exception):
    """A helpdesk call that failed. ``str()`` is a complete message for a person and never
    contains a credential (messages built by deskwatch.core.connect.http are redacted)."""

    def __init__(self, message: str, *, source: str = "", status: int | None = None):
        self.message = message
        self.source = source
        self.status = status
        super().__init__(f"{source}: {message}" if source else message)


class AuthError(ConnectorError):
    """Credentials were refused or lack a permission. The message says which setting to fix."""


class Forbidden(ConnectorError):
    """A 403 on one resource (a ticket the account may not change, a view it may not read). It
    fails that item, not the source: only a 401, or a 403 on the account-level check, is an
    auth failure (``AuthError``)."""


class RateLimited(ConnectorError):
    """The helpdesk asked us to slow down; ``retry_after`` is seconds to wait (None: unknown)."""

    def __init__(self, message: str, *, retry_after: float | None = None, source: str = "", status: int | None = None):
        super().__init__(message, source=source, status=status)
        self.retry_after = retry_after


class TransientError(ConnectorError):
    """A failure worth retrying later: a 5xx, a timeout, a dropped connection. ``retry_after``
    is the server's hint in seconds, when it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None, source: str = "", status: int | None = None):
        super().__init__(message, source=source, status=status)
        self.retry_after = retry_after


class BadResponse(ConnectorError):
    """The API answered with a body the connector cannot read; the message names the field
    and what was found there."""


class Redirected(ConnectorError):
    """The API answered with a redirect (3xx). deskwatch never follows one (it would resend the
    credentials to wherever it points); the message names the host it points to, which usually
    means ``base_url`` is wrong (http instead of https, the web UI's address, an old domain)."""

    def __init__(self, message: str, *, location_host: str = "", source: str = "", status: int | None = None):
        super().__init__(message, source=source, status=status)
        self.location_host = location_host


class ResponseTooLarge(BadResponse):
    """A response body over the source's ``max_response_bytes``; refused before it is held in
    memory whole."""


class OutcomeUnknown(TransientError):
    """A write was sent but its answer was lost or cut short, and reading the ticket could not
    tell whether it landed. Never a refusal: the outbox keeps the update and settles it on a
    later attempt by looking for its idempotency marker, however many attempts that takes."""
