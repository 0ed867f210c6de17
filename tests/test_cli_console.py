"""The command line around the console (issue 17): init, queue --json marks and empty states, the demo's config."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from deskwatch.core import config
from deskwatch.core.cli import main
from deskwatch.core.cli.commands import demo
from deskwatch.core.daemon import operations
from deskwatch.core.model.timeutil import utcnow
from deskwatch.core.store import Store

from .store.factory import decision, ticket


def _uncomment(text: str, table: str) -> str:
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("# [") or not line.strip():
            inside = line == f"# [{table}]"  # a table's example ends at the blank line
        out.append(line[2:] if inside and line.startswith("# ") else line)
    return "\n".join(out)


def test_init_writes_a_short_starter_with_a_source_example_per_helpdesk(tmp_path, monkeypatch):
    f = tmp_path / "starter.toml"
    assert main(["init", str(f)]) == 0
    text = f.read_text()
    assert len(text.splitlines()) < 70
    assert config.load(f).sections == config.load(None).sections  # all commented: the defaults
    for k in ("ZENDESK_TOKEN", "FRESHDESK_API_KEY", "SF_CLIENT_ID", "SF_CLIENT_SECRET"):
        monkeypatch.setenv(k, "x")
    for name in ("zendesk", "freshdesk", "salesforce"):
        one = tmp_path / f"{name}.toml"
        one.write_text(_uncomment(text, f"sources.{name}"))
        assert list(config.load(one).sources) == [name]


def test_init_full_writes_every_default(tmp_path):
    f = tmp_path / "full.toml"
    assert main(["init", "--full", str(f)]) == 0
    text = f.read_text()
    assert "[escalation]" in text and "[tui]" in text and len(text.splitlines()) > 100
    assert config.load(f).sections == config.load(None).sections


def _store_with_marks(path: Path):
    now = utcnow()
    s = Store(path)
    s.save_page("zendesk", [ticket("zendesk:1", subject="a"), ticket("zendesk:2", subject="b"), ticket("zendesk:3", subject="c")], (), None)
    for tid in ("zendesk:1", "zendesk:2", "zendesk:3"):
        s.record_decision(decision(tid, at=now))
    operations.snooze(s, "zendesk:1", now + timedelta(hours=2), "ana", now)
    operations.override(s, "zendesk:2", "monitor", "known issue", "ana", now)
    operations.escalate(s, "zendesk:3", tier="tier3", actor="ana", reason="vip", now=now)
    return s


def _cfg(tmp_path) -> Path:
    f = tmp_path / "c.toml"
    f.write_text(f'[store]\npath = "{tmp_path / "dw.db"}"\n')
    return f


def test_queue_json_carries_snoozed_overridden_and_held(tmp_path, capsys):
    _store_with_marks(tmp_path / "dw.db").close()
    assert main(["queue", "--json", "--config", str(_cfg(tmp_path))]) == 0
    rows = {r["ticket_id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["zendesk:1"]["snoozed"] and rows["zendesk:1"]["snoozed_until"]
    assert rows["zendesk:2"]["overridden"] and rows["zendesk:2"]["hold"] == "override" and not rows["zendesk:2"]["snoozed"]
    assert rows["zendesk:3"]["held"] and not rows["zendesk:3"]["overridden"]


def test_needs_review_empty_does_not_ask_about_a_running_daemon(tmp_path, capsys):
    s = _store_with_marks(tmp_path / "dw.db")
    cfg = str(_cfg(tmp_path))
    assert main(["queue", "--needs-review", "--config", cfg]) == 0
    assert "is the daemon running?" in capsys.readouterr().out  # no heartbeat yet
    s.heartbeat(4242, utcnow(), 5.0)
    assert main(["queue", "--needs-review", "--config", cfg]) == 0
    out = capsys.readouterr().out
    assert "daemon running?" not in out and "no ticket matches --needs-review" in out and "daemon is running" in out
    s.close()


class _Sim:
    def sources_config(self, write_back=True, poll_interval=2.0):
        return {"zendesk": {"type": "zendesk", "base_url": "http://127.0.0.1:1", "email": "e@x", "token": "t",
                            "write_back": write_back, "poll_interval": poll_interval}}


def test_demo_keeps_the_users_settings_but_its_own_sources_and_store(tmp_path, monkeypatch):
    user = tmp_path / "user.toml"
    user.write_text('[tui]\nactor = "night-shift"\n[store]\npath = "/elsewhere/x.db"\n'
                    '[sources.freshdesk]\ntype = "freshdesk"\ndomain = "real"\napi_key = "k"\n')
    monkeypatch.setenv(config.ENV_CONFIG, str(user))
    keep = tmp_path / "keep"
    keep.mkdir()
    data = demo.demo_data(_Sim(), keep, demo.user_data())
    path = demo.write_config(data, keep)
    monkeypatch.delenv(config.ENV_CONFIG)
    cfg = config.load(path)  # what `deskwatch tui --config DIR/config.toml` reads
    assert cfg.tui.actor == "night-shift"
    assert Path(cfg.store.path) == keep / "deskwatch.db"
    assert list(cfg.sources) == ["zendesk"]
