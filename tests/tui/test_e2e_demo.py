"""End to end: `deskwatch demo` (simulator + daemon + console) in tmux at 80x24."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

DESKWATCH = str(Path(sys.executable).with_name("deskwatch"))


class Tmux:
    def __init__(self, socket: str):
        self.socket = socket

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "demo")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.3)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.screen()}")


def assert_ack_reached_the_helpdesk(db: Path, ticket_id: str, timeout: float = 30.0) -> None:
    """The daemon sent the console's acknowledgment note to the simulated helpdesk."""
    from deskwatch.core.store import Store

    end = time.monotonic() + timeout
    items: list = []
    with Store(db) as store:
        while time.monotonic() < end:
            items = [i for i in store.outbox_for(ticket_id) if "Acknowledged in deskwatch by demo" in (i.update.private_note or "")]
            if items and all(i.state == "applied" for i in items):
                return
            time.sleep(0.5)
    raise AssertionError(f"the acknowledgment of {ticket_id} did not reach the helpdesk: {items}")


@pytest.fixture
def tmux(tmp_path):
    t = Tmux(f"deskwatch-e2e-{os.getpid()}")
    yield t
    t("kill-server")


def test_demo_console_at_80x24(tmux, tmp_path):
    if not Path(DESKWATCH).exists():
        pytest.skip("the deskwatch script is not installed next to this Python")
    keep = tmp_path / "demo"
    cmd = f"env -u COLORTERM TERM=xterm-256color {DESKWATCH} demo --seed 3 --keep {keep}; echo EXIT=$?; sleep 30"
    tmux("new-session", "-d", "-s", "demo", "-x", "80", "-y", "24", cmd)
    tmux.wait_for(" open  demo", timeout=40)
    screen = tmux.wait_for("q Quit")  # the footer, once the table has the focus
    lines = screen.splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    assert "Urg" in lines[1] and "Subject" in lines[1] and "Age" in lines[1]
    tmux("send-keys", "-t", "demo", "Enter")
    ticket = tmux.wait_for("Signals")
    assert "score" in ticket
    ticket_id = ticket.splitlines()[0].split()[0]
    tmux("send-keys", "-t", "demo", "a")  # acknowledge it: goes to the simulator through the outbox
    tmux.wait_for("acknowledged by demo")
    assert_ack_reached_the_helpdesk(keep / "deskwatch.db", ticket_id)
    tmux("send-keys", "-t", "demo", "Escape")
    tmux.wait_for(" open  demo")
    tmux("send-keys", "-t", "demo", "q")
    done = tmux.wait_for("EXIT=", timeout=30)
    assert "EXIT=0" in done
