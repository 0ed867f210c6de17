"""The connector contract: what a helpdesk plugin implements, and the values it hands back.

A connector type is registered through the ``deskwatch_register_connector_types`` hook as a
``ConnectorType`` (a name, a settings parser and a factory). The daemon builds one ``Connector``
per configured source and drives its async methods; pluggy never sees the async work
(STYLE.md P1).

Incremental sync contract (STYLE.md P10):

* ``fetch(bookmark, until=...)`` yields ``Page`` objects. Each page carries the bookmark to
  commit *after* its tickets are stored, so a crash between pages loses nothing: the next run
  resumes from the last committed bookmark and may see a page again (the store de-duplicates).
* A bookmark never moves past ``until`` (the sync's start, the "signpost"): tickets updated
  while a sync runs are fetched again next time instead of being skipped.
* ``update()`` checks the update's ``idempotency_key`` before applying, so a retry after a crash
  returns ``already_applied`` and changes nothing.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, ClassVar, Iterable, Protocol

from deskwatch.core import model
from deskwatch.core.connect.errors import (  # noqa: F401  (part of the contract)
    AuthError,
    BadResponse,
    ConnectorError,
    RateLimited,
    TransientError,
)

if TYPE_CHECKING:
    from deskwatch.core.connect.http import ApiClient, BudgetSnapshot
    from deskwatch.core.model.settings import Section

# An opaque, JSON-serializable value owned by one source's connector, e.g. {"cursor": "..."}.
# None means "never synced": the connector starts from its configured start time.
Bookmark = Any

UPDATE_OUTCOMES = ("applied", "already_applied", "conflict", "failed")

# How a helpdesk stores private notes: "text" (shown as written) or "html" (an HTML body).
# ``TicketUpdate.private_note`` is always plain text; a connector whose helpdesk takes HTML
# turns it into escaped HTML at the edge (``deskwatch.core.connect.kit.text_to_html``), so no
# text deskwatch quotes (a customer's subject with ``<script>`` in it, say) becomes markup.
NOTE_FORMATS = ("text", "html")
# The bundled connectors' note formats, keyed by connector type name, until their plugins
# declare ``ConnectorType(note_format=...)`` themselves: Freshdesk notes are HTML bodies (its
# connector posts ``text_to_html(note)``); Zendesk comments take ``body`` as text (``html_body``
# would be the HTML form); a Salesforce CaseComment is plain text.
KNOWN_NOTE_FORMATS = {"freshdesk": "html", "zendesk": "text", "salesforce": "text"}


# ---------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True)
class Page:
    """One batch of changes from a helpdesk.

    :param tickets: tickets created or changed, in the source's order.
    :param deleted: ids (``"<source>:<native id>"``) of tickets deleted or marked spam.
    :param bookmark: what to commit once ``tickets`` and ``deleted`` are stored.
    :param done: True on the last page of this sync (the connector has caught up).
    """

    tickets: tuple[model.Ticket, ...] = ()
    deleted: tuple[str, ...] = ()
    bookmark: Bookmark = None
    done: bool = False

    def __post_init__(self) -> None:
        # Accept lists from callers but keep the value immutable.
        object.__setattr__(self, "tickets", tuple(self.tickets))
        object.__setattr__(self, "deleted", tuple(self.deleted))


@dataclass(frozen=True)
class CheckResult:
    """The verdict of ``Connector.check()``. ``kind`` is one of ``ok``, ``auth``,
    ``unreachable``, ``rate_limited``, ``error`` so callers can print the right fix."""

    ok: bool
    message: str
    kind: str = ""

    def __post_init__(self) -> None:
        if not self.kind:
            object.__setattr__(self, "kind", "ok" if self.ok else "error")


@dataclass(frozen=True)
class UpdateResult:
    """What happened to one ``TicketUpdate``.

    ``outcome`` is one of ``applied``, ``already_applied`` (the idempotency key was found on
    the ticket: nothing was changed), ``conflict`` (the ticket changed under us; re-read and
    decide again) or ``failed``.
    """

    outcome: str
    message: str = ""
    ticket_id: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in UPDATE_OUTCOMES:
            raise ValueError(f"UpdateResult.outcome: expected one of {', '.join(UPDATE_OUTCOMES)}, got {self.outcome!r}")

    @property
    def ok(self) -> bool:
        return self.outcome in ("applied", "already_applied")


def idempotency_tag(key: str, prefix: str = "dw-") -> str:
    """The marker a connector writes on a ticket to remember it applied an update: a tag such
    as ``dw-3f2a9c1e0b7d`` (the first 12 characters of the key, lower-cased)."""
    clean = "".join(c for c in key.lower() if c.isalnum())
    return f"{prefix}{clean[:12]}"


# ---------------------------------------------------------------------------------------------
# The contract


class Connector(abc.ABC):
    """One configured helpdesk source. Use it as ``async with connector: ...``.

    Subclasses set ``type_name`` and implement ``check``, ``fetch`` and ``update``; ``fetch`` is
    usually written as an ``async def`` generator.
    """

    type_name: ClassVar[str] = ""

    def __init__(self, source: str):
        self.source = source

    @abc.abstractmethod
    async def check(self) -> CheckResult:
        """Verify credentials and reachability with one cheap call. May raise AuthError,
        RateLimited or TransientError instead of returning a failed result."""

    @abc.abstractmethod
    def fetch(self, bookmark: Bookmark, *, until: datetime | None = None) -> AsyncIterator[Page]:
        """Yield pages of changes since ``bookmark`` (None: from the configured start).
        Never return a bookmark that covers changes after ``until``."""

    @abc.abstractmethod
    async def update(self, update: model.TicketUpdate) -> UpdateResult:
        """Apply one update. Look for ``update.idempotency_key`` on the ticket first and return
        ``already_applied`` if it is there."""

    async def update_many(self, updates: Iterable[model.TicketUpdate]) -> list[UpdateResult]:
        """Apply several updates; the default applies them one by one. Connectors with a bulk
        endpoint override this. One failure does not stop the others."""
        results = []
        for u in updates:
            try:
                results.append(await self.update(u))
            except ConnectorError as e:
                results.append(UpdateResult("failed", str(e), u.ticket_id))
        return results

    async def close(self) -> None:
        """Release connections. Safe to call twice."""

    def rate_budget(self) -> "BudgetSnapshot | None":
        """The API quota as last seen, for ``deskwatch status``: found on ``self.budget`` or on
        the ApiClient in ``self.client``; None when the connector has neither."""
        budget = getattr(self, "budget", None) or getattr(getattr(self, "client", None), "budget", None)
        snapshot = getattr(budget, "snapshot", None)
        return snapshot() if callable(snapshot) else None

    async def __aenter__(self) -> "Connector":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def ticket_id(self, native_id: object) -> str:
        """The deskwatch id of a helpdesk ticket: ``"<source>:<native id>"``."""
        return f"{self.source}:{native_id}"


class ClientFactory(Protocol):
    """Builds the HTTP client a connector talks through (deskwatch.core.connect.http.make_api_client
    by default; tests pass one with an instant sleep)."""

    def __call__(self, base_url: str, **kwargs: Any) -> "ApiClient": ...


@dataclass(frozen=True)
class ConnectorType:
    """A kind of helpdesk a plugin can connect to.

    :param name: the ``type`` users write in ``[sources.<name>]``, e.g. ``"zendesk"``.
    :param parse_settings: reads the source's connector-specific keys from a Section into the
        connector's settings dataclass; raises ConfigError naming ``sources.<name>.<key>``.
    :param create: ``create(source_name, settings, client_factory) -> Connector``.
    :param description: one line shown by ``deskwatch plugins``.
    :param note_format: ``"text"`` (default) or ``"html"``: how the helpdesk stores the private
        notes ``update()`` writes (see ``NOTE_FORMATS``).
    """

    name: str
    parse_settings: Callable[["Section"], Any]
    create: Callable[[str, Any, ClientFactory], Connector]
    description: str = ""
    note_format: str = "text"

    def __post_init__(self) -> None:
        if self.note_format not in NOTE_FORMATS:
            raise ValueError(f"ConnectorType {self.name!r}: note_format must be one of {', '.join(NOTE_FORMATS)}, "
                             f"got {self.note_format!r}")


def note_format(type_name: str, registered: "ConnectorType | None" = None) -> str:
    """How a helpdesk of connector type ``type_name`` stores private notes: ``"html"`` or
    ``"text"``. A registered type that declares HTML wins; else ``KNOWN_NOTE_FORMATS``; else text."""
    if registered is not None and registered.note_format != "text":
        return registered.note_format
    return KNOWN_NOTE_FORMATS.get(type_name, "text")
