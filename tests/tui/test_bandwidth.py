"""Over a pty at 80x24: a changed row costs a line, not a screen (TUI-NOTES §1.4)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from datetime import timedelta

import pytest

from deskwatch.core.store import Store

from ..conftest import NOW
from ..store.factory import decision
from .conftest import fill

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pty")
SCREEN_80x24 = 4000  # a full repaint of this screen is about 6 KB


def read_for(fd: int, seconds: float) -> bytes:
    out = b""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    return out


def test_a_changed_row_repaints_one_line(tmp_path):
    db = tmp_path / "deskwatch.db"
    with Store(db) as store:
        fill(store)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\npath = "{db}"\n\n[tui]\nrefresh_interval = 0.2\n')
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLORTERM", "NO_COLOR", "TEXTUAL_COLOR_SYSTEM")}
    env |= {"TERM": "xterm-256color", "DESKWATCH_ACTOR": "ana"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from deskwatch.core.cli import main; sys.exit(main(sys.argv[1:]))", "tui", "--config", str(cfg)],
        stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
    )
    os.close(slave)
    try:
        seen = b""
        deadline = time.monotonic() + 30
        while b"6 open" not in seen and time.monotonic() < deadline:
            seen += read_for(master, 0.3)
        assert b"6 open" in seen
        quiet = time.monotonic() + 30
        while read_for(master, 1.0) and time.monotonic() < quiet:
            pass  # the first frames (footer, focus) settle; then an idle console writes nothing
        with Store(db) as store:  # the daemon moves one SLA: same place in the queue
            store.record_decision(decision("freshdesk:11", score=78, recommendation="priority", tier="tier2", team="billing",
                                           due=NOW + timedelta(days=300), sla_state="ok"))
        out = read_for(master, 1.5)
        assert 0 < len(out) < SCREEN_80x24 / 4, len(out)
        os.write(master, b"q")
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_console_leaves_when_its_terminal_goes_away(tmp_path):
    """No hangup signal (the pty is not its controlling terminal): the console notices anyway."""
    db = tmp_path / "deskwatch.db"
    with Store(db) as store:
        fill(store)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\npath = "{db}"\n')
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLORTERM", "NO_COLOR")} | {"TERM": "xterm-256color"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from deskwatch.core.cli import main; sys.exit(main(sys.argv[1:]))", "tui", "--config", str(cfg), "--actor", "ana"],
        stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
    )
    os.close(slave)
    try:
        seen = b""
        deadline = time.monotonic() + 30
        while b"6 open" not in seen and time.monotonic() < deadline:
            seen += read_for(master, 0.3)
        assert b"6 open" in seen
        os.close(master)
        master = None
        assert proc.wait(15) != 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if master is not None:
            os.close(master)
