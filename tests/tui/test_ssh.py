"""`deskwatch serve-ssh` on 127.0.0.1: a real console per session, keys only, cleanup."""

from __future__ import annotations

import asyncio
import os

import asyncssh
import pytest

from deskwatch.core.store import Store
from deskwatch.tui import ssh

from .conftest import fill

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pty")


@pytest.fixture
def setup(tmp_path):
    db = tmp_path / "deskwatch.db"
    store = Store(db)
    fill(store)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\npath = "{db}"\n\n[tui]\nrefresh_interval = 0.2\n\n[sources.zendesk]\ntype = "zendesk"\nwrite_back = true\n'
                   'subdomain = "acme"\nemail = "bot@acme.example"\napi_token = "x"\n')
    user_key = asyncssh.generate_private_key("ssh-ed25519", comment="ana@oncall")
    other_key = asyncssh.generate_private_key("ssh-ed25519", comment="mallory")
    (tmp_path / "authorized_keys").write_bytes(user_key.export_public_key())
    yield {"tmp": tmp_path, "store": store, "cfg": cfg, "key": user_key, "other": other_key}
    store.close()


async def read_until(stdout, needle: bytes, timeout: float = 20.0) -> bytes:
    seen = b""

    async def loop():
        nonlocal seen
        while needle not in seen:
            chunk = await stdout.read(65536)
            if not chunk:
                raise EOFError(seen[-500:])
            seen += chunk

    await asyncio.wait_for(loop(), timeout)
    return seen


async def test_session_runs_the_console_with_the_key_comment_as_actor(setup):
    tmp = setup["tmp"]
    server = await ssh.start_server("127.0.0.1", 0, tmp / "host_key", tmp / "authorized_keys", ssh.console_command(str(setup["cfg"])))
    port = server.sockets[0].getsockname()[1]
    try:
        async with asyncssh.connect("127.0.0.1", port, username="oncall", client_keys=[setup["key"]], known_hosts=None,
                                    agent_path=None) as conn:
            proc = await conn.create_process(term_type="xterm-256color", term_size=(80, 24), encoding=None)
            out = await read_until(proc.stdout, b"6 open")
            assert b"\x1b[?1049h" in out  # the alternate screen: a real full-screen app on a pty
            assert b"\x1b[?1003h" not in out  # mouse motion tracking stays off
            proc.change_terminal_size(100, 30)
            await asyncio.sleep(0.5)
            proc.stdin.write(b"a")  # acknowledge the top ticket
            for _ in range(100):
                await asyncio.sleep(0.1)
                if setup["store"].ack_state("freshdesk:10") is not None:
                    break
            assert setup["store"].ack_state("freshdesk:10").acknowledged_by == "ana@oncall"
            assert [r.actor for r in setup["store"].audit_for("freshdesk:10") if r.kind == "acknowledge"] == ["ana@oncall"]
            proc.stdin.write(b"q")
            result = await asyncio.wait_for(proc.wait(), 15)
            assert result.exit_status == 0
            assert not ssh.SESSIONS

            # a client that vanishes: its console is stopped and reaped
            proc2 = await conn.create_process(term_type="xterm-256color", term_size=(80, 24), encoding=None)
            await read_until(proc2.stdout, b"6 open")
            [pid] = list(ssh.SESSIONS)
            conn.abort()
        for _ in range(100):
            await asyncio.sleep(0.1)
            if not ssh.SESSIONS:
                break
        assert not ssh.SESSIONS
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)

        # no pty, or a command: refused with a message
        async with asyncssh.connect("127.0.0.1", port, username="oncall", client_keys=[setup["key"]], known_hosts=None, agent_path=None) as conn:
            result = await conn.run("cat /etc/passwd", encoding=None)
            assert result.exit_status == 2 and b"only runs the interactive console" in result.stderr

        # a key that is not authorized, and passwords, are refused
        with pytest.raises(asyncssh.PermissionDenied):
            await asyncssh.connect("127.0.0.1", port, username="oncall", client_keys=[setup["other"]], known_hosts=None, agent_path=None)
        with pytest.raises(asyncssh.PermissionDenied):
            await asyncssh.connect("127.0.0.1", port, username="oncall", password="hunter2", client_keys=None, known_hosts=None, agent_path=None)
    finally:
        server.close()
        await server.wait_closed()


def test_bad_authorized_keys_file_names_the_fix(tmp_path):
    with pytest.raises(ssh.SshSetupError, match="authorized keys file not found; pass --authorized-keys"):
        ssh.load_authorized_keys(tmp_path / "missing")
    (tmp_path / "empty").write_text("")
    with pytest.raises(ssh.SshSetupError, match="no keys"):
        ssh.load_authorized_keys(tmp_path / "empty")
