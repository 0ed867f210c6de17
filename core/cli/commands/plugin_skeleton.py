"""The files of a new connector package, for ``deskwatch plugins new NAME``: an installable
package with the entry point, a connector on the HTTP kit (an API key header, "updated_at >= T"
paging, marker-tag idempotency) and a test that runs the structural checks."""

from __future__ import annotations

import re
from pathlib import Path

NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")

PYPROJECT = '''[build-system]
requires = ["setuptools>=68", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "deskwatch-{dash}"
version = "0.1.0"
description = "deskwatch connector for {title}"
requires-python = ">=3.11"
dependencies = ["deskwatch"]

[project.optional-dependencies]
test = ["pytest>=8", "pytest-httpx>=0.30", "pytest-asyncio>=0.23"]

# The one line that makes deskwatch find the plugin.
[project.entry-points.deskwatch]
{name} = "{package}"

[tool.setuptools]
packages = ["{package}"]

[tool.pytest.ini_options]
testpaths = ["tests"]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"
'''

INIT = '''"""deskwatch connector plugin for {title}: one hook that registers one ConnectorType."""

from __future__ import annotations

from deskwatch.core import hookimpl
from deskwatch.core.connect.contract import ConnectorType
from {package}.connector import TYPE_NAME, {cls}, create, parse_settings

__version__ = "0.1.0"

CONNECTOR_TYPE = ConnectorType(name=TYPE_NAME, parse_settings=parse_settings, create=create,
                               description="{title}")


@hookimpl
def deskwatch_register_connector_types(register):
    register(CONNECTOR_TYPE)


__all__ = ["CONNECTOR_TYPE", "{cls}", "create", "parse_settings"]
'''

CONNECTOR = '''"""The {title} connector. Replace the paths and field names marked TODO with the API's own.

- settings: ``[sources.<name>]`` with base_url and api_key (write api_key = "${{ENV_VAR}}").
- fetch: "updated_at >= T" search paging (UpdatedSincePaginator), the signpost (changes after
  the sync started are left for the next sync), the newest updated_at as the bookmark.
- update: read the ticket, skip it when the marker tag is there, else write the fields and the
  marker tag in one request (see docs/plugins.md, "Write-back").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Mapping

from deskwatch.core import model
from deskwatch.core.connect import kit
from deskwatch.core.connect.contract import (BadResponse, Bookmark, CheckResult, ClientFactory, Connector, ConnectorError,
                                             Page, UpdateResult)
from deskwatch.core.connect.http import ApiKeyAuth, HttpSettings, RateBudget, UpdatedSincePaginator, http_settings, paginate
from deskwatch.core.model.settings import Secret, Section

TYPE_NAME = "{name}"
SETTINGS_KEYS = HttpSettings.KEYS + ("api_key", "page_size", "start_time")


@dataclass(frozen=True)
class {cls}Settings:
    http: HttpSettings
    api_key: Secret
    page_size: int
    start_time: datetime


def parse_settings(section: Section) -> {cls}Settings:
    """Read ``[sources.<name>]``; a missing or wrong key raises ConfigError naming it."""
    settings = {cls}Settings(
        http=http_settings(section),
        api_key=section.secret("api_key"),
        page_size=section.integer("page_size", 100, min=1, max=1000),
        start_time=kit.read_start_time(section) or datetime(2000, 1, 1, tzinfo=timezone.utc),
    )
    section.check_unknown(SETTINGS_KEYS)
    return settings


def create(source: str, settings: {cls}Settings, client_factory: ClientFactory) -> "{cls}":
    return {cls}(source, settings, client_factory)


class {cls}(Connector):
    type_name = TYPE_NAME

    def __init__(self, source: str, settings: {cls}Settings, client_factory: ClientFactory):
        super().__init__(source)
        self.settings = settings
        self.budget = RateBudget(settings.http.requests_per_minute, reserve_share=settings.http.quota_reserve)
        self.client = client_factory(
            settings.http.base_url,
            # TODO: the API's header format, e.g. template="Token token={{key}}" or prefix="Bearer".
            auth=ApiKeyAuth("Authorization", settings.api_key, template="Token token={{key}}"),
            timeout=settings.http.timeout,
            retry=settings.http.retry,
            budget=self.budget,
            source=source,
        )

    async def check(self) -> CheckResult:
        """One cheap call that proves the credentials (TODO: the API's "who am I")."""
        try:
            await self.client.get_json("/api/v1/users/me")
        except ConnectorError as e:
            return kit.failed_check(e, {{"auth": "set api_key to a valid token"}})
        return CheckResult(True, f"reached {{self.settings.http.base_url}}")

    async def fetch(self, bookmark: Bookmark, *, until: datetime | None = None) -> AsyncIterator[Page]:
        since = (bookmark or {{}}).get("since") or kit.format_time(self.settings.start_time)
        paginator = UpdatedSincePaginator(
            lambda t: {{"query": f"updated_at:>={{t}}", "sort_by": "updated_at", "order_by": "asc"}},  # TODO
            since=since, per_page=self.settings.page_size,
        )
        async for page in paginate(self.client, "/api/v1/tickets/search", paginator, records=lambda body: body):  # TODO
            fresh = paginator.fresh(page.records)
            kept, stop = kit.until_signpost([(raw, self.to_ticket(raw)) for raw in fresh], lambda rt: rt[1].updated_at, until)
            if kept:
                since = max(since, kit.format_time(kept[-1][1].updated_at))
            yield Page(tuple(t for _, t in kept), (), {{"since": since}}, done=stop or page.last)
            if stop:
                return

    def to_ticket(self, raw: Any) -> model.Ticket:
        """API JSON -> deskwatch Ticket (TODO: map the API's fields); BadResponse names a bad field."""
        if not isinstance(raw, Mapping) or raw.get("id") is None:
            raise BadResponse(f"tickets[]: expected an object with an id, got {{raw!r}}"[:200], source=self.source)
        try:
            return model.ticket_from_dict({{
                "id": self.ticket_id(raw["id"]), "source": self.source, "channel": "web",
                "subject": raw.get("title") or "", "status": raw.get("state") or "open",
                "created_at": raw.get("created_at"), "updated_at": raw.get("updated_at"),
                "tags": list(raw.get("tags") or []), "messages": [],
            }})
        except model.TicketError as e:
            raise BadResponse(f"ticket {{raw['id']}}: {{e}}", source=self.source) from None

    async def update(self, update: model.TicketUpdate) -> UpdateResult:
        """Apply ``update`` once: its marker tag on the ticket says it was applied."""
        tid = update.native_id
        marker = kit.marker_tag(update.idempotency_key)
        current = await self.client.get_json(f"/api/v1/tickets/{{tid}}")  # TODO
        tags = list(current.get("tags") or []) if isinstance(current, Mapping) else []
        if kit.has_marker_tag(tags, update.idempotency_key):
            return UpdateResult("already_applied", f"{{marker}} already on ticket {{tid}}", update.ticket_id)
        fields: dict[str, Any] = {{"tags": kit.merged_tags(tags, update.tags_add, update.tags_remove, marker)}}
        # group/assignee hold deskwatch team and agent names: map them to the API's ids here.
        for name in ("priority", "status", "group", "assignee"):
            if getattr(update, name) is not None:
                fields[name] = getattr(update, name)
        try:
            await self.client.request("PUT", f"/api/v1/tickets/{{tid}}", json=fields)  # TODO
        except ConnectorError as e:
            if e.status in (403, 404, 422):
                return UpdateResult("failed", f"{{update.ticket_id}}: {{e.message}}", update.ticket_id)
            raise
        return UpdateResult("applied", f"updated {{', '.join(sorted(fields))}}", update.ticket_id)

    async def close(self) -> None:
        await self.client.aclose()
'''

TEST = '''"""Structural checks (no API needed); add the conformance suite once a fake API exists
(docs/plugins.md, "Testing a connector")."""

import {package}
from deskwatch.testing.structure import StructuralChecks


class TestStructure(StructuralChecks):
    plugin = {package}
    settings = {{"base_url": "https://example.invalid", "api_key": "not-a-real-key"}}
'''

README = '''# deskwatch-{dash}

A deskwatch connector for {title}, generated by `deskwatch plugins new {name}`.

    pip install -e '.[test]'
    pytest

Then fill in the places marked TODO in `{package}/connector.py` and add
`[sources.<name>] type = "{name}"` to deskwatch's config.
'''


def files(name: str) -> dict[str, str]:
    """Relative path -> text of every file of the package for connector type ``name``."""
    if not NAME.match(name):
        raise ValueError(f"plugin name {name!r}: use lower-case letters, digits and _ (2-31 characters, "
                         "starting with a letter), e.g. zammad")
    package = f"deskwatch_{name}"
    fmt = {"name": name, "package": package, "dash": name.replace("_", "-"),
           "title": name.replace("_", " ").title(), "cls": "".join(p.title() for p in name.split("_")) + "Connector"}
    return {
        "pyproject.toml": PYPROJECT.format(**fmt),
        "README.md": README.format(**fmt),
        f"{package}/__init__.py": INIT.format(**fmt),
        f"{package}/connector.py": CONNECTOR.format(**fmt),
        "tests/test_structure.py": TEST.format(**fmt),
    }


def write(name: str, into: Path) -> Path:
    """Write the package into ``into/deskwatch-<name>``; refuses to overwrite a folder."""
    root = into / f"deskwatch-{name.replace('_', '-')}"
    if root.exists():
        raise FileExistsError(f"{root} already exists; choose another name or folder (--dir)")
    for rel, text in files(name).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
