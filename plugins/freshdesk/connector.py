"""The Freshdesk connector: incremental fetch by ``updated_since``, updates, private notes.

How fetching loses nothing (API-NOTES §2.2, §4; STYLE.md P10-P12):

* Three passes per sync, each with its own watermark: all tickets, then ``filter=deleted`` and
  ``filter=spam`` (the default listing leaves those out; they become tombstones).
* Every request asks for ``updated_since=<watermark>&order_by=updated_at&order_type=asc``. After
  each page the window moves: the next request starts at the page's last ``updated_at``, page 1.
  Walking ``page=2,3…`` of one query instead would skip tickets: a ticket updated mid-sync jumps
  to the end of the list and every later ticket shifts one place towards pages already read.
  Moving the window also keeps every query far below Freshdesk's 300-page cap. Only a run of
  tickets sharing one second that fills whole pages is walked by page number (up to the cap).
* ``updated_since`` is inclusive and timestamps have one-second resolution, so each window
  re-delivers the tickets of its first second; the bookmark remembers which ids were already
  delivered at the watermark second and those are dropped (de-duplication by id + updated_at).
* The bookmark of a page is committed by the caller after the page is stored; it never moves past
  ``until`` (the sync start), and a pass stops once it has read past ``until``.
* The ``Link: rel="next"`` header says whether more pages exist (it is absent on the last one).
  Its URL is not followed: it names the account's own domain, and the window is re-requested
  from the configured base URL anyway.

Updates are made idempotent with a marker tag ``dw-<first 12 of the idempotency key>``, written
in the same PUT as the changes, and a marker line in the private note, which is posted first:
a retry finds the tag (nothing to do) or the note (skip the note, do the PUT).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, AsyncIterator, Mapping

import httpx

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
from deskwatch.core.connect.http import (
    ApiClient,
    PageNumberPaginator,
    PaginationLoop,
    RateBudget,
    Sleep,
    decode_json,
    freshdesk_key_auth,
    paginate,
)
from deskwatch.core.connect.kit import (
    NameTable,
    Watermark,
    failed_check,
    has_marker_tag,
    marker_tag,
    merged_tags,
    tag_changes,
    text_to_html,
    until_signpost,
)
from deskwatch.core.model import Ticket, TicketUpdate
from deskwatch.core.model.timeutil import format_time, utcnow

from . import mapping
from .settings import FreshdeskSettings
from .responses import PASSES, bookmark_json, read_bookmark, classify_freshdesk, _more_pages
CONVERSATION_CONCURRENCY = 4  # parallel conversation reads per page; the rate budget still applies
log = logging.getLogger(__name__)

TYPE_NAME = "freshdesk"
# Each include costs extra credits per list call; ``stats`` is left out unless include_stats asks
# for it (it only adds the time of the last status change).
INCLUDE = "requester,description"
SETTLED_STATUSES = frozenset({4, 5})  # Resolved, Closed
COMPANIES_PAGE = 100
# What Freshdesk returns when updated_since is not given; also the first sync's default reach.
DEFAULT_LOOKBACK = timedelta(days=30)


# ---------------------------------------------------------------------------------------------
# Bookmark


class FreshdeskConnector(Connector):
    """One Freshdesk account (or any server speaking the same API at ``base_url``)."""

    type_name = TYPE_NAME

    def __init__(
        self,
        source: str,
        settings: FreshdeskSettings,
        client_factory: ClientFactory,
        *,
        budget_sleep: Sleep = asyncio.sleep,
    ):
        super().__init__(source)
        self.settings = settings
        # Freshdesk counts every call against a per-minute account quota that other tools share:
        # when X-Ratelimit-Remaining gets low, space calls out rather than run into 429s.
        self.budget = RateBudget(
            settings.requests_per_minute, reserve=settings.low_quota, reserve_wait=5.0, sleep=budget_sleep,
            reserve_share=settings.quota_reserve,
        )
        self.client: ApiClient = client_factory(
            settings.base_url,
            auth=freshdesk_key_auth(settings.api_key),
            timeout=settings.timeout,
            retry=settings.retry,
            classifier=classify_freshdesk,
            budget=self.budget,
            secrets=(settings.api_key,),
            source=source,
        )
        self._companies: dict[int, Any] = {}
        self._companies_listed_at: datetime | None = None  # when the company list was last read
        self._companies_fresh = False  # listed during this fetch
        self._company_lock = asyncio.Lock()
        self._company_listing = True  # False once the account refused GET /api/v2/companies
        self._directory: Directory | None = None

    def __repr__(self) -> str:
        return f"FreshdeskConnector({self.source!r}, {self.settings.base_url!r})"

    async def close(self) -> None:
        await self.client.aclose()

    # -- check --------------------------------------------------------------------------------
    async def check(self) -> CheckResult:
        """One cheap listing call: proves the key, the ticket permission and reachability."""
        try:
            response = await self.client.request("GET", "/api/v2/tickets", params={"per_page": 1, "page": 1})
            mapping.tickets_list(decode_json(response, source=self.source), "GET /api/v2/tickets")
        except ConnectorError as e:
            auth = "give that agent access to tickets" if e.status == 403 else "set api_key to a valid Freshdesk API key (Profile settings > API key)"
            return failed_check(e, {"auth": auth, "unreachable": "check base_url and the network"}, full=False)
        quota = self.budget.snapshot()
        left = f" ({quota.remaining} of {quota.limit} API calls left this minute)" if quota.remaining is not None else ""
        return CheckResult(True, f"reached {self.settings.base_url} and listed tickets{left}", "ok")

    # -- fetch --------------------------------------------------------------------------------
    async def fetch(self, bookmark: Any, *, until: datetime | None = None) -> AsyncIterator[Page]:
        """Pages of changed tickets (pass "all") and tombstones (passes "deleted" and "spam").
        Each page's bookmark holds all three watermarks; the last page has ``done=True``."""
        start = self.settings.start_time or ((until or utcnow()) - DEFAULT_LOOKBACK)
        marks = read_bookmark(bookmark, start)
        self._companies_fresh = False  # list changed companies again, once, when a ticket needs one
        passes = PASSES if self.settings.sync_deleted else ("all",)
        for n, kind in enumerate(passes):
            last_pass = n == len(passes) - 1
            async for page in self._pass(kind, marks, until, last_pass):
                yield page

    async def _pass(self, kind: str, marks: dict[str, Watermark], until: datetime | None, last_pass: bool) -> AsyncIterator[Page]:
        s = self.settings
        mark = marks[kind]
        page_no = 1
        previous: tuple[datetime, list[int]] | None = None
        while True:
            window = mark.since
            params: dict[str, Any] = {
                "updated_since": format_time(window),
                "order_by": "updated_at",
                "order_type": "asc",
                "per_page": s.page_size,
                "page": page_no,
            }
            if kind == "all":
                params["include"] = INCLUDE + (",stats" if s.include_stats else "")
            else:
                params["filter"] = kind
            response = await self.client.request("GET", "/api/v2/tickets", params=params)
            await self._charge_extra_credits(response)
            where = f"GET /api/v2/tickets ({kind}, updated_since={params['updated_since']}, page={page_no})"
            rows = mapping.tickets_list(decode_json(response, source=self.source), where)
            versions = [mapping.ticket_version(r, f"{where}[{i}]") for i, r in enumerate(rows)]
            ids = [v[0] for v in versions]
            # Within one window a later page must differ from the one before; a server that
            # ignores `page` would otherwise be walked until the page cap.
            if page_no > 1 and ids and previous == (window, ids):
                raise PaginationLoop(f"loop detected in pagination: {where} returned the same tickets as page {page_no - 1}", source=self.source)
            previous = (window, ids)
            times = [v[1] for v in versions]
            if times != sorted(times):
                raise BadResponse(f"{where}: tickets are not in ascending updated_at order; the server ignored order_by=updated_at&order_type=asc", source=self.source)
            if times and times[0] < mark.since:
                raise BadResponse(f"{where}: a ticket updated at {format_time(times[0])} is older than updated_since; the server ignored updated_since", source=self.source)

            # Tickets changed after the sync started belong to the next sync (the signpost):
            # neither delivered nor covered by the bookmark.
            kept, past_until = until_signpost(list(zip(rows, versions)), lambda rv: rv[1][1], until)
            mark, fresh = mark.admit_all(kept, key=lambda rv: rv[1][0], stamp=lambda rv: rv[1][1])
            marks[kind] = mark.capped(until)
            tombstone = [kind != "all" or mapping.is_tombstone(raw) for raw, _ in fresh]
            deleted = [self.ticket_id(raw["id"]) for (raw, _), gone in zip(fresh, tombstone) if gone]
            live = [raw for (raw, _), gone in zip(fresh, tombstone) if not gone]
            # Conversations are one request per ticket: a few at a time, in page order.
            sem = asyncio.Semaphore(CONVERSATION_CONCURRENCY)

            settled_before = utcnow() - s.caught_up_after

            async def one(raw: Mapping[str, Any]) -> Ticket:
                async with sem:
                    return await self._ticket(raw, settled_before)

            tickets: list[Ticket] = list(await asyncio.gather(*(one(r) for r in live)))

            # Freshdesk stops linking at its page cap even when more tickets match; a full page
            # there means "maybe more", and the moved window (or the error below) takes over.
            more = _more_pages(response, len(rows), s.page_size) or (page_no >= s.page_cap and len(rows) >= s.page_size)
            pass_done = not more or past_until
            bookmark = bookmark_json(marks)
            yield Page(tickets=tuple(tickets), deleted=tuple(deleted), bookmark=bookmark, done=pass_done and last_pass)
            if pass_done:
                return
            if times[-1] > window:
                page_no = 1  # the window moved: ask again from its new start
            else:
                # A whole page shared the window's first second: walk that second by page number.
                page_no += 1
                if page_no > s.page_cap:
                    raise ConnectorError(
                        f"more than {s.page_cap * s.page_size} tickets share the update time {format_time(mark.since)}; "
                        "Freshdesk serves at most 300 pages per query, so they cannot all be listed",
                        source=self.source,
                    )

    async def _charge_extra_credits(self, response: httpx.Response) -> None:
        """Includes make one list call cost several credits (X-Ratelimit-Used-CurrentRequest);
        with a client-side cap (requests_per_minute) the extra credits are taken from it too."""
        if not self.budget.per_minute:
            return
        try:
            used = int(response.headers.get("x-ratelimit-used-currentrequest", "1"))
        except ValueError:
            return
        for _ in range(max(0, min(used, 20) - 1)):
            await self.budget.acquire()

    def _wants_conversations(self, raw: Mapping[str, Any], settled_before: datetime) -> bool:
        """Conversations cost a credit per ticket: read them for open tickets and tickets with
        new activity, not for a resolved/closed one last changed before ``settled_before``
        (backfill: its description stands in)."""
        if not self.settings.conversations:
            return False
        if self.settings.backfill_closed_conversations or raw.get("status") not in SETTLED_STATUSES:
            return True
        try:
            updated = datetime.fromisoformat(str(raw.get("updated_at")).replace("Z", "+00:00"))
        except ValueError:
            return True
        return updated.tzinfo is None or updated >= settled_before

    async def _refresh_companies(self) -> None:
        """Companies changed since the last listing (all of them the first time), a page of 100
        per request, instead of one request per company a ticket names."""
        params: dict[str, Any] = {"per_page": COMPANIES_PAGE}
        if self._companies_listed_at is not None:
            params["updated_since"] = format_time(self._companies_listed_at - timedelta(minutes=1))
        started = utcnow()
        try:
            paginator = PageNumberPaginator(per_page=COMPANIES_PAGE, use_link_header=True, max_pages=self.settings.page_cap)
            async for page in paginate(self.client, "/api/v2/companies", paginator, params=params,
                                       records=lambda body: _list(body, "GET /api/v2/companies")):
                for rec in page.records:
                    if isinstance(rec, Mapping) and isinstance(rec.get("id"), int):
                        self._companies[rec["id"]] = rec
        except (AuthError, RateLimited, TransientError):
            raise
        except ConnectorError as e:
            # Listing refused (an older API, a key without the permission): one read per company.
            log.warning("%s: cannot list companies (%s); reading them one at a time", self.source, e.message)
            self._company_listing = False
            return
        self._companies_listed_at = started

    async def _ticket(self, raw: Mapping[str, Any], settled_before: datetime | None = None) -> Ticket:
        wanted = self.settings.conversations if settled_before is None else self._wants_conversations(raw, settled_before)
        conversations = await self._conversations(raw["id"]) if wanted else ()
        company = None
        cid = mapping.company_id(raw)
        if cid is not None and self.settings.companies:
            company = await self._company(cid)
        directory = await self._names_for(raw)
        # Surveys go out on resolution: only a resolved or closed ticket can carry a rating, and
        # one read in full (not backfill, where a request per ticket is what the cap saves).
        ratings = await self._ratings(raw["id"]) if wanted and raw.get("status") in SETTLED_STATUSES else ()
        return mapping.ticket_from_freshdesk(
            raw,
            source=self.source,
            settings=self.settings,
            conversations=conversations,
            company=company,
            group_names=directory.groups.by_id(),
            agent_names=directory.agents.by_id(),
            ratings=ratings,
        )

    async def _ratings(self, ticket_id: int) -> Any:
        """The ticket's satisfaction ratings; none when the account has no surveys (the
        endpoint refuses: asked once, not again)."""
        if getattr(self, "_no_ratings", False):
            return ()
        try:
            return await self.client.get_json(f"/api/v2/tickets/{ticket_id}/satisfaction_ratings")
        except (RateLimited, TransientError):
            raise  # the sync backs off and reads the ticket again
        except ConnectorError as e:
            log.info("%s: satisfaction ratings not readable (%s); tickets are read without them", self.source, e)
            self._no_ratings = True
            return ()

    async def _names_for(self, raw: Mapping[str, Any]) -> "Directory":
        """The directory, loaded only once a ticket names a group or agent the settings do not."""
        s = self.settings
        if self._directory is not None:
            return self._directory
        group, agent = raw.get("group_id"), raw.get("responder_id")
        if (group is None or group in s.groups.values()) and (agent is None or agent in s.agents.values()):
            return Directory.from_settings(s)
        return await self.directory()

    async def directory(self) -> "Directory":
        """Group and agent names from ``/api/v2/groups`` and ``/api/v2/agents`` (once per
        connector), overlaid by the ``groups``/``agents`` settings tables. An account whose key
        may not list them (403) falls back to the tables and ids."""
        if self._directory is None:
            groups: dict[str, int] = {}
            agents: dict[str, int] = {}
            for path, into, name_of in (
                ("/api/v2/groups", groups, lambda r: r.get("name")),
                ("/api/v2/agents", agents, lambda r: (r.get("contact") or {}).get("name") if isinstance(r.get("contact") or {}, Mapping) else None),
            ):
                try:
                    paginator = PageNumberPaginator(per_page=100, use_link_header=True, max_pages=self.settings.page_cap)
                    async for page in paginate(self.client, path, paginator, records=lambda body, p=path: _list(body, f"GET {p}")):
                        for i, rec in enumerate(page.records):
                            if not isinstance(rec, Mapping) or not isinstance(rec.get("id"), int) or not isinstance(name_of(rec), str):
                                raise BadResponse(f"GET {path}[{i}]: expected an object with id and name, got {rec!r}"[:300], source=self.source)
                            into[name_of(rec)] = rec["id"]
                except (RateLimited, TransientError):
                    raise
                except ConnectorError as e:
                    if e.status not in (403, 404):
                        raise
                    log.warning("%s: cannot list %s (%s); names fall back to the settings tables and ids", self.source, path, e.message)
            self._directory = Directory.build(groups, agents, self.settings)
        return self._directory

    async def _conversations(self, ticket_id: int) -> list[Any]:
        out: list[Any] = []
        where = f"GET /api/v2/tickets/{ticket_id}/conversations"
        paginator = PageNumberPaginator(per_page=100, use_link_header=True, max_pages=self.settings.page_cap)
        async for page in paginate(
            self.client,
            f"/api/v2/tickets/{ticket_id}/conversations",
            paginator,
            records=lambda body: _list(body, where),
        ):
            out.extend(page.records)
        return out

    async def _company(self, company_id: int) -> Any:
        """The company record: from the company listing (changed companies, listed once per
        fetch when a ticket names one), else read alone."""
        if self._company_listing and not self._companies_fresh:
            async with self._company_lock:
                if not self._companies_fresh:
                    await self._refresh_companies()
                    self._companies_fresh = True
        if company_id not in self._companies:
            try:
                self._companies[company_id] = await self.client.get_json(f"/api/v2/companies/{company_id}")
            except ConnectorError as e:
                if e.status != 404:
                    raise
                log.warning("%s: company %s not found; the organization carries only its id", self.source, company_id)
                self._companies[company_id] = None
        return self._companies[company_id]

    # -- update -------------------------------------------------------------------------------
    async def update(self, update: TicketUpdate) -> UpdateResult:
        """Apply ``update`` once. The marker tag says it was applied; the marker line in the note
        says the note was posted (the note goes first, the tagged PUT last)."""
        tid = update.ticket_id
        native = update.native_id
        if not native.isdigit():
            return UpdateResult("failed", f"{tid}: a Freshdesk ticket id is a number", tid)
        marker = marker_tag(update.idempotency_key)
        try:
            current = await self._get_ticket(native)
            if has_marker_tag(mapping.ticket_tags(current, f"ticket {native}"), update.idempotency_key):
                return UpdateResult("already_applied", f"{tid}: tag {marker} is on the ticket; nothing changed", tid)
            directory = Directory.from_settings(self.settings)
            if not (directory.groups.knows(update.group) and directory.agents.knows(update.assignee)):
                directory = await self.directory()
            try:
                changes = self._changes(update, current, marker, directory)
            except ValueError as e:
                return UpdateResult("failed", f"{tid}: {e}", tid)
            done: list[str] = []
            if update.private_note:
                if await self._note_posted(native, marker):
                    done.append("private note (already posted)")
                else:
                    try:
                        await self._post_note(native, update.private_note, f"deskwatch update {marker}")
                    except BadResponse as e:
                        # Posted, answer cut short: the next attempt finds the note's marker line.
                        raise OutcomeUnknown(f"{tid}: the note was sent but its answer was cut short ({e.message}); "
                                             "the next attempt looks for it", source=self.source) from None
                    done.append("private note")
                    # The note bumped the ticket; re-read so the tag list sent below is current.
                    current = await self._get_ticket(native)
                    changes = self._changes(update, current, marker, directory)
            try:
                # Not retried blindly: a lost or cut answer is settled by the marker tag.
                response = await self.client.json("PUT", f"/api/v2/tickets/{native}", json=changes, idempotent=False)
            except (TransientError, BadResponse) as e:
                await self._settle(update, native, e)
            else:
                mapping.ticket_version(response, f"PUT /api/v2/tickets/{native} response")
        except (AuthError, RateLimited, TransientError):
            raise  # worth retrying later: the outbox keeps the update
        except ConnectorError as e:
            return UpdateResult("failed", f"{tid}: {e.message}", tid)
        fields = [k for k in changes if k != "tags"] + done
        return UpdateResult("applied", f"{tid}: updated {', '.join(fields) or 'tags'}", tid)

    async def _settle(self, update: TicketUpdate, native: str, cause: ConnectorError) -> None:
        """After a PUT whose answer was lost or cut short: return if the marker tag is on the
        ticket (it landed); raise TransientError if it is not (nothing landed, retry later), or
        OutcomeUnknown if the ticket cannot be read to tell."""
        try:
            tags = mapping.ticket_tags(await self._get_ticket(native), f"ticket {native}")
        except ConnectorError as e:
            raise OutcomeUnknown(f"{update.ticket_id}: sent, but the answer was lost ({cause.message}) and the ticket "
                                 f"could not be read to check ({e.message}); will check again", source=self.source) from None
        if not has_marker_tag(tags, update.idempotency_key):
            raise TransientError(f"{update.ticket_id}: not applied ({cause.message}); will retry", source=self.source,
                                 status=cause.status) from None

    async def _get_ticket(self, native: str) -> Mapping[str, Any]:
        body = await self.client.get_json(f"/api/v2/tickets/{native}")
        mapping.ticket_version(body, f"GET /api/v2/tickets/{native}")
        return body

    def _changes(self, update: TicketUpdate, current: Mapping[str, Any], marker: str, directory: "Directory") -> dict[str, Any]:
        """The PUT body: only fields that differ, and the full tag list (Freshdesk replaces it)."""
        s = self.settings
        where = f"ticket {update.native_id}"
        body: dict[str, Any] = {}
        if update.priority is not None:
            p = mapping.priority_to_freshdesk(update.priority)
            if current.get("priority") != p:
                body["priority"] = p
        if update.status is not None:
            st = mapping.status_to_freshdesk(update.status, s.status_map)
            if current.get("status") != st:
                body["status"] = st
        if update.group is not None:
            g = _resolve_id(update.group, directory.groups, "group", "groups")
            if current.get("group_id") != g:
                body["group_id"] = g
        if update.assignee is not None:
            a = _resolve_id(update.assignee, directory.agents, "assignee", "agents")
            if current.get("responder_id") != a:
                body["responder_id"] = a
        add, remove = tag_changes(update, s.escalation_tag)
        body["tags"] = merged_tags(mapping.ticket_tags(current, where), add, remove, marker)
        return body

    async def _note_posted(self, native: str, marker: str) -> bool:
        return mapping.note_has_marker(await self._conversations(int(native)), marker)

    async def _post_note(self, native: str, text: str, marker_line: str) -> None:
        # POST is not idempotent: the client does not retry it after an ambiguous failure; the
        # marker line lets the next attempt see whether it landed.
        body = await self.client.json(
            "POST", f"/api/v2/tickets/{native}/notes", json={"body": text_to_html(text, marker_line), "private": True}
        )
        mapping.message_from_conversation(body, frozenset(), f"POST /api/v2/tickets/{native}/notes response")


def _list(body: Any, where: str) -> list[Any]:
    if not isinstance(body, list):
        raise BadResponse(f"{where}: expected a JSON array, got {type(body).__name__}")
    return body


@dataclass(frozen=True)
class Directory:
    """Names of groups and agents both ways (settings tables win over what the API lists)."""

    groups: NameTable[int]
    agents: NameTable[int]

    @classmethod
    def build(cls, groups: Mapping[str, int], agents: Mapping[str, int], settings: FreshdeskSettings) -> "Directory":
        return cls(NameTable.build(groups, settings.groups), NameTable.build(agents, settings.agents))

    @classmethod
    def from_settings(cls, settings: FreshdeskSettings) -> "Directory":
        return cls(NameTable(dict(settings.groups)), NameTable(dict(settings.agents)))


def _resolve_id(name: str, table: NameTable[int], what: str, key: str) -> int:
    found = table.id_for(name)
    if found is None:
        raise ValueError(f"{what} {name!r} is not a Freshdesk {key[:-1]} the API key can see; add it to [sources.<name>.{key}] as \"{name}\" = <id>")
    return found


def create(source: str, settings: FreshdeskSettings, client_factory: ClientFactory) -> FreshdeskConnector:
    """The ConnectorType factory."""
    return FreshdeskConnector(source, settings, client_factory)
