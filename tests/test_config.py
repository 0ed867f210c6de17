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
