"""Paginators: cursor, page number and next-URL paging with ``paginate()``; they stop on an empty
page and raise ``PaginationLoop`` when a token repeats."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Mapping, Sequence

import httpx

from deskwatch.core.connect.errors import BadResponse
from deskwatch.core.connect.http.client import ApiClient, decode_json
from deskwatch.core.connect.http.redact import redact

class PaginationLoop(BadResponse):
    """The API handed back a page token it had already given: following it would loop forever."""


def dig(body: Any, path: str, *, source: str = "") -> Any:
    """``body["a"]["b"]`` for ``"a.b"``; None when a key is absent; BadResponse naming the
    field when something on the way is not an object."""
    cur = body
    done: list[str] = []
    for part in path.split("."):
        if cur is None:
            return None
        if not isinstance(cur, Mapping):
            where = ".".join(done) or "response body"
            raise BadResponse(f"{where}: expected an object with {part!r}, got {type(cur).__name__}", source=source)
        cur = cur.get(part)
        done.append(part)
    return cur


def records_at(body: Any, path: str, *, source: str = "") -> list[Any]:
    """The list at ``path`` (e.g. ``"tickets"``); BadResponse if it is missing or not a list."""
    v = dig(body, path, source=source)
    if not isinstance(v, list):
        got = "nothing" if v is None else type(v).__name__
        raise BadResponse(f"{path}: expected a list, got {got}", source=source)
    return v


def _get(spec: Any, body: Any, response: httpx.Response) -> Any:
    if spec is None:
        return None
    if callable(spec):
        return spec(body, response)
    return dig(body, spec)


class Paginator:
    """Walks pages of one listing. ``token`` is what fetched the current page (None for the
    first); ``advance`` reads the next token from a response; ``finished`` says when to stop.
    A token seen before raises PaginationLoop; an empty page stops the walk."""

    def __init__(self, *, stop_on_empty: bool = True):
        self.token: Any = None
        self.finished = False
        self.stop_on_empty = stop_on_empty
        self._seen: set[str] = set()

    def request(self, url: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """URL and query parameters for the next request."""
        return url, dict(params)

    def next_token(self, body: Any, response: httpx.Response, records: Sequence[Any]) -> Any:
        raise NotImplementedError

    def advance(self, body: Any, response: httpx.Response, records: Sequence[Any]) -> None:
        if self.stop_on_empty and not records:
            self.finished = True
            return
        nxt = self.next_token(body, response, records)
        if nxt is None or nxt == "":
            self.finished = True
            return
        key = json.dumps(nxt, sort_keys=True, default=str)
        if key in self._seen or nxt == self.token:
            raise PaginationLoop(f"loop detected in pagination: the API returned the token {redact(str(nxt))!r} twice")
        self._seen.add(json.dumps(self.token, sort_keys=True, default=str))
        self._seen.add(key)
        self.token = nxt


class CursorPaginator(Paginator):
    """Cursor pagination (Zendesk): the next cursor comes from ``cursor_path`` and is sent as
    ``cursor_param``. ``has_more_path`` (e.g. ``"meta.has_more"``) or ``end_path`` (e.g.
    ``"end_of_stream"``) say when to stop; without them the walk stops when no cursor comes."""

    def __init__(
        self,
        cursor_path: Any,
        *,
        cursor_param: str = "cursor",
        has_more_path: Any = None,
        end_path: Any = None,
        start: Any = None,
        stop_on_empty: bool = True,
    ):
        super().__init__(stop_on_empty=stop_on_empty)
        self.cursor_path = cursor_path
        self.cursor_param = cursor_param
        self.has_more_path = has_more_path
        self.end_path = end_path
        self.token = start
        # The newest cursor seen, kept even on the last page: where the next sync resumes.
        self.last_cursor: Any = start

    def request(self, url: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        p = dict(params)
        if self.token is not None:
            p[self.cursor_param] = self.token
        return url, p

    def next_token(self, body: Any, response: httpx.Response, records: Sequence[Any]) -> Any:
        if self.has_more_path is not None and not _get(self.has_more_path, body, response):
            return None
        if self.end_path is not None and _get(self.end_path, body, response):
            return None
        return _get(self.cursor_path, body, response)

    def advance(self, body: Any, response: httpx.Response, records: Sequence[Any]) -> None:
        nc = _get(self.cursor_path, body, response)
        if nc:
            self.last_cursor = nc
        super().advance(body, response, records)


class PageNumberPaginator(Paginator):
    """Page-number pagination (Freshdesk): ``page=start, start+1, …`` with ``per_page``. Stops
    on an empty page, a short page (fewer than ``per_page`` records), a missing ``Link: rel=next``
    header when ``use_link_header`` is set, or after ``max_pages`` (Freshdesk caps at 300)."""

    def __init__(
        self,
        *,
        page_param: str = "page",
        per_page: int | None = None,
        per_page_param: str = "per_page",
        start: int = 1,
        max_pages: int | None = None,
        use_link_header: bool = False,
    ):
        super().__init__()
        self.page_param = page_param
        self.per_page = per_page
        self.per_page_param = per_page_param
        self.start = start
        self.page = start
        self.max_pages = max_pages
        self.use_link_header = use_link_header
        self.capped = False  # True when max_pages stopped the walk (the caller moves its window)

    def request(self, url: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        p = dict(params)
        p[self.page_param] = self.page
        if self.per_page:
            p[self.per_page_param] = self.per_page
        return url, p

    def next_token(self, body: Any, response: httpx.Response, records: Sequence[Any]) -> Any:
        if self.per_page and len(records) < self.per_page:
            return None
        if self.use_link_header and "next" not in response.links:
            return None
        if self.max_pages is not None and self.page - self.start + 1 >= self.max_pages:
            self.capped = True
            return None
        return self.page + 1

    def advance(self, body: Any, response: httpx.Response, records: Sequence[Any]) -> None:
        super().advance(body, response, records)
        if not self.finished:
            self.page = self.token


class NextUrlPaginator(Paginator):
    """Next-URL pagination (Salesforce ``nextRecordsUrl``, HATEOAS links): the next request
    goes to the URL found at ``next_path`` (or the ``Link: rel=next`` header when
    ``next_path`` is None), with no extra parameters."""

    def __init__(self, next_path: Any = None, *, done_path: Any = None):
        super().__init__()
        self.next_path = next_path
        self.done_path = done_path

    def request(self, url: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        if self.token is not None:
            return str(self.token), {}
        return url, dict(params)

    def next_token(self, body: Any, response: httpx.Response, records: Sequence[Any]) -> Any:
        if self.done_path is not None and _get(self.done_path, body, response):
            return None
        if self.next_path is None:
            return response.links.get("next", {}).get("url")
        return _get(self.next_path, body, response)


class UpdatedSincePaginator(Paginator):
    """"Search ``updated_at >= T``" paging (Zammad's search, JQL-like APIs): each request asks
    for records updated at or after ``since``, oldest first, ``per_page`` at a time. A full page
    moves the window to its newest ``updated_at`` and starts again at page 1, so a record
    updated mid-sync is met again later instead of being skipped as plain page numbers would;
    only when a whole page shares one timestamp does it step to the next page number.

    ``query`` turns the window start into query parameters, e.g.
    ``lambda since: {"query": f"updated_at:>={since}", "sort_by": "updated_at", "order_by": "asc"}``.
    ``updated_at(record)`` returns a sortable stamp (ISO text or datetime) and ``key(record)`` an
    id. The window's boundary is re-read, so use ``fresh(records)`` to drop what was already
    delivered; ``since`` is where the next sync starts (a bookmark)."""

    def __init__(
        self,
        query: Callable[[Any], Mapping[str, Any]],
        *,
        since: Any,
        per_page: int,
        updated_at: Callable[[Any], Any] = lambda r: r["updated_at"],
        key: Callable[[Any], Any] = lambda r: r["id"],
        page_param: str = "page",
        per_page_param: str = "per_page",
        max_pages: int | None = None,
    ):
        super().__init__()
        self.query = query
        self.since = since
        self.per_page = per_page
        self.updated_at = updated_at
        self.key = key
        self.page_param = page_param
        self.per_page_param = per_page_param
        self.max_pages = max_pages
        self.token = (since, 1)
        self._delivered: set[Any] = set()  # (key, stamp) at the window's start

    def request(self, url: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        since, page = self.token
        p = {**dict(params), **dict(self.query(since)), self.page_param: page, self.per_page_param: self.per_page}
        return url, p

    def fresh(self, records: Sequence[Any]) -> list[Any]:
        """``records`` less those delivered before (the window's boundary is read twice)."""
        out = []
        for r in records:
            version = (self.key(r), self.updated_at(r))
            if version not in self._delivered:
                self._delivered.add(version)
                out.append(r)
        return out

    def next_token(self, body: Any, response: httpx.Response, records: Sequence[Any]) -> Any:
        since, page = self.token
        if records:
            newest = max(self.updated_at(r) for r in records)
            if newest > self.since:
                self.since = newest
                # Forget versions older than the new window: they cannot come back.
                self._delivered = {v for v in self._delivered if v[1] >= newest}
        if len(records) < self.per_page:
            return None
        if self.since != since:
            return (self.since, 1)
        if self.max_pages is not None and page >= self.max_pages:
            raise BadResponse(f"more than {self.max_pages * self.per_page} records share the update time {since}; "
                              "the API cannot page past them")
        return (since, page + 1)


@dataclass(frozen=True)
class PageData:
    """One page of a listing: the decoded body, its records, and the paginator state after it."""

    body: Any
    records: tuple[Any, ...]
    response: httpx.Response = field(repr=False)
    token: Any  # what fetched this page (None: the first page)
    next_token: Any  # what fetches the next page (None when last)
    last: bool


async def paginate(
    client: ApiClient,
    url: str,
    paginator: Paginator,
    *,
    params: Mapping[str, Any] | None = None,
    records: str | Callable[[Any], Sequence[Any]] = "results",
    method: str = "GET",
) -> AsyncIterator[PageData]:
    """Yield pages until the paginator finishes. ``records`` is a dotted path to the list of
    records in each body, or a function of the body."""
    while not paginator.finished:
        req_url, req_params = paginator.request(url, params or {})
        used = paginator.token
        response = await client.request(method, req_url, params=req_params or None)
        body = decode_json(response, source=client.source, secrets=client.secrets)
        recs = records(body) if callable(records) else records_at(body, records, source=client.source)
        paginator.advance(body, response, recs)
        yield PageData(body, tuple(recs), response, used, None if paginator.finished else paginator.token, paginator.finished)
