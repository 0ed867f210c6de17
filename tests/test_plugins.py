"""The plugin system: isolated loading, strict mode, blocking, the facade, `plugins` and `check`."""

from __future__ import annotations

import inspect
import json
import re
import textwrap
from importlib import metadata
from pathlib import Path

import httpx
import pytest

from deskwatch.core import cli, config, hookimpl, model

from deskwatch.core.connect import hookspecs, http, plugins
from deskwatch.core.connect.contract import CheckResult, Connector, ConnectorType, UpdateResult
from deskwatch.core.model.settings import ConfigError, Section

from .conftest import ROOT

HOOKS = [name for name in hookspecs.__all__ if name.startswith("deskwatch_")]


@pytest.fixture
def manager():
    """A fresh manager with no entry points, installed process-wide for the test."""
    m = plugins.PluginManager()
    previous = plugins.set_plugin_manager(m)
    yield m
    plugins.set_plugin_manager(previous)


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    """Write throw-away plugin modules and make them importable; returns a writer."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(module: str, source: str) -> metadata.EntryPoint:
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        return metadata.EntryPoint(module.removeprefix("dwtest_"), module, plugins.ENTRY_POINT_GROUP)

    return write


GOOD = """
    from deskwatch.core import hookimpl
    from deskwatch.core.connect.contract import ConnectorType
    __version__ = "1.2.3"

    @hookimpl
    def deskwatch_register_connector_types(register):
        register(ConnectorType("good", parse_settings=lambda s: dict(s.data), create=lambda *a: None))
"""


def _types(name):
    return ConnectorType(name, parse_settings=lambda s: None, create=lambda *a: None)


# -- loading and isolation ------------------------------------------------------------------------


def test_a_plugin_that_fails_to_import_is_recorded_and_the_rest_load(plugin_dir, manager, capsys):
    eps = [
        plugin_dir("dwtest_broken", "raise RuntimeError('missing vendor SDK: acme_sdk')"),
        plugin_dir("dwtest_good", GOOD),
        plugin_dir("dwtest_syntax", "def oops(:\n"),
    ]
    manager.load_entry_points(eps)
    assert "good" in manager.connector_types()
    errors = {e.name: e for e in manager.errors}
    assert set(errors) == {"broken", "syntax"}
    assert errors["broken"].stage == "import" and "RuntimeError: missing vendor SDK: acme_sdk" in errors["broken"].error
    assert "SyntaxError" in errors["syntax"].error
    assert "plugin broken unknown: import failed" in capsys.readouterr().err
    info = {p.name: p for p in manager.plugins()}
    assert info["good"].version == "1.2.3" and info["good"].hooks == ("deskwatch_register_connector_types",)


def test_a_plugin_whose_hook_raises_is_isolated(plugin_dir, manager):
    manager.load_entry_points([
        plugin_dir("dwtest_good", GOOD),
        plugin_dir("dwtest_raises", """
            from deskwatch.core import hookimpl
            @hookimpl
            def deskwatch_register_connector_types(register):
                raise KeyError("settings_model")
        """),
    ])
    assert list(manager.connector_types()) == ["good"]
    (err,) = manager.errors
    assert (err.name, err.stage) == ("raises", "deskwatch_register_connector_types") and "KeyError" in err.error


def test_misspelt_hook_and_bad_signature_are_reported(manager):
    class Misspelt:
        @hookimpl
        def deskwatch_register_conector_types(self, register):  # sic
            pass

    class BadArgs:
        @hookimpl
        def deskwatch_startup(self, config, engine):  # no such argument
            pass

    manager.register(Misspelt(), "misspelt")
    assert not manager.register(BadArgs(), "badargs")
    stages = {(e.name, e.stage) for e in manager.errors}
    assert stages == {("misspelt", "validate"), ("badargs", "register")}
    assert "unknown hook deskwatch_register_conector_types" in manager.errors[0].error


def test_duplicate_connector_type_names_both_plugins(manager):
    class A:
        @hookimpl
        def deskwatch_register_connector_types(self, register):
            register(_types("zendesk"))

    class B:
        @hookimpl
        def deskwatch_register_connector_types(self, register):
            register(_types("zendesk"))

    manager.register(A(), "first")
    manager.register(B(), "second")
    assert list(manager.connector_types()) == ["zendesk"]
    (err,) = manager.errors
    assert err.name == "second" and "already registered by plugin first" in err.error


def test_strict_mode_makes_load_errors_fatal(plugin_dir):
    strict = plugins.PluginManager(strict=True)
    with pytest.raises(ConfigError, match="plugin broken unknown: import failed.*strict mode"):
        strict.load_entry_points([plugin_dir("dwtest_broken", "import does_not_exist_anywhere")])


def test_strict_flag_and_env_on_the_process_manager(plugin_dir, manager, monkeypatch):
    manager.load_entry_points([plugin_dir("dwtest_broken", "1/0")])
    assert plugins.get_plugin_manager() is manager  # tolerant by default
    with pytest.raises(ConfigError, match="ZeroDivisionError"):
        plugins.get_plugin_manager(strict=True)
    manager.strict = False
    monkeypatch.setenv(plugins.ENV_STRICT, "1")
    with pytest.raises(ConfigError):
        plugins.get_plugin_manager()


def test_strict_from_config_file(plugin_dir, manager, tmp_path):
    manager.load_entry_points([plugin_dir("dwtest_broken", "1/0")])
    path = tmp_path / "c.toml"
    path.write_text("[plugins]\nstrict = true\n")
    with pytest.raises(ConfigError):
        plugins.get_plugin_manager(config.load(path))


def test_block_list_skips_import(plugin_dir, tmp_path):
    m = plugins.PluginManager(block=["broken"])
    m.load_entry_points([plugin_dir("dwtest_broken", "raise SystemError('should never be imported')"), plugin_dir("dwtest_good", GOOD)])
    assert m.errors == [] and "good" in m.connector_types() and m.blocked == {"broken"}


def test_block_from_env_and_config(plugin_dir, manager, monkeypatch, tmp_path):
    monkeypatch.setenv(plugins.ENV_DISABLE, "broken, other")
    path = tmp_path / "c.toml"
    path.write_text('[plugins]\nblock = ["good"]\n')
    monkeypatch.setenv("DESKWATCH_CONFIG", str(path))
    assert set(plugins.env_blocked()) == {"broken", "other", "good"}
    # config applied after load: an already-loaded plugin is unregistered
    manager.load_entry_points([plugin_dir("dwtest_good", GOOD)])
    assert "good" in manager.connector_types()
    plugins.get_plugin_manager(config.load(path))
    assert manager.connector_types() == {} and "good" in manager.blocked


def test_bundled_connectors_load_through_entry_points():
    declared = {ep.name: ep.value for ep in metadata.entry_points(group="deskwatch")}
    assert {"zendesk", "freshdesk", "salesforce"} <= set(declared)
    assert declared["zendesk"] == "deskwatch.plugins.zendesk"


# -- hooks --------------------------------------------------------------------------------------------


def test_every_hookspec_is_documented():
    docs = (ROOT / "docs" / "plugins.md").read_text()
    for name in HOOKS:
        fn = getattr(hookspecs, name)
        doc = inspect.getdoc(fn) or ""
        args = list(inspect.signature(fn).parameters)
        assert doc.splitlines()[0].endswith("."), f"{name}: first docstring line should be a sentence"
        for a in args:
            assert f":param {a}:" in doc, f"{name}: no :param {a}:"
        assert ":return:" in doc and "firstresult" in doc, f"{name}: say what it returns and whether it is firstresult"
        assert f"{name}({', '.join(args)})" in docs, f"docs/plugins.md has no heading for {name}({', '.join(args)})"


def test_every_hook_has_a_test():
    tests = {n for n in globals() if n.startswith("test_hook_")}
    missing = [h for h in HOOKS if f"test_hook_{h}" not in tests]
    assert not missing, f"hooks without a test_hook_<name>: {missing}"


def test_hookimpl_is_reexported_from_core():
    from deskwatch import core

    assert core.hookimpl is hookspecs.hookimpl


def test_hook_deskwatch_register_connector_types(manager):
    class P:
        @hookimpl
        def deskwatch_register_connector_types(self, register):
            register(_types("alpha"))
            register(_types("beta"))

    manager.register(P(), "p")
    assert sorted(manager.connector_types()) == ["alpha", "beta"]
    assert sorted(plugins.connector_types()) == ["alpha", "beta"]


def test_hook_deskwatch_register_signals(manager):
    def vip_requester(ticket, ctx):
        return model.Signal("vip_requester", 1.0, 10.0, 10.0, ("vip",)) if "vip" in ticket.tags else None

    class P:
        @hookimpl
        def deskwatch_register_signals(self, register):
            register(vip_requester)
            register(lambda t, c: None, name="quiet")

    manager.register(P(), "p")
    fns = plugins.signal_functions()
    assert sorted(fns) == ["quiet", "vip_requester"]


def test_hook_deskwatch_register_analyzers(manager):
    class Shouty:
        name = "shouty"

        def score(self, text):
            return -1.0 if text.isupper() else 0.0

    class P:
        @hookimpl
        def deskwatch_register_analyzers(self, register):
            register("shouty", Shouty)

    manager.register(P(), "p")
    analyzer = plugins.analyzers()["shouty"]()
    assert analyzer.score("WHY IS IT DOWN") == -1.0


def test_hook_deskwatch_decision_made(manager, now):
    seen = []

    class Notifier:
        @hookimpl
        def deskwatch_decision_made(self, decision, ticket):
            seen.append((decision.ticket_id, ticket.subject))

    class Broken:
        @hookimpl
        def deskwatch_decision_made(self, decision):
            raise ConnectionError("chat webhook down")

    manager.register(Notifier(), "notifier")
    manager.register(Broken(), "broken")
    ticket = model.Ticket("zd:1", "zd", "email", "Outage", "open", "urgent", now, now, ())
    decision = model.Decision("zd:1", 91.0, "immediate", "tier2", "sre", 0.9, False, (), ("outage",), now)
    assert plugins.notify_decision(decision, ticket) == 1
    assert seen == [("zd:1", "Outage")]
    assert manager.errors[0].stage == "deskwatch_decision_made"


def test_hook_deskwatch_startup(manager):
    got = []

    class P:
        @hookimpl
        def deskwatch_startup(self, config):
            got.append(config.file)

    manager.register(P(), "p")
    plugins.startup(config.load(None))
    assert got == ["(defaults)"]


def test_hook_deskwatch_shutdown(manager):
    got = []

    class P:
        @hookimpl
        def deskwatch_shutdown(self):
            got.append("bye")

    manager.register(P(), "p")
    plugins.shutdown()
    assert got == ["bye"]


def test_trace_switch_prints_hook_calls(monkeypatch, capsys):
    monkeypatch.setenv(plugins.ENV_TRACE, "1")
    m = plugins.PluginManager()

    class P:
        @hookimpl
        def deskwatch_shutdown(self):
            pass

    m.register(P(), "tidy")
    m.shutdown()
    assert "deskwatch: hook deskwatch_shutdown -> tidy" in capsys.readouterr().err


def test_hook_deskwatch_register_commands(manager, capsys):
    class P:
        @hookimpl
        def deskwatch_register_commands(self, subparsers):
            p = subparsers.add_parser("hello", help="say hello")
            p.set_defaults(func=lambda args: print("hello from a plugin") or 0)

    manager.register(P(), "p")
    assert cli.main(["hello"]) == 0
    assert "hello from a plugin" in capsys.readouterr().out


# -- deskwatch plugins ------------------------------------------------------------------------------


def test_plugins_json_lists_plugins_hooks_and_errors(plugin_dir, manager, capsys):
    manager.load_entry_points([plugin_dir("dwtest_good", GOOD), plugin_dir("dwtest_broken", "raise ImportError('no acme')")])
    assert cli.main(["plugins", "--json"]) == 1  # a load error is a partial failure
    data = json.loads(capsys.readouterr().out)
    assert data["plugins"] == [{"name": "good", "version": "1.2.3", "distribution": "", "module": "dwtest_good",
                                "hooks": ["deskwatch_register_connector_types"]}]
    assert data["connector_types"] == {"good": {"description": ""}}
    assert data["errors"] == [{"name": "broken", "version": "unknown", "stage": "import", "error": "ImportError: no acme"}]


def test_plugins_table_and_strict_flag(plugin_dir, manager, capsys):
    manager.load_entry_points([plugin_dir("dwtest_good", GOOD)])
    assert cli.main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"good\s+1\.2\.3\s+register_connector_types", out) and "connector types: good" in out
    manager.load_entry_points([plugin_dir("dwtest_broken", "1/0")])
    assert cli.main(["plugins", "--strict-plugins"]) == 2
    assert "strict mode" in capsys.readouterr().err


# -- sources: validate, build, check -------------------------------------------------------------------


class PingConnector(Connector):
    """A throw-away connector over HTTP: check() calls GET /ping."""

    def __init__(self, source, settings, client_factory):
        super().__init__(source)
        self.client = client_factory(settings["base_url"], auth=http.BearerAuth(settings["token"]), source=source)

    async def check(self):
        await self.client.get("/ping")
        return CheckResult(True, "pong")

    async def fetch(self, bookmark, *, until=None):
        yield  # pragma: no cover

    async def update(self, update):
        return UpdateResult("failed", "read-only")  # pragma: no cover

    async def close(self):
        await self.client.aclose()


def _parse_ping(section: Section) -> dict:
    settings = {"base_url": section.string("base_url"), "token": section.secret("token")}
    section.check_unknown(settings)
    return settings


class PingPlugin:
    @hookimpl
    def deskwatch_register_connector_types(self, register):
        register(ConnectorType("ping", _parse_ping, lambda name, s, f: PingConnector(name, s, f)))


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "deskwatch.toml"
    path.write_text(textwrap.dedent(body))
    return path


def test_validate_sources_names_the_key(manager, tmp_path, monkeypatch):
    manager.register(PingPlugin(), "ping")
    monkeypatch.setenv("PING_TOKEN", "tok-very-secret")
    good = config.load(_config(tmp_path, '[sources.a]\ntype = "ping"\nbase_url = "https://a.test"\ntoken = "${PING_TOKEN}"\n'))
    plugins.validate_sources(good)
    assert isinstance(plugins.build_connector(good.sources["a"]), PingConnector)

    typo = config.load(_config(tmp_path, '[sources.a]\ntype = "ping"\nbase_url = "https://a.test"\ntokn = "x"\n'))
    with pytest.raises(ConfigError, match=r"sources\.a\.token: missing"):
        plugins.validate_sources(typo)
    unknown = config.load(_config(tmp_path, '[sources.a]\ntype = "zendsk"\n'))
    with pytest.raises(ConfigError, match=r"sources\.a\.type: unknown connector type 'zendsk'; installed types: ping"):
        plugins.validate_sources(unknown)


def test_config_check_uses_validate_sources(manager, tmp_path, capsys):
    manager.register(PingPlugin(), "ping")
    path = _config(tmp_path, '[sources.a]\ntype = "ping"\nbase_url = "https://a.test"\n')
    assert cli.main(["config", "check", "--config", str(path)]) == 2
    assert "sources.a.token: missing" in capsys.readouterr().err


CHECK_CONFIG = """
[sources.good]
type = "ping"
base_url = "https://good.test"
token = "tok-good-123456"

[sources.denied]
type = "ping"
base_url = "https://denied.test"
token = "tok-denied-7890ab"

[sources.down]
type = "ping"
base_url = "https://down.test"
token = "tok-down-555555"

[sources.busy]
type = "ping"
base_url = "https://busy.test"
token = "tok-busy-444444"

[sources.off]
type = "ping"
enabled = false
base_url = "https://off.test"
token = "tok-off-333333"
"""


@pytest.fixture
def instant_check(monkeypatch):
    from deskwatch.core.cli.commands import check

    monkeypatch.setattr(check, "make_api_client", http.client_factory(sleep=http.no_sleep))


def test_check_prints_a_verdict_and_fix_per_source(manager, tmp_path, httpx_mock, capsys, instant_check):
    manager.register(PingPlugin(), "ping")
    httpx_mock.add_response(url="https://good.test/ping", json={"pong": True})
    httpx_mock.add_response(url="https://denied.test/ping", status_code=401, text="bad token tok-denied-7890ab")
    httpx_mock.add_exception(httpx.ConnectError("Name or service not known"), url="https://down.test/ping", is_reusable=True)
    httpx_mock.add_response(url="https://busy.test/ping", status_code=429, headers={"Retry-After": "1"}, is_reusable=True)
    path = _config(tmp_path, CHECK_CONFIG)
    assert cli.main(["check", "--config", str(path)]) == 1
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if not line.startswith(" ")}
    assert set(lines) == {"good", "denied", "down", "busy"}  # "off" is disabled
    assert "ok: pong" in lines["good"]
    assert "auth failed:" in lines["denied"] and "tok-denied-7890ab" not in out
    assert "unreachable: cannot connect" in lines["down"]
    assert "rate limited:" in lines["busy"]
    assert "fix: check the credentials in [sources.denied]" in out
    assert "fix: check base_url in [sources.down]" in out


def test_check_one_source_json_and_unknown_source(manager, tmp_path, httpx_mock, capsys, instant_check):
    manager.register(PingPlugin(), "ping")
    httpx_mock.add_response(url="https://off.test/ping", json={})
    path = _config(tmp_path, CHECK_CONFIG)
    assert cli.main(["check", "off", "--json", "--config", str(path)]) == 0  # named: checked even if disabled
    assert json.loads(capsys.readouterr().out) == [
        {"source": "off", "type": "ping", "ok": True, "verdict": "ok", "message": "pong", "fix": ""}
    ]
    assert cli.main(["check", "nope", "--config", str(path)]) == 2
    assert "no source named 'nope'" in capsys.readouterr().err


def test_check_reports_a_crashing_connector_without_crashing(manager, tmp_path, capsys):
    class Crashy(PingConnector):
        async def check(self):
            raise TypeError("'NoneType' object is not subscriptable")

    class P:
        @hookimpl
        def deskwatch_register_connector_types(self, register):
            register(ConnectorType("ping", _parse_ping, lambda name, s, f: Crashy(name, s, f)))

    manager.register(P(), "p")
    path = _config(tmp_path, '[sources.a]\ntype = "ping"\nbase_url = "https://a.test"\ntoken = "t-123456"\n')
    assert cli.main(["check", "--config", str(path)]) == 1
    assert "failed: TypeError" in capsys.readouterr().out


def test_check_verdict_mapping():
    from deskwatch.core.cli.commands.check import verdict_for
    from deskwatch.core.connect.contract import AuthError, BadResponse, RateLimited, TransientError

    kinds = {
        "auth": AuthError("refused"), "rate_limited": RateLimited("slow", retry_after=3),
        "unreachable": TransientError("timeout"), "bad_response": BadResponse("tickets: expected a list"),
    }
    for kind, err in kinds.items():
        v = verdict_for("s", "t", err)
        assert (v.ok, v.kind) == (False, kind) and v.fix
    assert verdict_for("s", "t", CheckResult(False, "nope", "auth")).kind == "auth"
    assert verdict_for("s", "t", CheckResult(True, "fine")).ok


def test_plugins_command_applies_a_named_configs_block_list(plugin_dir, manager, tmp_path, capsys):
    manager.load_entry_points([plugin_dir("dwtest_good", GOOD)])
    path = tmp_path / "c.toml"
    path.write_text('[plugins]\nblock = ["good"]\n')
    assert cli.main(["plugins", "--json", "--config", str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["plugins"] == [] and data["blocked"] == ["good"]
