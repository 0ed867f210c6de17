"""The Salesforce Service Cloud connector: Cases in, Case updates out.

Fetch: ``queryAll`` on Case ordered by ``SystemModstamp, Id`` with ``>=`` on the bookmark second,
comments and e-mails as child sub-queries, ``nextRecordsUrl`` paging, recycled rows
(``IsDeleted``) and ``getDeleted`` as tombstones. The bookmark remembers the exact
(Id, SystemModstamp) versions already delivered in its second, so the boundary second is
re-read without duplicates, and it never passes ``until``.

Update: unless the case's CaseComments carry the idempotency marker, send the Case PATCH and the
marker CaseComment in one ``allOrNone`` Composite request: both land or neither, so a retry that
finds the marker sends nothing again. A lost or cut answer is settled by reading the comments
again; if that read fails too the outcome is unknown (``OutcomeUnknown``), never a refusal.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, Iterable, Mapping


from deskwatch.core.connect.contract import (
    AuthError,
    BadResponse,
    CheckResult,
    ClientFactory,
    Connector,
    ConnectorError,
    Page,
    RateLimited,
    TransientError,
    UpdateResult,
)
from deskwatch.core.connect.errors import OutcomeUnknown
from deskwatch.core.connect.http import NextUrlPaginator, RateBudget, paginate
from deskwatch.core.model import TicketUpdate
from deskwatch.core.connect.kit import NameTable, failed_check
from deskwatch.core.model.timeutil import format_time, utcnow

from . import mapping, writeback
from .auth import oauth_auth
from .settings import TYPE_NAME, SalesforceSettings
from .responses import CONCURRENT_LIMIT_WAIT, DAILY_LIMIT_WAIT, classify_response, _translate, _chunks, SfBookmark
log = logging.getLogger("deskwatch.plugins.salesforce")

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# getDeleted serves 15 days back (its earliestDateAvailable says where it starts); a minute of
# slack keeps a request made at the edge inside it.
GET_DELETED_WINDOW = timedelta(days=15) - timedelta(minutes=1)
MAX_LOCATOR_RESTARTS = 3
IN_CHUNK = 100  # ids per SOQL IN (...) list: keeps the GET URL far below its limit
COLLECTION_CHUNK = 200  # sObject Collections take at most 200 records a call
CONFLICT_ROUNDS = 3  # 412s in a row before the decision goes back to the daemon (retried soon)
_RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")



# ---------------------------------------------------------------------------------------------
# Response classification (asked before deskwatch.core.connect.http's generic rules)


class SalesforceConnector(Connector):
    """One Salesforce org (or a compatible server such as the deskwatch simulator)."""

    type_name = TYPE_NAME

    def __init__(self, source: str, settings: SalesforceSettings, client_factory: ClientFactory):
        super().__init__(source)
        if settings.name != source:
            settings = dataclasses.replace(settings, name=source)
        self.settings = settings
        self.auth = oauth_auth(settings)
        self.budget = RateBudget(settings.requests_per_minute)
        self.client = client_factory(
            settings.instance_url or settings.base_url,
            auth=self.auth,
            headers={"Sforce-Query-Options": f"batchSize={settings.page_size}"},
            timeout=settings.timeout,
            retry=settings.retry,
            classifier=classify_response,
            budget=self.budget,
            secrets=[settings.client_secret, settings.private_key],
            source=source,
        )
        self._picklists: dict[str, tuple[str, ...]] | None = None
        self._queues: dict[str, str] = dict(settings.queues)
        # Set when deletions were last looked up before getDeleted's window: hard deletes in the
        # gap need reconcile_ids (live Ids against the ids deskwatch holds).
        self.reconcile_since: datetime | None = None
        self._users: dict[str, str] = dict(settings.users)
        self._closed = False

    def __repr__(self) -> str:
        return f"SalesforceConnector({self.source!r}, {self.settings.base_url!r})"

    # -- helpers ---------------------------------------------------------------------------
    @property
    def api_base(self) -> str:
        """Where the org's API (and UI) lives: the forced instance_url, the token's, or base_url."""
        if self.settings.instance_url:
            return self.settings.instance_url
        token = self.auth.token
        return (token.instance_url if token and token.instance_url else self.settings.base_url).rstrip("/")

    @property
    def api_usage(self) -> mapping.ApiUsage | None:
        """The org's daily API usage as last reported in ``Sforce-Limit-Info``."""
        b = self.budget
        if b.observed_header != "sforce-limit-info" or b.limit is None or b.remaining is None:
            return None
        return mapping.ApiUsage(b.limit - b.remaining, b.limit)

    def _over_budget(self) -> RateLimited | None:
        usage = self.api_usage
        if usage is None or usage.share < self.settings.api_budget:
            return None
        return RateLimited(
            f"Salesforce daily API usage is {usage.used}/{usage.limit} ({usage.share:.0%}), at or above api_budget "
            f"{self.settings.api_budget:.0%}; stopping here, the next sync resumes from the bookmark",
            retry_after=DAILY_LIMIT_WAIT,
            source=self.source,
        )

    def _path(self, rest: str) -> str:
        return f"{self.settings.data_path}/{rest.lstrip('/')}"

    async def _json(self, method: str, path: str, **kw: Any) -> Any:
        try:
            return await self.client.json(method, path, **kw)
        except ConnectorError as e:
            raise _translate(e, self.source) from None

    async def _query_all_records(self, soql: str, where: str) -> list[Mapping[str, Any]]:
        """Every record of a (small) query, following nextRecordsUrl."""
        out: list[Mapping[str, Any]] = []
        paginator = NextUrlPaginator("nextRecordsUrl", done_path="done")
        try:
            async for page in paginate(self.client, self._path("query"), paginator, params={"q": soql}, records=lambda b: mapping.parse_query_page(b, where).records):
                out.extend(page.records)
        except ConnectorError as e:
            raise _translate(e, self.source) from None
        return out

    async def _rest_of(self, sub: mapping.QueryPage, where: str) -> list[Mapping[str, Any]]:
        """All rows of a child sub-query; Salesforce pages big ones behind their own nextRecordsUrl."""
        rows = list(sub.records)
        seen: set[str] = set()
        while not sub.done and sub.next_url:
            if sub.next_url in seen:
                raise BadResponse(f"{where}.nextRecordsUrl: the API returned {sub.next_url!r} twice", source=self.source)
            seen.add(sub.next_url)
            sub = mapping.parse_query_page(await self._json("GET", sub.next_url), where)
            rows.extend(sub.records)
        return rows

    async def _ticket(self, rec: Mapping[str, Any], where: str):
        comments = emails = None
        sub = mapping.child_records(rec, "CaseComments", where)
        if sub is not None and not sub.done:
            comments = await self._rest_of(sub, f"{where}.CaseComments")
        sub = mapping.child_records(rec, "EmailMessages", where) if self.settings.include_emails else None
        if sub is not None and not sub.done:
            emails = await self._rest_of(sub, f"{where}.EmailMessages")
        return mapping.case_to_ticket(rec, self.settings, self.api_base, comments=comments, emails=emails, where=where)

    # -- the contract ----------------------------------------------------------------------
    async def check(self) -> CheckResult:
        """Get a token and read one Case: proves credentials, API access and Case visibility."""
        try:
            body = await self._json("GET", self._path("query"), params={"q": "SELECT Id FROM Case ORDER BY SystemModstamp DESC LIMIT 1"})
            mapping.parse_query_page(body, "query")
        except ConnectorError as e:
            return failed_check(e)
        usage = self.api_usage
        quota = f"; API usage today {usage.used}/{usage.limit}" if usage else ""
        return CheckResult(True, f"connected to {self.api_base} (REST {self.settings.api_version}){quota}", "ok")

    async def fetch(self, bookmark: Any, *, until: datetime | None = None) -> AsyncIterator[Page]:
        """Pages of changed Cases since ``bookmark``, then one page of getDeleted tombstones."""
        state = start_state = SfBookmark.load(bookmark, self.source)
        if until is not None:
            until = until.astimezone(timezone.utc).replace(microsecond=0)
        restarts = 0
        while True:
            try:
                async for page, state in self._case_pages(state, until):
                    yield page
                break
            except ConnectorError as e:
                # Query locators expire (INVALID_QUERY_LOCATOR): start the query again from the
                # bookmark of the last page handed out; everything before it is already delivered.
                if "INVALID_QUERY_LOCATOR" in e.message and restarts < MAX_LOCATOR_RESTARTS:
                    restarts += 1
                    log.info("%s: query locator expired, restarting from %s", self.source, state.dump())
                    continue
                raise _translate(e, self.source) from None
        over = self._over_budget()
        if over is not None:
            raise over
        # Deletions are looked up from where the previous run's lookup ended, not from the new
        # case bookmark: a first run starts at the configured start (clamped to 30 days).
        page = await self._deleted_page(state, until, start_state.deleted_since or start_state.since)
        yield page

    async def _case_pages(self, state: SfBookmark, until: datetime | None) -> AsyncIterator[tuple[Page, SfBookmark]]:
        since = state.since or (self.settings.start_time or EPOCH).replace(microsecond=0)
        if until is not None and since >= until:
            return
        soql = mapping.case_query(self.settings, since, until)
        paginator = NextUrlPaginator("nextRecordsUrl", done_path="done")
        async for data in paginate(
            self.client, self._path("queryAll"), paginator, params={"q": soql}, records=lambda b: mapping.parse_query_page(b, "queryAll").records
        ):
            tickets, deleted = [], []
            for i, rec in enumerate(data.records):
                where = f"Case[{i}]"
                cid, stamp = mapping.case_version(rec, where)
                state, fresh = state.advance(cid, stamp)
                if not fresh:
                    continue  # the boundary second re-read: this version was delivered before
                if mapping.is_deleted(rec, where):
                    deleted.append(self.ticket_id(cid))
                else:
                    tickets.append(await self._ticket(rec, where))
            yield Page(tickets, deleted, bookmark=state.dump(), done=False), state
            if not data.last:
                over = self._over_budget()
                if over is not None:
                    raise over

    async def _deleted_page(self, state: SfBookmark, until: datetime | None, start: datetime | None) -> Page:
        """Tombstones from getDeleted (hard deletes and emptied recycle bins never show up in
        queryAll). It only reaches 30 days back and works in whole minutes."""
        end = until or utcnow().replace(microsecond=0)
        wanted = start or self.settings.start_time or EPOCH
        start = max(wanted, end - GET_DELETED_WINDOW)
        if end - start < timedelta(minutes=1):
            return Page((), (), bookmark=state.dump(), done=True)
        body = await self._json(
            "GET", self._path("sobjects/Case/deleted/"), params={"start": format_time(start), "end": format_time(end)}
        )
        result = mapping.parse_deleted(body)
        earliest = max(start, result.earliest_available or start)
        # A first run has nothing to miss; a later one that last looked before the window did.
        if state.deleted_since is not None and wanted < earliest:
            self.reconcile_since = wanted
            log.warning("%s: no deletion lookup since %s, past getDeleted's window (from %s); hard deletes in the "
                        "gap are found by reconciling ids (reconcile_ids)", self.source, format_time(wanted), format_time(earliest))
        # Monotonic and never past ``until``: a stale latestDateCovered must not move it back.
        covered = min(max(result.latest_covered or start, state.deleted_since or EPOCH), end)
        state = dataclasses.replace(state, deleted_since=covered)
        return Page((), tuple(self.ticket_id(cid) for cid, _ in result.records), bookmark=state.dump(), done=True)

    async def live_ids(self, created_since: datetime | None = None) -> set[str]:
        """Ticket ids of every Case Salesforce still has (created since ``created_since``): 2,000
        Ids a request, for reconciling ids when deletions fell outside getDeleted's window."""
        where = f" WHERE CreatedDate >= {format_time(created_since)}" if created_since else ""
        rows = await self._query_all_records(f"SELECT Id FROM Case{where}", "Case")
        return {self.ticket_id(r["Id"]) for r in rows if isinstance(r.get("Id"), str)}

    async def reconcile_ids(self, known: Iterable[str]) -> list[str]:
        """Of the ticket ids deskwatch holds (``known``), those Salesforce no longer has: hard
        deletes getDeleted can no longer report (its window is 15 days). Clears
        ``reconcile_since``. Every live Case is listed, not only those created since
        ``start_time``: a Case created before it but changed since is held too."""
        live = await self.live_ids()
        self.reconcile_since = None
        return sorted(t for t in known if t not in live)

    # -- updates ---------------------------------------------------------------------------
    async def _comment_bodies(self, cid: str) -> list[str]:
        rows = await self._query_all_records(f"SELECT Id, CommentBody FROM CaseComment WHERE ParentId = '{cid}' ORDER BY CreatedDate DESC", "CaseComment")
        return [r.get("CommentBody") for r in rows if isinstance(r.get("CommentBody"), str)]

    async def _case_state(self, cid: str) -> tuple[tuple[str, ...], datetime | None]:
        """The Case's tags (when ``tags_field`` is set) and its ``LastModifiedDate``: what the
        update is planned against, and the ``If-Unmodified-Since`` of its PATCH."""
        field = self.settings.tags_field
        rows = await self._query_all_records(f"SELECT Id, LastModifiedDate{', ' + field if field else ''} FROM Case WHERE Id = '{cid}'", "Case")
        row = next((r for r in rows if r.get("Id") in (cid, cid[:15])), None)
        if row is None:
            raise ConnectorError(f"Case {cid} not found (deleted?)", source=self.source, status=404)
        return (mapping.split_tags(row.get(field)) if field else ()), writeback.read_stamp(row.get("LastModifiedDate"))

    async def _queue_id(self, group: str) -> str | None:
        """The queue Id of a deskwatch team: config ``queues`` first, then a lookup by name."""
        where = "Type = 'Queue' AND (Name = '{0}' OR DeveloperName = '{0}')"
        return await self._record_id(group, self._queues, mapping.QUEUE_ID_PREFIX, "Group", where)

    async def _user_id(self, name: str) -> str | None:
        """The User Id of an agent named in a route: config ``users`` first, then a lookup."""
        return await self._record_id(name, self._users, mapping.USER_ID_PREFIX, "User", "IsActive = true AND Name = '{0}'")

    async def _record_id(self, name: str, cache: dict[str, str], prefix: str, sobject: str, where: str) -> str | None:
        """A record Id by name: the settings table (cached lookups join it), an Id given as
        the name itself, else a SOQL lookup that must find exactly one record."""
        found = NameTable(cache).id_for(name, numeric=False)
        if found is not None:
            return found
        if name.startswith(prefix) and _RECORD_ID.match(name):
            return name
        literal = name.replace("\\", "\\\\").replace("'", "\\'")
        rows = await self._query_all_records(f"SELECT Id, Name FROM {sobject} WHERE {where.format(literal)} LIMIT 2", sobject)
        if len(rows) != 1 or not isinstance(rows[0].get("Id"), str):
            return None
        cache[name] = rows[0]["Id"]
        return cache[name]

    async def _picklist_values(self) -> Mapping[str, tuple[str, ...]]:
        """Active Priority/Status values of this org, read once (describe) and cached."""
        if self._picklists is None:
            try:
                body = await self._json("GET", self._path("sobjects/Case/describe"))
            except (AuthError, RateLimited, TransientError):
                raise
            except ConnectorError as e:
                # Without describe we cannot pre-check values; the PATCH still reports a bad one.
                log.warning("%s: cannot read the Case picklists (%s); sending values unchecked", self.source, e)
                self._picklists = {}
                return self._picklists
            self._picklists = writeback.parse_picklists(body, ("Priority", "Status"))
        return self._picklists

    async def update(self, update: TicketUpdate) -> UpdateResult:
        """Apply one update once; see the module docstring for the order of the calls."""
        tid = update.ticket_id
        cid = update.native_id
        if not _RECORD_ID.match(cid):
            return UpdateResult("failed", f"{tid}: not a Salesforce Case Id", tid)
        try:
            for _ in range(CONFLICT_ROUNDS):
                if writeback.has_marker(await self._comment_bodies(cid), update.idempotency_key):
                    return UpdateResult("already_applied", f"marker {writeback.marker(update.idempotency_key)} found on the case", tid)
                # Looked up once (the connector caches them), after the marker: an applied update
                # is never refused because a queue was renamed since.
                queue_id = await self._queue_id(update.group) if update.group is not None and update.assignee is None else None
                picklists = await self._picklist_values() if (update.priority or update.status) else None
                user_id = await self._user_id(update.assignee) if update.assignee is not None else None
                current_tags, stamp = await self._case_state(cid)
                body, lines = writeback.build_patch(update, self.settings, current_tags=current_tags, queue_id=queue_id,
                                                  picklists=picklists, user_id=user_id)
                result = await self._send_composite(update, body, lines, stamp)
                if result.outcome != "conflict":
                    return result
                # 412: the Case changed after it was read; all or none means nothing landed.
                log.info("%s: case %s changed while updating (412); re-reading", self.source, cid)
            return UpdateResult("conflict", f"{tid}: the case kept changing while updating; decide again", tid)
        except writeback.UpdateNotPossible as e:
            return UpdateResult("failed", f"{tid}: {e}", tid)
        except ConnectorError as e:
            e = _translate(e, self.source)
            if isinstance(e, (AuthError, RateLimited, TransientError, BadResponse)):
                raise e from None  # a read cut short is no refusal: the outbox tries again later
            return UpdateResult("failed", str(e), tid)

    async def _comment_bodies_many(self, cids: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {c: [] for c in cids}
        for chunk in _chunks(cids, IN_CHUNK):
            ids = ", ".join(f"'{c}'" for c in chunk)
            for r in await self._query_all_records(f"SELECT ParentId, CommentBody FROM CaseComment WHERE ParentId IN ({ids})", "CaseComment"):
                if isinstance(r.get("CommentBody"), str) and r.get("ParentId") in out:
                    out[r["ParentId"]].append(r["CommentBody"])
        return out

    async def _tags_many(self, cids: list[str]) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        field = self.settings.tags_field
        for chunk in _chunks(cids, IN_CHUNK):
            ids = ", ".join(f"'{c}'" for c in chunk)
            for r in await self._query_all_records(f"SELECT Id, {field} FROM Case WHERE Id IN ({ids})", "Case"):
                if isinstance(r.get("Id"), str):
                    out[r["Id"]] = mapping.split_tags(r.get(field))
        return out

    async def _send_composite(self, update: TicketUpdate, patch: Mapping[str, Any], lines: list[str],
                              stamp: datetime | None = None) -> UpdateResult:
        """The PATCH (``If-Unmodified-Since: stamp``) and the marker comment as one all-or-none
        Composite request; ``conflict`` when the precondition failed (412)."""
        tid, cid = update.ticket_id, update.native_id
        note = {"ParentId": cid, "CommentBody": writeback.note_body(update, lines), "IsPublished": False}
        request = writeback.composite_request(self.settings.data_path, cid, patch, note, unmodified_since=stamp)
        try:
            # Never retried blindly (POST): an ambiguous failure is settled by the marker below.
            answer = await self.client.json("POST", self._path("composite"), json=request, idempotent=False)
            errors = writeback.composite_errors(answer, len(request["compositeRequest"]))
        except ConnectorError as e:
            e = _translate(e, self.source)
            if isinstance(e, (AuthError, RateLimited)):
                raise e from None
            if isinstance(e, (TransientError, BadResponse)):  # sent, answer lost or cut: the marker tells
                return await self._settle(update, lines, e)
            return UpdateResult("failed", f"{tid}: {e.message}", tid)  # the whole request was refused
        if writeback.precondition_failed(answer):
            return UpdateResult("conflict", f"{tid}: the case changed since it was read (412); nothing changed", tid)
        if errors:
            if any("REQUEST_LIMIT_EXCEEDED" in x for x in errors):
                raise RateLimited("; ".join(errors), retry_after=CONCURRENT_LIMIT_WAIT, source=self.source)
            return UpdateResult("failed", f"{tid}: nothing changed (all or none): " + "; ".join(errors), tid)
        return UpdateResult("applied", "; ".join(lines) or "note added", tid)

    async def _settle(self, update: TicketUpdate, lines: list[str], cause: ConnectorError) -> UpdateResult:
        """After an ambiguous send: applied if the marker is on the case, else nothing landed."""
        try:
            found = writeback.has_marker(await self._comment_bodies(update.native_id), update.idempotency_key)
        except ConnectorError as e:
            raise OutcomeUnknown(f"{update.ticket_id}: sent, but the answer was lost ({cause.message}) and the case "
                                 f"could not be read to check ({e.message}); will check again", source=self.source) from None
        if found:
            return UpdateResult("applied", "; ".join(lines) or "note added", update.ticket_id)
        raise TransientError(f"{update.ticket_id}: not applied ({cause.message}); will retry", source=self.source,
                             status=cause.status) from None

    async def _add_note(self, update: TicketUpdate, lines: list[str]) -> UpdateResult:
        tid, cid = update.ticket_id, update.native_id
        note = {"ParentId": cid, "CommentBody": writeback.note_body(update, lines), "IsPublished": False}
        try:
            created = await self.client.json("POST", self._path("sobjects/CaseComment"), json=note, idempotent=False)
        except TransientError:
            # Ambiguous: the comment may exist. Look before anyone retries the POST.
            if writeback.has_marker(await self._comment_bodies(cid), update.idempotency_key):
                return UpdateResult("applied", "; ".join(lines) or "note added", tid)
            raise
        result = mapping.parse_record_result(created, "CaseComment")
        if not result.success:
            return UpdateResult("failed", "case updated but the note was refused: " + "; ".join(map(str, result.errors)), tid)
        return UpdateResult("applied", "; ".join(lines) or "note added", tid)

    async def update_many(self, updates: Iterable[TicketUpdate]) -> list[UpdateResult]:
        """Several updates in few calls: one query for the markers, one for the tags, and the
        PATCHes through sObject Collections (200 a call, ``allOrNone: false``), which answer 200
        even when some rows fail — each row's result is read. Notes are still one POST each
        (never retried blindly). A case that appears twice goes one update at a time."""
        updates = list(updates)
        cids = [u.native_id for u in updates]
        if len(updates) < 2 or len(set(cids)) != len(cids) or not all(_RECORD_ID.match(c) for c in cids):
            return await super().update_many(updates)
        results: list[UpdateResult | None] = [None] * len(updates)
        try:
            markers = await self._comment_bodies_many(cids)
            wants_tags = self.settings.tags_field and any(u.tags_add or u.tags_remove for u in updates)
            tags = await self._tags_many(cids) if wants_tags else {}
            picklists = await self._picklist_values() if any(u.priority or u.status for u in updates) else None
            pending: list[tuple[int, TicketUpdate, dict[str, Any], list[str]]] = []
            for i, u in enumerate(updates):
                if writeback.has_marker(markers.get(u.native_id, ()), u.idempotency_key):
                    results[i] = UpdateResult("already_applied", f"marker {writeback.marker(u.idempotency_key)} found on the case", u.ticket_id)
                    continue
                try:
                    queue_id = await self._queue_id(u.group) if u.group is not None and u.assignee is None else None
                    user_id = await self._user_id(u.assignee) if u.assignee is not None else None
                    body, lines = writeback.build_patch(u, self.settings, current_tags=tags.get(u.native_id, ()), queue_id=queue_id,
                                                      picklists=picklists, user_id=user_id)
                except writeback.UpdateNotPossible as e:
                    results[i] = UpdateResult("failed", f"{u.ticket_id}: {e}", u.ticket_id)
                    continue
                pending.append((i, u, body, lines))
            patches = [(i, u, body) for i, u, body, _ in pending if body]
            for chunk in _chunks(patches, COLLECTION_CHUNK):
                records = [{"attributes": {"type": "Case"}, "id": u.native_id, **body} for _, u, body in chunk]
                rows = mapping.parse_collection_results(await self._json("PATCH", self._path("composite/sobjects"), json={"allOrNone": False, "records": records}))
                if len(rows) != len(chunk):
                    raise BadResponse(f"composite/sobjects: {len(rows)} results for {len(chunk)} records", source=self.source)
                for (i, u, _), row in zip(chunk, rows):
                    if not row.success:
                        results[i] = UpdateResult("failed", f"{u.ticket_id}: " + "; ".join(map(str, row.errors)), u.ticket_id)
            for i, u, _, lines in pending:
                if results[i] is None:
                    results[i] = await self._add_note(u, lines)
        except ConnectorError as e:
            # What was settled stays settled; the rest is reported failed and retried later.
            e = _translate(e, self.source)
            for i, u in enumerate(updates):
                if results[i] is None:
                    results[i] = UpdateResult("failed", str(e), u.ticket_id)
        return [r for r in results if r is not None]

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self.client.aclose()


def create(source: str, settings: SalesforceSettings, client_factory: ClientFactory) -> SalesforceConnector:
    return SalesforceConnector(source, settings, client_factory)
