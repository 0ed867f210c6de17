"""The Example Desk connector: settings, mapping, fetch and update, on deskwatch.core.connect.http
and the connector kit (deskwatch.core.connect.kit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Mapping

from deskwatch.core import model
from deskwatch.core.connect.contract import (
    BadResponse,
    Bookmark,
    CheckResult,
    ClientFactory,
    Connector,
    Page,
    UpdateResult,
)
from deskwatch.core.connect.http import ApiKeyAuth, CursorPaginator, HttpSettings, RateBudget, http_settings, paginate
from deskwatch.core.connect import kit
from deskwatch.core.model.settings import Secret, Section

TYPE_NAME = "example"
# Example Desk's own status words -> deskwatch's (its other statuses are deskwatch's already).
STATUS_IN = {"waiting": "pending", "done": "solved"}
STATUS_OUT = {v: k for k, v in STATUS_IN.items()}
ESCALATION_TAG = "escalated"  # Example Desk has no escalation field: this tag stands for it
SETTINGS_KEYS = HttpSettings.KEYS + ("api_key", "page_size", "start_time")


@dataclass(frozen=True)
class ExampleSettings:
    http: HttpSettings
    api_key: Secret
    page_size: int
    start_time: datetime


def parse_settings(section: Section) -> ExampleSettings:
    """Read ``[sources.<name>]``: base_url, api_key (write "${ENV_VAR}"), page_size, start_time."""
    settings = ExampleSettings(
        http=http_settings(section),
        api_key=section.secret("api_key"),
        page_size=section.integer("page_size", 100, min=1, max=1000),
        start_time=kit.read_start_time(section) or datetime(2000, 1, 1, tzinfo=timezone.utc),
    )
    section.check_unknown(SETTINGS_KEYS)
    return settings


def create(source: str, settings: ExampleSettings, client_factory: ClientFactory) -> "ExampleConnector":
    return ExampleConnector(source, settings, client_factory)


def _cursor(ticket: Mapping[str, Any]) -> str:
    return f"{ticket['updated_at']}|{ticket['id']}"


class ExampleConnector(Connector):
    type_name = TYPE_NAME

    def __init__(self, source: str, settings: ExampleSettings, client_factory: ClientFactory):
        super().__init__(source)
        self.settings = settings
        self.budget = RateBudget(settings.http.requests_per_minute)
        self.client = client_factory(
            settings.http.base_url,
            auth=ApiKeyAuth("X-Api-Key", settings.api_key),
            timeout=settings.http.timeout,
            retry=settings.http.retry,
            budget=self.budget,
            source=source,
        )

    async def check(self) -> CheckResult:
        body = await self.client.get_json("/api/me")
        email = body.get("user", {}).get("email") if isinstance(body, dict) else None
        if not email:
            raise BadResponse("user.email: missing from /api/me", source=self.source)
        return CheckResult(True, f"authenticated as {email}")

    async def fetch(self, bookmark: Bookmark, *, until: datetime | None = None) -> AsyncIterator[Page]:
        after = (bookmark or {}).get("after") or f"{kit.format_time(self.settings.start_time)}|0"
        paginator = CursorPaginator("next", cursor_param="after", start=after)
        params = {"limit": self.settings.page_size}
        async for page in paginate(self.client, "/api/tickets", paginator, params=params, records="tickets"):
            # The signpost: leave later changes for the next sync, and never move past them.
            kept, stop = kit.until_signpost([(raw, self.to_ticket(raw)) for raw in page.records], lambda rt: rt[1].updated_at, until)
            after = _cursor(kept[-1][0]) if kept else after
            tickets = tuple(t for raw, t in kept if raw.get("status") != "deleted")
            deleted = tuple(t.id for raw, t in kept if raw.get("status") == "deleted")
            yield Page(tickets, deleted, {"after": after}, done=stop or page.last)
            if stop:
                return

    def to_ticket(self, raw: Any) -> model.Ticket:
        """Example Desk JSON -> deskwatch Ticket; BadResponse names the field that is wrong."""
        if not isinstance(raw, Mapping):
            raise BadResponse(f"tickets[]: expected an object, got {type(raw).__name__}", source=self.source)
        for key in ("id", "updated_at", "created_at"):
            if raw.get(key) in (None, ""):
                raise BadResponse(f"tickets[].{key}: missing in ticket {raw.get('id')!r}", source=self.source)
        data = {
            "id": self.ticket_id(raw["id"]),
            "source": self.source,
            "channel": raw.get("channel") or "web",
            "subject": raw.get("subject") or "",
            "status": "closed" if raw.get("status") == "deleted" else STATUS_IN.get(raw.get("status"), raw.get("status") or "open"),
            "priority": raw.get("priority"),
            "created_at": raw["created_at"],
            "updated_at": raw["updated_at"],
            "requester": {"email": raw.get("requester_email")} if raw.get("requester_email") else None,
            "assignee": raw.get("assignee"),
            "group": raw.get("group"),
            "tags": list(raw.get("tags") or []),
            "messages": list(raw.get("messages") or []),
            "url": f"{self.settings.http.base_url}/tickets/{raw['id']}",
        }
        try:
            return model.ticket_from_dict(data)
        except model.TicketError as e:
            raise BadResponse(f"ticket {raw['id']}: {e}", source=self.source) from None

    async def update(self, update: model.TicketUpdate) -> UpdateResult:
        tid = update.native_id
        marker = kit.marker_tag(update.idempotency_key)
        body = await self.client.get_json(f"/api/tickets/{tid}")
        current = body.get("ticket") if isinstance(body, dict) else None
        if not isinstance(current, dict):
            raise BadResponse(f"ticket: missing from GET /api/tickets/{tid}", source=self.source)
        tags = list(current.get("tags") or [])
        if kit.has_marker_tag(tags, update.idempotency_key):
            return UpdateResult("already_applied", f"{marker} already on ticket {tid}", update.ticket_id)
        # The note goes first and carries the marker, so a retry after a crash between the two
        # calls finds it and does not post it twice; the tag (written last) marks completion.
        notes = [m.get("body") for m in current.get("messages") or [] if isinstance(m, dict)]
        if update.private_note and not kit.notes_have_marker(notes, f"[{marker}]"):
            note = kit.note_with_marker(update.private_note, f"[{marker}]")
            await self.client.request("POST", f"/api/tickets/{tid}/notes", json={"body": note})
        add, remove = kit.tag_changes(update, ESCALATION_TAG)
        fields: dict[str, Any] = {"tags": kit.merged_tags(tags, add, remove, marker)}
        for name in ("priority", "status", "group", "assignee"):
            value = getattr(update, name)
            if value is not None:
                fields[name] = STATUS_OUT.get(value, value) if name == "status" else value
        await self.client.request("PUT", f"/api/tickets/{tid}", json=fields)
        return UpdateResult("applied", f"updated {', '.join(sorted(fields))}", update.ticket_id)

    async def close(self) -> None:
        await self.client.aclose()
