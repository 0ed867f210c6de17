"""[tui.keys]: actions take the keys the config gives them, checked screen by screen."""

from __future__ import annotations

from dataclasses import replace

import pytest

from deskwatch.core import config
from deskwatch.core.model.settings import ConfigError
from deskwatch.tui.app import DeskwatchApp
from deskwatch.tui.app import check_keys as check
from deskwatch.tui.screens.form import FormScreen
from deskwatch.tui.screens.help import HelpScreen
from deskwatch.tui.screens.queue import QueueScreen

from .helpers import screen_text


def test_unknown_actions_and_clashing_keys_are_named():
    assert check({"ticket.escalate": "E", "app.quit": "ctrl+q"}) == {"ticket.escalate": "E", "app.quit": "ctrl+q"}
    with pytest.raises(ConfigError, match=r"tui.keys.ticket.escalte: unknown action; did you mean 'ticket.escalate'"):
        check({"ticket.escalte": "E"}, "c.toml")
    # "n" is the note key on the queue and ticket screens
    with pytest.raises(ConfigError, match=r'tui.keys.ticket.escalate: "n" already runs Note \(ticket.note\) on the queue screen'):
        check({"ticket.escalate": "n"})
    # ... unless the note moves too
    assert check({"ticket.escalate": "n", "ticket.note": "N"})
    # the app's keys are live on every screen: "q" would shadow quit
    with pytest.raises(ConfigError, match=r'"q" already runs Quit \(app.quit\)'):
        check({"queue.search": "q"})


def test_keys_are_read_from_the_config(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[tui.keys]\n"ticket.escalate" = "E, ctrl+e"\n')
    assert dict(config.load(f).tui.keys) == {"ticket.escalate": "E,ctrl+e"}
    f.write_text('[tui.keys]\n"ticket.escalate" = "E,"\n')
    with pytest.raises(ConfigError, match=r'tui.keys.ticket.escalate: expected keys such as "E"'):
        config.load(f)


async def test_a_remapped_action_runs_on_its_new_key_and_help_shows_it(console):
    app = DeskwatchApp(replace(console, keymap={"ticket.escalate": "E"}))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)  # "e" no longer escalates
        await pilot.press("E")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen) and "Escalate" in screen_text(app)
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        line = next(l for l in screen_text(app).splitlines() if "Escalate to a tier" in l)
        assert line.strip("│ ").split()[0] == "E"


def test_config_check_finds_a_bad_key_entry(tmp_path, capsys):
    from deskwatch.core.cli import main

    f = tmp_path / "c.toml"
    f.write_text('[tui.keys]\n"ticket.escalte" = "E"\n')
    assert main(["config", "check", "--config", str(f)]) == 2
    assert "tui.keys.ticket.escalte: unknown action; did you mean 'ticket.escalate'?" in capsys.readouterr().err
