"""The plugin kit as a third party meets it: exact API-key header formats, "updated_at >= T"
paging, load errors with fixes, bundled type names kept, hook tracebacks on demand, and
``deskwatch plugins new`` writing a package that passes the structural checks."""

from __future__ import annotations

import importlib
import sys

import httpx
import pytest

from deskwatch.core import cli, hookimpl
from deskwatch.core.connect import http, plugins
from deskwatch.core.connect.contract import BadResponse, ConnectorType
from deskwatch.core.connect.http import ApiKeyAuth, PaginationLoop, UpdatedSincePaginator
from deskwatch.testing.structure import structural_problems


# -- ApiKeyAuth ---------------------------------------------------------------------------------


def test_api_key_auth_writes_an_exact_header_format_and_registers_it_as_secret():
    auth = ApiKeyAuth("Authorization", "zammad-secret-42", template="Token token={key}")
    request = next(auth.auth_flow(httpx.Request("GET", "https://z.example/api/v1/users/me")))
    assert request.headers["Authorization"] == "Token token=zammad-secret-42"
    assert "zammad-secret-42" not in http.redact("sent Token token=zammad-secret-42")
    assert "zammad-secret-42" not in repr(auth)
    with pytest.raises(ValueError, match="placeholder"):
        ApiKeyAuth("Authorization", "k", template="Token token=")
    with pytest.raises(ValueError, match="no prefix"):
        ApiKeyAuth("Authorization", "k", prefix="Bearer", template="X {key}")


# -- UpdatedSincePaginator ----------------------------------------------------------------------


class SearchApi:
    """``updated_at >= T`` search, oldest first, page numbers; ticket 2 is updated after the
    first page was read (it moves to the end)."""

    def __init__(self):
        self.rows = {i: f"2026-01-01T00:00:{i:02d}Z" for i in range(1, 8)}
        self.calls = 0

    def page(self, params: dict) -> list[dict]:
        self.calls += 1
        since = params["query"].split(">=", 1)[1]
        rows = sorted(((u, i) for i, u in self.rows.items() if u >= since))
        n, size = params["page"], params["per_page"]
        out = [{"id": i, "updated_at": u} for u, i in rows[(n - 1) * size: n * size]]
        if self.calls == 1:
            self.rows[2] = "2026-01-01T00:00:59Z"  # updated mid-sync
        return out


def _walk(api: SearchApi, per_page: int = 3) -> tuple[list[tuple[int, str]], UpdatedSincePaginator]:
    pager = UpdatedSincePaginator(lambda t: {"query": f"updated_at>={t}"}, since="2026-01-01T00:00:00Z", per_page=per_page)
    seen = []
    for _ in range(50):
        if pager.finished:
            break
        _, params = pager.request("/search", {})
        records = api.page(params)
        seen += [(r["id"], r["updated_at"]) for r in pager.fresh(records)]
        pager.advance(records, httpx.Response(200), records)
    return seen, pager


def test_updated_since_paging_meets_a_ticket_updated_mid_sync_and_delivers_each_version_once():
    seen, pager = _walk(SearchApi())
    ids = [i for i, _ in seen]
    assert sorted(set(ids)) == list(range(1, 8))
    assert (2, "2026-01-01T00:00:59Z") in seen  # the new version arrived
    assert len(seen) == len(set(seen))  # the window's boundary was re-read but not re-delivered
    assert pager.since == "2026-01-01T00:00:59Z"


def test_plain_page_numbers_would_lose_that_ticket():
    """What the paginator is for: page-number paging over the same API skips ticket 4, which
    slides onto page 1 once ticket 2 moves to the end."""
    api = SearchApi()
    got = []
    for n in (1, 2, 3):
        got += [r["id"] for r in api.page({"query": "updated_at>=2026-01-01T00:00:00Z", "page": n, "per_page": 3})]
    assert 4 not in got and got.count(2) == 2


def test_a_whole_page_sharing_one_time_steps_by_page_number_then_fails_at_the_cap():
    pager = UpdatedSincePaginator(lambda t: {"q": t}, since="T0", per_page=2, max_pages=2)
    same = [{"id": 1, "updated_at": "T0"}, {"id": 2, "updated_at": "T0"}]
    pager.advance(same, httpx.Response(200), same)
    assert pager.token == ("T0", 2)
    with pytest.raises(BadResponse, match="share the update time"):
        pager.advance(same, httpx.Response(200), same)
    assert issubclass(PaginationLoop, BadResponse)


# -- plugin loading -----------------------------------------------------------------------------


@pytest.fixture
def manager():
    m = plugins.PluginManager()
    previous = plugins.set_plugin_manager(m)
    yield m
    plugins.set_plugin_manager(previous)


def _type(name: str) -> ConnectorType:
    return ConnectorType(name=name, parse_settings=lambda s: s, create=lambda *a: None, description=name)


def test_an_async_hook_is_a_load_error_with_the_fix(manager):
    class AsyncPlugin:
        @hookimpl
        async def deskwatch_register_connector_types(self, register):
            register(_type("zammad"))

    assert not manager.register(AsyncPlugin(), "asyncy")
    (err,) = manager.errors
    assert err.stage == "validate" and "async def" in err.error and "make it a plain def" in err.error
    assert "zammad" not in manager.connector_types()


def test_a_hook_argument_with_a_default_is_a_load_error_with_the_fix(manager):
    class Defaulted:
        @hookimpl
        def deskwatch_register_connector_types(self, register=None):
            register(_type("zammad"))

    assert not manager.register(Defaulted(), "defaulted")
    (err,) = manager.errors
    assert "'register' has a default" in err.error and "remove the default" in err.error


def test_a_third_party_cannot_take_over_a_bundled_connector_type(manager):
    class Squatter:
        @hookimpl
        def deskwatch_register_connector_types(self, register):
            register(_type("zendesk"))

    manager.register(Squatter(), "squatter")  # registered before the bundled one
    bundled = importlib.import_module("deskwatch.plugins.zendesk")
    manager.register(bundled, "zendesk")
    types = manager.connector_types()
    assert types["zendesk"] is bundled.ZENDESK
    (err,) = manager.errors
    assert err.name == "squatter" and "bundled connector's name" in err.error


def test_trace_plugins_prints_the_traceback_of_a_failing_hook(monkeypatch, capsys):
    monkeypatch.setenv(plugins.ENV_TRACE, "1")
    m = plugins.PluginManager()

    class Broken:
        @hookimpl
        def deskwatch_register_connector_types(self, register):
            raise RuntimeError("boom in the hook")

    m.register(Broken(), "broken")
    m.connector_types()
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "boom in the hook" in err and "test_plugin_kit.py" in err
    monkeypatch.delenv(plugins.ENV_TRACE)
    quiet = plugins.PluginManager()
    quiet.register(Broken(), "broken")
    quiet.connector_types()
    assert "Traceback" not in capsys.readouterr().err


# -- deskwatch plugins new ----------------------------------------------------------------------


def test_plugins_new_writes_a_package_that_passes_the_structural_checks(tmp_path, monkeypatch, capsys):
    assert cli.main(["plugins", "new", "zammad", "--dir", str(tmp_path)]) == 0
    root = tmp_path / "deskwatch-zammad"
    assert (root / "pyproject.toml").read_text().count('zammad = "deskwatch_zammad"') == 1
    monkeypatch.syspath_prepend(str(root))
    module = importlib.import_module("deskwatch_zammad")
    try:
        assert structural_problems(module, {"base_url": "https://zammad.example", "api_key": "not-a-real-key"}) == []
        test_source = (root / "tests" / "test_structure.py").read_text()
        assert "StructuralChecks" in test_source and "deskwatch_zammad" in test_source
        # Writing again would overwrite: refused, as is a name that is no Python identifier.
        assert cli.main(["plugins", "new", "zammad", "--dir", str(tmp_path)]) == 2
        assert cli.main(["plugins", "new", "Zam-mad", "--dir", str(tmp_path)]) == 2
        assert "already exists" in capsys.readouterr().err
    finally:
        for name in [m for m in sys.modules if m.startswith("deskwatch_zammad")]:
            del sys.modules[name]


def test_the_structural_checks_catch_a_broken_plugin(manager):
    import types

    broken = types.ModuleType("broken_plugin")

    class Plugin:
        @hookimpl
        def deskwatch_register_connector_types(self, register):
            register(ConnectorType(name="loose", parse_settings=lambda s: {}, create=lambda *a: object(), description=""))

    broken.deskwatch_register_connector_types = Plugin().deskwatch_register_connector_types
    problems = structural_problems(broken, {})
    assert any("accepts an empty section" in p for p in problems)
    assert any("not a Connector" in p for p in problems)


def test_the_conformance_suite_is_assert_rewritten():
    """A conformance failure shows the compared values (pytest rewrote the module's asserts)."""
    import deskwatch.testing.conformance as conformance
    import deskwatch.testing.structure as structure

    assert "@py_builtins" in vars(conformance) and "@py_builtins" in vars(structure)
