"""The Zendesk connector: cursor incremental export in, safe ticket updates out.

Fetch walks ``/api/v2/incremental/tickets/cursor.json`` and commits the export's
``after_cursor`` after each page (never ``updated_at``: system updates move
``generated_timestamp`` without touching it). Deleted tickets arrive in the same stream as
``status: "deleted"`` rows and become ``Page.deleted``. Comments are read per changed ticket
until the connector is caught up; then they come from the incremental ticket events export
(``include=comment_events``) through a comment log (``events.py``), one request per sync.

Update reads the ticket, looks for the idempotency tag (``dw-<key>``), and sends only the
delta in one ``PUT`` with ``safe_update``/``updated_stamp``: tags through
``additional_tags``/``remove_tags`` (never the whole list), the private note as a
``public: false`` comment, and the idempotency tag in the same request, so note and marker
land together or not at all. A 409 (the ticket changed under us) re-reads and decides again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, AsyncIterator, Callable, Iterable, Mapping, Sequence

import httpx

from deskwatch.core import model
from deskwatch.core.connect.contract import (
    AuthError,
    BadResponse,
    Bookmark,
    CheckResult,
    ClientFactory,
    Connector,
    ConnectorError,
    Page,
    RateLimited,
    TransientError,
    UpdateResult,
)
from deskwatch.core.connect.http import (
    ApiClient,
    BearerAuth,
    CursorPaginator,
    NextUrlPaginator,
    RateBudget,
    decode_json,
    describe,
    paginate,
    zendesk_token_auth,
)
from deskwatch.core.connect.kit import NameTable, failed_check, has_marker_tag, marker_tag, note_with_marker, tag_changes, tag_delta
from deskwatch.core.model.timeutil import utcnow
from deskwatch.plugins.zendesk import events, mapping
from deskwatch.plugins.zendesk.mapping import Deduper, SideLoads
from deskwatch.plugins.zendesk.responses import _bookmark_cursor, classify_zendesk  # noqa: F401  (re-exported)
from deskwatch.plugins.zendesk.settings import TYPE_NAME, ZendeskSettings

log = logging.getLogger("deskwatch.plugins.zendesk")

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
SIDE_LOADS = "users,organizations,groups"
# Zendesk refuses a start_time in the last minute, and holds back the newest minute anyway.
FRESHNESS = timedelta(minutes=1)
BULK_MAX = 100  # update_many takes at most 100 tickets (400 TooManyValues beyond)
CONFLICT_ROUNDS = 3  # 409s in a row before giving the decision back to the caller
JOB_POLL_INTERVAL = 1.0
JOB_MAX_POLLS = 120
COMMENT_CONCURRENCY = 4
RESERVE_WAIT = 6.0  # seconds between calls once only the reserved share of the quota is left
SETTLED = frozenset({"solved", "closed"})
EVENTS_MAX_PAGES = 5  # ticket events pages per sync (1,000 events each); the rest waits for the next


class ZendeskConnector(Connector):
    """One Zendesk account (or a compatible server, e.g. the deskwatch simulator)."""

    type_name = TYPE_NAME

    def __init__(
        self,
        source: str,
        settings: ZendeskSettings,
        client_factory: ClientFactory,
        *,
        clock: Callable[[], datetime] = utcnow,
    ):
        super().__init__(source)
        self.settings = replace(settings, name=source)
        s = self.settings
        if s.oauth_token is not None:
            auth: httpx.Auth = BearerAuth(s.oauth_token)
        else:
            assert s.email and s.token is not None  # parse_settings guarantees one of the two
            auth = zendesk_token_auth(s.email, s.token)
        self.client: ApiClient = client_factory(
            s.base_url,
            auth=auth,
            timeout=s.timeout,
            retry=s.retry,
            classifier=classify_zendesk,
            # Always a budget: it reads the quota headers and keeps quota_reserve of them free.
            budget=RateBudget(s.requests_per_minute, reserve_share=s.quota_reserve, reserve_wait=RESERVE_WAIT),
            secrets=[x for x in (s.token, s.oauth_token) if x is not None],
            source=source,
        )
        self._clock = clock
        self._directory: SideLoads | None = None  # agents and groups by id, loaded once
        # The export has its own limit (10 requests/minute) on top of the account's.
        self.export_budget = RateBudget(s.export_requests_per_minute)
        self.comment_log = events.CommentLog()  # caught up: comments from the ticket events export
        self.events_available = True

    def __repr__(self) -> str:
        return f"ZendeskConnector({self.source!r}, {self.settings.base_url!r})"

    # -- plumbing ---------------------------------------------------------------------------
    async def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        response = await self.client.request("GET", path, params=dict(params or {}) or None)
        return decode_json(response, source=self.source, secrets=self.client.secrets)

    def _bad(self, e: BadResponse, what: str) -> BadResponse:
        """Name the source and the call on a mapping error (the mapping knows neither)."""
        return BadResponse(f"{e.message} (in {what})", source=self.source, status=e.status)

    async def close(self) -> None:
        await self.client.aclose()

    # -- check ------------------------------------------------------------------------------
    async def check(self) -> CheckResult:
        """``GET /api/v2/users/me``: credentials accepted, and an admin (the export needs one)."""
        try:
            body = await self._get("/api/v2/users/me.json")
        except ConnectorError as e:
            return failed_check(e)
        user = body.get("user") if isinstance(body, Mapping) else None
        if not isinstance(user, Mapping):
            return CheckResult(False, f"{self.source}: users/me: expected a user object; is base_url a Zendesk account?", "error")
        if user.get("id") is None:
            # Zendesk answers an unauthenticated users/me with the anonymous user, not a 401.
            return CheckResult(False, f"{self.source}: not signed in (anonymous user); check email + token or oauth_token", "auth")
        role = user.get("role")
        if role != "admin":
            return CheckResult(
                False,
                f"{self.source}: signed in as a {role or 'non-admin'} user; the incremental export needs an admin's token",
                "auth",
            )
        return CheckResult(True, f"{self.source}: signed in to {self.settings.base_url} as an admin")

    # -- fetch ------------------------------------------------------------------------------
    def _start_time(self, until: datetime | None) -> int:
        now = self._clock()
        start = self.settings.start_time or (until or now) - timedelta(days=self.settings.lookback_days)
        return int(min(start, now - FRESHNESS).timestamp())

    async def fetch(self, bookmark: Bookmark, *, until: datetime | None = None) -> AsyncIterator[Page]:
        """Pages of changed and deleted tickets since ``bookmark`` (``{"cursor": …}``).

        Each page's bookmark is the export's ``after_cursor`` after it, i.e. exactly what was
        delivered. The walk ends at ``end_of_stream``, on an empty page, or on the page that
        runs past ``until`` (the sync's start): rows changed after it are left for the next
        sync and that page keeps the previous bookmark, so the bookmark never covers a change
        made after the sync started and a busy account cannot keep one sync running forever.
        """
        cursor = _bookmark_cursor(bookmark)
        paginator = CursorPaginator("after_cursor", end_path="end_of_stream", start=cursor)
        params: dict[str, Any] = {"per_page": self.settings.page_size, "include": SIDE_LOADS}
        if cursor is None:
            params["start_time"] = self._start_time(until)
        signpost = int(until.timestamp()) if until is not None else None
        dedupe = Deduper()
        last_bookmark: Bookmark = {"cursor": cursor} if cursor else None
        while not paginator.finished:
            url, p = paginator.request(EXPORT_PATH, params)
            if paginator.token is not None:
                p.pop("start_time", None)  # the cursor carries the position from here on
            await self.export_budget.acquire()
            response = await self.client.request("GET", url, params=p)
            body = decode_json(response, source=self.source, secrets=self.client.secrets)
            try:
                page = mapping.read_export_page(body)
            except BadResponse as e:
                raise self._bad(e, describe(response)) from None
            paginator.advance(body, response, page.tickets)
            rows = page.tickets
            beyond = signpost is not None and any(mapping.ticket_version(r)[1] > signpost for r in rows)
            if beyond:
                # The page runs past the sync start. Its cursor would cover rows changed after
                # it, so deliver the rows up to the signpost and keep the previous bookmark:
                # the next sync reads this page again (duplicates are harmless, gaps are not).
                rows = tuple(r for r in rows if mapping.ticket_version(r)[1] <= signpost)  # type: ignore[operator]
            elif page.after_cursor:
                last_bookmark = {"cursor": page.after_cursor}
            tickets, deleted = await self._page(dedupe.fresh(rows), page.side)
            done = paginator.finished or page.end_of_stream or beyond
            yield Page(tickets, deleted, bookmark=last_bookmark, done=done)
            if done:
                return

    async def _page(self, raws: Sequence[Mapping[str, Any]], side: SideLoads) -> tuple[list[model.Ticket], list[str]]:
        deleted = [mapping.deleted_id(r, self.settings) for r in raws if mapping.is_deleted(r)]
        live = [r for r in raws if not mapping.is_deleted(r)]
        side = await self._with_directory(live, side)
        for r in raws:
            if mapping.is_deleted(r):
                self.comment_log.forget(r.get("id"))  # type: ignore[arg-type]
        if self.settings.fetch_comments:
            sem = asyncio.Semaphore(COMMENT_CONCURRENCY)
            settled_before = self._clock() - self.settings.caught_up_after
            wanted = [r for r in live if self._wants_comments(r, settled_before)]
            if self.settings.comment_events:
                await self._catch_up_events(wanted)

            async def one(raw: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]] | None, SideLoads]:
                if not self._wants_comments(raw, settled_before):
                    return None, SideLoads()  # the description stands in
                logged = self.comment_log.comments(raw["id"], mapping.ticket_version(raw)[1]) if self.settings.comment_events else None
                if logged is not None:
                    return logged, SideLoads()
                async with sem:
                    comments, side = await self._comments(raw["id"])
                if comments is not None and self.settings.comment_events:
                    self.comment_log.remember(raw["id"], comments)
                return comments, side

            found = await asyncio.gather(*(one(r) for r in live))
        else:
            found = [(None, SideLoads()) for _ in live]
        tickets = []
        for i, (raw, (comments, comment_side)) in enumerate(zip(live, found)):
            try:
                tickets.append(mapping.map_ticket(raw, self.settings, side.merged(comment_side), comments, where="tickets"))
            except BadResponse as e:
                raise self._bad(e, EXPORT_PATH) from None
        return tickets, deleted

    async def _catch_up_events(self, wanted: Sequence[Mapping[str, Any]]) -> None:
        """Read the ticket events export (comment events included) up to now when a ticket of
        this page could then be served from the comment log (see ``events``)."""
        clog = self.comment_log
        if not self.events_available:
            return
        clog.start(int(self._clock().timestamp()))
        if not clog.worth_reading(wanted):
            return
        start = clog.since
        for _ in range(EVENTS_MAX_PAGES):
            read_at = int(self._clock().timestamp())
            await self.export_budget.acquire()
            try:
                response = await self.client.request("GET", events.EVENTS_PATH, params={"start_time": start, "include": "comment_events"})
            except ConnectorError as e:
                if e.status == 404:
                    # A Zendesk-compatible server without the events export: per ticket, as before.
                    log.warning("%s: no ticket events export (%s); reading comments per ticket", self.source, e.message)
                    self.events_available = False
                elif e.status in (400, 422):
                    # E.g. "too recent start_time" with a clock ahead of Zendesk's: this sync
                    # reads comments per ticket; the cursor stays and is tried again next time.
                    log.warning("%s: ticket events refused (%s); reading comments per ticket this time", self.source, e.message)
                else:
                    raise
                return
            try:
                page = events.read_events_page(decode_json(response, source=self.source, secrets=self.client.secrets))
            except BadResponse as e:
                raise self._bad(e, describe(response)) from None
            clog.apply(page, read_at)
            if page.end_of_stream or page.end_time is None or page.end_time == start:
                return
            start = page.end_time

    def _wants_comments(self, raw: Mapping[str, Any], settled_before: datetime) -> bool:
        """Comments cost one request per ticket: skip them for a solved/closed ticket last
        changed before ``settled_before`` (backfill; nobody escalates it, its description
        stands in) unless ``backfill_closed_comments`` asks for them."""
        if self.settings.backfill_closed_comments or raw.get("status") not in SETTLED:
            return True
        try:
            updated = datetime.fromisoformat(str(raw.get("updated_at")).replace("Z", "+00:00"))
        except ValueError:
            return True  # the mapping reports the bad field; do not guess here
        return updated.tzinfo is None or updated >= settled_before

    async def _comments(self, ticket_id: int) -> tuple[list[Mapping[str, Any]] | None, SideLoads]:
        """All comments of a ticket (cursor pages), with their side-loaded authors.
        None when the ticket vanished meanwhile (404): its description stands in."""
        path = f"/api/v2/tickets/{ticket_id}/comments.json"
        paginator = CursorPaginator("meta.after_cursor", cursor_param="page[after]", has_more_path="meta.has_more")
        params = {"page[size]": self.settings.comments_page_size, "include": "users"}
        comments: list[Mapping[str, Any]] = []
        side = SideLoads()
        while not paginator.finished:
            url, p = paginator.request(path, params)
            try:
                response = await self.client.request("GET", url, params=p)
            except ConnectorError as e:
                if e.status == 404:
                    return None, side
                raise
            body = decode_json(response, source=self.source, secrets=self.client.secrets)
            try:
                page = mapping.read_comments_page(body)
            except BadResponse as e:
                raise self._bad(e, describe(response)) from None
            paginator.advance(body, response, page.comments)
            comments.extend(page.comments)
            side = side.merged(page.side)
        return comments, side

    async def _with_directory(self, live: Sequence[Mapping[str, Any]], side: SideLoads) -> SideLoads:
        """Fill in group and agent names the export did not side-load, from one cached read
        of the account's groups and agents (a failed read leaves ids: names are a nicety)."""
        missing = any(
            (r.get("group_id") is not None and r.get("group_id") not in side.groups)
            or (r.get("assignee_id") is not None and r.get("assignee_id") not in side.users)
            for r in live
        )
        if not missing:
            return side
        try:
            directory = await self.directory()
        except ConnectorError as e:
            log.warning("%s: cannot read groups/agents, showing ids instead: %s", self.source, e)
            return side
        return directory.merged(side)

    async def directory(self) -> SideLoads:
        """Groups and agents of the account, by id (read once per connector)."""
        if self._directory is None:
            groups = await self._list("/api/v2/groups.json", "groups", {})
            agents = await self._list("/api/v2/users.json", "users", {"role[]": ["agent", "admin"]})
            self._directory = mapping.read_side_loads({"groups": groups, "users": agents})
        return self._directory

    async def _list(self, path: str, key: str, params: Mapping[str, Any]) -> list[Any]:
        """An offset-paginated list (``next_page`` URLs), loop-safe."""
        out: list[Any] = []
        async for page in paginate(self.client, path, NextUrlPaginator("next_page"), params=params, records=key):
            out.extend(page.records)
        return out

    # -- update -----------------------------------------------------------------------------
    async def _read_ticket(self, native_id: str) -> Mapping[str, Any]:
        body = await self._get(f"/api/v2/tickets/{native_id}.json")
        ticket = body.get("ticket") if isinstance(body, Mapping) else None
        if not isinstance(ticket, Mapping) or ticket.get("id") is None:
            raise BadResponse(f"ticket: expected an object with id (in GET /api/v2/tickets/{native_id}.json)", source=self.source)
        return ticket

    async def _resolve(self, kind: str, value: str) -> int:
        """A deskwatch group/agent name -> Zendesk id: a number as is, the configured
        ``group_ids``/``agent_ids`` table, else the account's directory by name (or e-mail)."""
        found = NameTable(self.settings.group_ids if kind == "group" else self.settings.agent_ids).id_for(value)
        if found is not None:
            return found
        d = await self.directory()
        items = d.groups if kind == "group" else d.users
        wanted = value.strip().lower()
        for iid, item in items.items():
            names = [item.get("name"), item.get("email")]
            if any(isinstance(n, str) and n.strip().lower() == wanted for n in names):
                return iid
        key = "group_ids" if kind == "group" else "agent_ids"
        raise ConnectorError(
            f"no Zendesk {kind} named {value!r}; add it to sources.{self.source}.{key} (name = id)", source=self.source
        )

    async def plan(self, update: model.TicketUpdate, ticket: Mapping[str, Any]) -> dict[str, Any] | None:
        """The ``ticket`` object of the PUT that brings ``ticket`` to what ``update`` wants
        (only fields that differ, tags as add/remove, the marker tag), or None if nothing is
        left to do. Raises ConnectorError for an update Zendesk cannot take."""
        tags = set(t for t in ticket.get("tags") or () if isinstance(t, str))
        out: dict[str, Any] = {}
        if ticket.get("status") == mapping.DELETED:
            raise ConnectorError(f"ticket {update.native_id} is deleted", source=self.source)
        if ticket.get("status") == "closed":
            raise ConnectorError(f"ticket {update.native_id} is closed; Zendesk does not change closed tickets", source=self.source)
        if update.priority is not None:
            if update.priority not in mapping.PRIORITIES:
                raise ConnectorError(f"priority: expected one of {', '.join(mapping.PRIORITIES)}, got {update.priority!r}", source=self.source)
            if ticket.get("priority") != update.priority:
                out["priority"] = update.priority
        if update.status is not None:
            st = mapping.STATUS_TO_ZENDESK.get(update.status)
            if st is None:
                raise ConnectorError(f"status: expected one of {', '.join(mapping.STATUS_TO_ZENDESK)}, got {update.status!r}", source=self.source)
            if ticket.get("status") != st:
                out["status"] = st
        if update.group is not None:
            gid = await self._resolve("group", update.group)
            if ticket.get("group_id") != gid:
                out["group_id"] = gid
        if update.assignee is not None:
            aid = await self._resolve("agent", update.assignee)
            if ticket.get("assignee_id") != aid:
                out["assignee_id"] = aid
        add, remove = tag_delta(tags, *tag_changes(update, self.settings.escalation_tag))
        marker = marker_tag(update.idempotency_key)
        if update.private_note:
            out["comment"] = {"body": note_with_marker(update.private_note, f"[deskwatch {marker}]", separator="\n\n"), "public": False}
        if add:
            out["additional_tags"] = add
        if remove:
            out["remove_tags"] = remove
        if not out:
            return None
        out["additional_tags"] = [*out.get("additional_tags", []), marker]
        return out

    async def update(self, update: model.TicketUpdate) -> UpdateResult:
        """Apply one update at most once (see the module docstring)."""
        tid = self.ticket_id(update.native_id)
        marker = marker_tag(update.idempotency_key)
        sent = False
        unsettled: TransientError | None = None  # the last ambiguous failure, if a round ended so
        for _ in range(CONFLICT_ROUNDS):
            unsettled = None
            try:
                ticket = await self._read_ticket(update.native_id)
            except ConnectorError as e:
                if e.status == 404:
                    return UpdateResult("failed", f"{self.source}: ticket {update.native_id} not found (deleted?)", tid)
                raise
            if has_marker_tag(ticket.get("tags") or (), update.idempotency_key):
                # Found our marker: a previous attempt (maybe this one, before a 409/timeout) landed.
                return UpdateResult("applied" if sent else "already_applied", f"marker {marker} is on the ticket", tid)
            try:
                body = await self.plan(update, ticket)
            except (AuthError, RateLimited, TransientError):
                raise
            except ConnectorError as e:
                return UpdateResult("failed", str(e), tid)
            if body is None:
                return UpdateResult("applied", "the ticket is already in the wanted state; nothing sent", tid)
            body.update(safe_update=True, updated_stamp=ticket.get("updated_at"))
            sent = True
            try:
                # Not retried blindly: an ambiguous failure is settled by re-reading the marker.
                response = await self.client.request(
                    "PUT", f"/api/v2/tickets/{update.native_id}.json", json={"ticket": body}, idempotent=False
                )
            except (AuthError, RateLimited):
                raise  # the whole source is blocked: the caller backs off and retries later
            except TransientError as e:
                unsettled = e  # did it land? the next read tells
                continue
            except ConnectorError as e:
                if e.status == 409:
                    log.info("%s: ticket %s changed while updating; re-reading", self.source, update.native_id)
                    continue
                return UpdateResult("failed", str(e), tid)  # 400/404/422…: Zendesk refused this update
            result = decode_json(response, source=self.source, secrets=self.client.secrets)
            if not isinstance(result, Mapping) or not isinstance(result.get("ticket"), Mapping):
                raise BadResponse(f"ticket: missing from the update response (PUT /api/v2/tickets/{update.native_id}.json)", source=self.source)
            return UpdateResult("applied", f"updated: {', '.join(k for k in body if k not in ('safe_update', 'updated_stamp'))}", tid)
        if unsettled is not None:
            raise unsettled  # still failing: retry later; the marker check keeps it to one write
        return UpdateResult("conflict", f"{self.source}: ticket {update.native_id} kept changing while updating; decide again", tid)

    async def update_many(self, updates: Iterable[model.TicketUpdate]) -> list[UpdateResult]:
        """Bulk: read each ticket, skip those already carrying their marker, send the rest
        through ``update_many`` (≤ 100 a job) and poll the job; each ticket gets its own result."""
        updates = list(updates)
        if len(updates) <= 1:
            return [await self.update(u) for u in updates]
        results: dict[int, UpdateResult] = {}
        pending: list[tuple[int, model.TicketUpdate, dict[str, Any]]] = []
        seen_ids: set[str] = set()
        for i, u in enumerate(updates):
            if u.native_id in seen_ids:
                # Two updates of one ticket in one job would race; the second goes on its own.
                continue
            try:
                ticket = await self._read_ticket(u.native_id)
                if has_marker_tag(ticket.get("tags") or (), u.idempotency_key):
                    results[i] = UpdateResult("already_applied", f"marker {marker_tag(u.idempotency_key)} is on the ticket", self.ticket_id(u.native_id))
                    continue
                body = await self.plan(u, ticket)
            except ConnectorError as e:
                results[i] = UpdateResult("failed", str(e), self.ticket_id(u.native_id))
                continue
            if body is None:
                results[i] = UpdateResult("applied", "already in the wanted state; nothing sent", self.ticket_id(u.native_id))
                continue
            seen_ids.add(u.native_id)
            pending.append((i, u, {"id": int(u.native_id) if u.native_id.isdigit() else u.native_id, **body}))
        for start in range(0, len(pending), BULK_MAX):
            chunk = pending[start : start + BULK_MAX]
            try:
                outcome = await self._bulk([item for _, _, item in chunk])
            except ConnectorError as e:
                for i, u, _ in chunk:
                    results[i] = UpdateResult("failed", str(e), self.ticket_id(u.native_id))
                continue
            for i, u, _ in chunk:
                ok, message = outcome.get(u.native_id, (False, "missing from the job results"))
                results[i] = UpdateResult("applied" if ok else "failed", message, self.ticket_id(u.native_id))
        for i, u in enumerate(updates):
            if i not in results:
                results[i] = await self.update(u)  # a second update of the same ticket
        return [results[i] for i in range(len(updates))]

    async def _bulk(self, items: list[dict[str, Any]]) -> dict[str, tuple[bool, str]]:
        """One update_many job, polled to the end: {native id: (success, message)}."""
        response = await self.client.request(
            "PUT", "/api/v2/tickets/update_many.json", json={"tickets": items}, idempotent=False
        )
        job = self._job(decode_json(response, source=self.source, secrets=self.client.secrets), "PUT update_many")
        for _ in range(JOB_MAX_POLLS):
            if job["status"] in ("completed", "failed", "killed"):
                break
            await self.client.sleep(JOB_POLL_INTERVAL)
            body = await self._get(f"/api/v2/job_statuses/{job['id']}.json")
            job = self._job(body, "GET job_statuses")
        else:
            raise TransientError(f"update_many job {job['id']} still {job['status']} after {JOB_MAX_POLLS} polls", source=self.source)
        if job["status"] != "completed":
            raise ConnectorError(f"update_many job {job['id']} {job['status']}: {job.get('message') or 'no message'}", source=self.source)
        out: dict[str, tuple[bool, str]] = {}
        for r in job.get("results") or ():
            if not isinstance(r, Mapping) or r.get("id") is None:
                raise BadResponse("job_status.results[]: expected objects with id and success", source=self.source)
            ok = r.get("success") is True
            detail = r.get("status") or ("Updated" if ok else "Failed")
            if not ok and (r.get("error") or r.get("details")):
                detail = f"{detail}: {r.get('error') or ''} {r.get('details') or ''}".strip()
            out[str(r["id"])] = (ok, str(detail))
        return out

    def _job(self, body: Any, what: str) -> Mapping[str, Any]:
        job = body.get("job_status") if isinstance(body, Mapping) else None
        if not isinstance(job, Mapping) or not job.get("id") or not isinstance(job.get("status"), str):
            raise BadResponse(f"job_status: expected an object with id and status (in {what})", source=self.source)
        return job


def create(source: str, settings: ZendeskSettings, client_factory: ClientFactory) -> ZendeskConnector:
    """The ``ConnectorType.create`` of the zendesk type."""
    return ZendeskConnector(source, settings, client_factory)
