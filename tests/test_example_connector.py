"""The example third-party connector: its conformance tests run here so CI covers them, and the
conformance suite itself is shown to catch broken connectors.

The distribution lives in examples/deskwatch-example-connector and is installed with
``pip install -e examples/deskwatch-example-connector``; when it is not installed, its source
folder is put on sys.path so the conformance run still happens (the entry-point checks then
read its pyproject.toml instead of the installed metadata).
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
import textwrap
import tomllib
from importlib import metadata

import pytest

from deskwatch.core import cli, model

from deskwatch.core.connect import http, plugins
from deskwatch.core.connect.contract import UpdateResult
from deskwatch.core.model.settings import Section
from deskwatch.testing import SleepRecorder

from .conftest import ROOT

EXAMPLE = ROOT / "examples" / "deskwatch-example-connector"

try:
    import deskwatch_example_connector  # noqa: F401
except ImportError:
    sys.path.insert(0, str(EXAMPLE))

from deskwatch_example_connector import EXAMPLE as EXAMPLE_TYPE  # noqa: E402
from deskwatch_example_connector import ExampleConnector, create, parse_settings  # noqa: E402
from deskwatch_example_connector.fake import FakeExampleDesk  # noqa: E402


def _load_example_tests():
    spec = importlib.util.spec_from_file_location("example_conformance_tests", EXAMPLE / "tests" / "test_conformance.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Collected by pytest here exactly as in the example's own test run.
TestExampleConnector = _load_example_tests().TestExampleConnector


def test_example_declares_its_entry_point():
    meta = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    declared = meta["project"]["entry-points"]["deskwatch"]
    assert declared == {"example": "deskwatch_example_connector"}
    assert meta["project"]["name"] == "deskwatch-example-connector"
    ep = metadata.EntryPoint("example", declared["example"], plugins.ENTRY_POINT_GROUP)
    m = plugins.PluginManager()
    m.load_entry_points([ep])
    assert m.errors == [] and m.connector_types() == {"example": EXAMPLE_TYPE}


def test_installed_example_is_found_by_deskwatch_plugins():
    installed = {ep.name for ep in metadata.entry_points(group=plugins.ENTRY_POINT_GROUP)}
    if "example" not in installed:
        pytest.skip("deskwatch-example-connector is not installed: pip install -e examples/deskwatch-example-connector")
    previous = plugins.set_plugin_manager(None)
    try:
        m = plugins.get_plugin_manager()
        info = {p.name: p for p in m.plugins()}
        assert info["example"].distribution == "deskwatch-example-connector" and info["example"].version == "0.1.0"
        assert "example" in m.connector_types()
    finally:
        plugins.set_plugin_manager(previous)


def test_deskwatch_check_on_the_example(tmp_path, httpx_mock, capsys, monkeypatch):
    fake = FakeExampleDesk()
    httpx_mock.add_callback(fake.handle, is_reusable=True)
    manager = plugins.PluginManager()
    manager.register(sys.modules["deskwatch_example_connector"], "example")
    previous = plugins.set_plugin_manager(manager)
    monkeypatch.setenv("EXAMPLE_KEY", fake.secret)
    path = tmp_path / "c.toml"
    path.write_text(textwrap.dedent(f"""
        [sources.demo]
        type = "example"
        base_url = "{fake.base_url}"
        api_key = "${{EXAMPLE_KEY}}"
    """))
    try:
        assert cli.main(["check", "--config", str(path)]) == 0
        assert "ok: authenticated as agent@desk.example.test" in capsys.readouterr().out
        fake.reject_auth = True
        assert cli.main(["check", "--config", str(path)]) == 1
        out = capsys.readouterr().out
        assert "auth failed" in out and fake.secret not in out
    finally:
        plugins.set_plugin_manager(previous)


def test_example_settings_errors_name_the_key():
    from deskwatch.core.model.settings import ConfigError

    with pytest.raises(ConfigError, match=r"sources\.demo\.page_sise: unknown key; did you mean 'page_size'"):
        parse_settings(Section({"base_url": "https://x.test", "api_key": "k", "page_sise": 2}, "sources.demo"))
    with pytest.raises(ConfigError, match=r"sources\.demo\.start_time"):
        parse_settings(Section({"base_url": "https://x.test", "api_key": "k", "start_time": "yesterday"}, "sources.demo"))


# -- the suite catches broken connectors ---------------------------------------------------------------


class AppliesTwice(ExampleConnector):
    async def update(self, update):
        await self.client.request("PUT", f"/api/tickets/{update.native_id}", json={"priority": update.priority})
        return UpdateResult("applied", "", update.ticket_id)


class LosesPageBoundaries(ExampleConnector):
    async def fetch(self, bookmark, *, until=None):
        async for page in super().fetch(bookmark, until=until):
            # drops the last ticket of each page: the kind of bug the suite exists for
            yield type(page)(page.tickets[:-1] if not page.done else page.tickets, page.deleted, page.bookmark, page.done)


class IgnoresRetryAfter(ExampleConnector):
    def __init__(self, source, settings, client_factory):
        super().__init__(source, settings, client_factory)
        self.client.retry = http.RetryPolicy(max_attempts=1)


class LeaksSecret(ExampleConnector):
    async def check(self):
        from deskwatch.core.connect.contract import CheckResult

        try:
            return await super().check()
        except Exception:
            return CheckResult(False, f"key {self.settings.api_key.reveal()} refused", "auth")


@pytest.mark.parametrize(
    "broken,test_name",
    [
        (AppliesTwice, "test_update_is_idempotent"),
        (LosesPageBoundaries, "test_no_ticket_lost_or_duplicated_across_pages"),
        (IgnoresRetryAfter, "test_rate_limit_honours_retry_after"),
        (LeaksSecret, "test_auth_failure_is_clear_and_hides_the_secret"),
    ],
)
async def test_conformance_suite_fails_broken_connectors(broken, test_name, httpx_mock):
    fake = FakeExampleDesk()
    httpx_mock.add_callback(fake.handle, is_reusable=True)
    settings = parse_settings(Section({"base_url": fake.base_url, "api_key": fake.secret, "page_size": 2}, "sources.demo"))
    sleeps = SleepRecorder()
    suite = TestExampleConnector()
    kwargs = {"fake_api": fake, "connector_factory": lambda cf: broken("demo", settings, cf),
              "client_factory": http.client_factory(sleep=sleeps), "sleeps": sleeps, "httpx_mock": httpx_mock}
    method = getattr(suite, test_name)
    import inspect

    wanted = {k: v for k, v in kwargs.items() if k in inspect.signature(method).parameters}
    with pytest.raises(Exception) as e:  # an assertion, or the error the broken connector lets through
        await method(**wanted)
    assert not isinstance(e.value, (TypeError, NameError)), e.value


def test_example_maps_to_the_normalized_ticket():
    settings = parse_settings(Section({"base_url": "https://x.test", "api_key": "k"}, "sources.demo"))
    fake = FakeExampleDesk()
    (tid,) = fake.add_tickets(1, start=TestExampleConnector.start, step=TestExampleConnector.step)
    c = create("demo", settings, http.client_factory())
    t = c.to_ticket(fake.tickets[int(tid)])
    assert isinstance(t, model.Ticket) and t.id == f"demo:{tid}" and t.requester.email == f"user{tid}@customer.example"
    assert t.url == f"https://x.test/tickets/{tid}" and t.messages[0].author == "customer"
    from deskwatch.core.connect.contract import BadResponse

    with pytest.raises(BadResponse, match="tickets\\[\\].updated_at: missing"):
        c.to_ticket({"id": 5, "created_at": "2026-11-23T08:00:00Z"})


# The modules a plugin may import (docs/plugins.md, "The public surface"); deskwatch.core itself
# only for hookimpl.
PUBLIC_MODULES = {
    "deskwatch.core.model",
    "deskwatch.core.model.settings",
    "deskwatch.core.connect.contract",
    "deskwatch.core.connect.http",
    "deskwatch.core.connect.kit",
    "deskwatch.testing",
}


def _deskwatch_imports(source: str) -> list[tuple[str, str | None]]:
    """(module, imported name or None) of every deskwatch import in Python source."""
    def ours(module: str | None) -> bool:
        return module is not None and (module == "deskwatch" or module.startswith("deskwatch."))

    out: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and ours(node.module):
            out += [(node.module, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(a.name, None) for a in node.names if ours(a.name)]
    return out


def _python_blocks(markdown: str) -> str:
    return "\n".join(re.findall(r"```python\n(.*?)```", markdown, re.S))


def _is_public(module: str, name: str | None) -> bool:
    if name is not None and f"{module}.{name}" in PUBLIC_MODULES:
        return True  # from deskwatch.core.connect import kit
    if module == "deskwatch.core":
        return name == "hookimpl"
    return module in PUBLIC_MODULES


def test_the_example_and_the_plugin_docs_import_only_public_modules():
    sources = {str(p.relative_to(ROOT)): p.read_text() for p in EXAMPLE.rglob("*.py")}
    sources["docs/plugins.md"] = _python_blocks((ROOT / "docs" / "plugins.md").read_text())
    found = {(f, mod, name) for f, text in sources.items() for mod, name in _deskwatch_imports(text)}
    assert any(mod == "deskwatch.core.connect" and name == "kit" for _, mod, name in found)  # the parser sees the kit
    private = sorted(f"{f}: {mod} import {name}" for f, mod, name in found if not _is_public(mod, name))
    assert private == [], "import these through a public module (docs/plugins.md lists them)"


def test_the_public_helpers_exist():
    import deskwatch.core.connect.kit as kit

    assert sorted(kit.__all__) == sorted(set(kit.__all__))
    missing = [name for name in kit.__all__ if not hasattr(kit, name)]
    assert missing == []
    assert _is_public("deskwatch.core", "hookimpl") and not _is_public("deskwatch.core.connect.payload", "string")
