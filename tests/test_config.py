from __future__ import annotations

import pytest

from deskwatch.core import config
from deskwatch.core.cli import main
from deskwatch.core.model.settings import ConfigError, Section

from .conftest import ROOT


def test_defaults_load_without_a_file():
    cfg = config.load(None)
    assert cfg.file == "(defaults)"
    assert cfg.daemon.log_format == "text"


def test_root_example_config_is_valid_and_is_the_defaults(capsys):
    assert main(["config", "check", "--config", str(ROOT / "config.toml")]) == 0
    # The reference must stay true: it spells out exactly what runs without a config.
    assert config.load(ROOT / "config.toml").sections == config.load(None).sections


def test_wrong_type_names_file_key_and_value(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[daemon]\nlog_format = 3\n')
    with pytest.raises(ConfigError) as e:
        config.load(f)
    assert str(e.value) == f"{f}: daemon.log_format: expected a string, got 3"


def test_unknown_key_suggests_the_close_one(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[daemon]\nlog_fromat = "json"\n')
    with pytest.raises(ConfigError, match="did you mean 'log_format'"):
        config.load(f)


def test_config_check_exit_code_2_and_message(tmp_path, capsys):
    f = tmp_path / "c.toml"
    f.write_text("[daemon\n")
    assert main(["config", "check", "--config", str(f)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_missing_file_tells_how_to_make_one(tmp_path, capsys):
    assert main(["config", "check", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "deskwatch init" in capsys.readouterr().err


def test_init_writes_a_config_that_loads_to_the_defaults(tmp_path):
    f = tmp_path / "starter.toml"
    assert main(["init", str(f)]) == 0
    assert config.load(f).sections == config.load(None).sections
    assert main(["init", str(f)]) == 2  # refuses to overwrite without --force


def test_secret_from_env_is_masked(monkeypatch):
    monkeypatch.setenv("DW_TOKEN", "s3cr3t-value")
    s = Section({"token": "${DW_TOKEN}"}, "sources.zd").secret("token")
    assert s.reveal() == "s3cr3t-value"
    assert "s3cr3t" not in repr(s) and "s3cr3t" not in str(s) and "s3cr3t" not in f"{s}"


def test_missing_env_secret_names_the_variable(monkeypatch):
    monkeypatch.delenv("DW_NOPE", raising=False)
    with pytest.raises(ConfigError, match="DW_NOPE is not set"):
        Section({"token": "${DW_NOPE}"}, "sources.zd").secret("token")


def test_lists_replace_tables_merge():
    base = {"a": {"x": 1, "y": 2}, "l": [1, 2]}
    assert config.merge(base, {"a": {"y": 3}, "l": [9]}) == {"a": {"x": 1, "y": 3}, "l": [9]}


@pytest.mark.parametrize("value, problem", [
    (float("nan"), "expected a number, got nan"),
    (float("inf"), "expected a number, got inf"),
    (10**30, "a number of 31 digits is out of range"),
    (-1e300, "is out of range"),
])
def test_number_readers_refuse_non_finite_and_absurd_values(value, problem):
    with pytest.raises(ConfigError, match=problem):
        Section({"x": value}, "t").number("x", 1.0)
    if isinstance(value, int):
        with pytest.raises(ConfigError, match="out of range"):
            Section({"x": value}, "t").integer("x", 1)


def test_unclosed_env_reference_is_an_error_naming_the_key(monkeypatch):
    monkeypatch.setenv("DW_HOST", "example.com")
    assert Section({"u": "https://${DW_HOST}/x"}, "t").string("u") == "https://example.com/x"
    with pytest.raises(ConfigError, match=r't.u: "\$\{DW_HOST/x" is not a complete'):
        Section({"u": "https://${DW_HOST/x"}, "t").string("u")


def test_a_report_collects_every_problem_and_goes_on_with_defaults():
    from deskwatch.core.model.settings import ConfigReport

    report = ConfigReport()
    s = Section({"a": "x", "b": float("nan"), "c": 1, "typo": 2}, "t", "f.toml", report)
    assert s.number("a", 1.0) == 1.0 and s.number("b", 2.0) == 2.0 and s.integer("c", 5) == 1
    s.check_unknown(["a", "b", "c"])
    assert [str(e) for e in report.errors] == [
        'f.toml: t.a: expected a number, got "x"', "f.toml: t.b: expected a number, got nan (nan and inf are not numbers)",
        "f.toml: t.typo: unknown key; known keys: a, b, c",
    ]
    with pytest.raises(ConfigError, match="missing"):
        s.number("required")  # no default to go on with: raised, and the caller records it


def test_store_path_with_a_name_too_long_for_the_file_system_is_a_config_error(tmp_path, capsys):
    f = tmp_path / "c.toml"
    f.write_text(f'[store]\npath = "{tmp_path}/{"x" * 300}/deskwatch.db"\n')
    assert main(["config", "check", "--config", str(f)]) == 2
    err = capsys.readouterr().err
    assert "store.path: has a name of 300 bytes" in err and "give a shorter path" in err
