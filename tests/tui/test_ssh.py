"""`deskwatch serve-ssh` on 127.0.0.1: a real console per session, keys only, cleanup."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time

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
    (tmp_path / "authorized_keys").chmod(0o600)
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


def write_keys(path, text: str, mode: int = 0o600):
    path.write_text(text)
    path.chmod(mode)
    return path


def pub(key) -> str:
    return key.export_public_key().decode().strip()


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666])
def test_authorized_keys_writable_by_others_is_refused(tmp_path, mode):
    key = asyncssh.generate_private_key("ssh-ed25519", comment="ana")
    path = write_keys(tmp_path / "authorized_keys", pub(key) + "\n", mode)
    with pytest.raises(ssh.SshSetupError, match=rf"{re.escape(str(path))}: .*writable by .*chmod 600 {re.escape(str(path))}"):
        ssh.load_authorized_keys(path)
    path.chmod(0o600)
    assert [k.comment for k in ssh.load_authorized_keys(path)] == ["ana"]


def test_unsupported_key_options_are_refused_naming_the_line(tmp_path):
    key = asyncssh.generate_private_key("ssh-ed25519", comment="ana")
    path = write_keys(tmp_path / "authorized_keys", f"# team\n{pub(key)}\ncommand=\"/bin/sh\" {pub(key)}\n")
    with pytest.raises(ssh.SshSetupError, match=r"line 3: .*does not support the key option 'command'; remove it"):
        ssh.load_authorized_keys(path)
    write_keys(path, f'expiry-time="2026banana" {pub(key)}\n')
    with pytest.raises(ssh.SshSetupError, match=r"line 1: expiry-time=.*YYYYMMDD"):
        ssh.load_authorized_keys(path)
    write_keys(path, f'restrict,no-pty-typo {pub(key)}\n')
    with pytest.raises(ssh.SshSetupError, match="no-pty-typo"):
        ssh.load_authorized_keys(path)


async def test_from_and_expiry_time_options_are_honoured(tmp_path):
    ok, remote_only, expired, later = (asyncssh.generate_private_key("ssh-ed25519", comment=c)
                                       for c in ("ok", "remote", "expired", "later"))
    keys = write_keys(tmp_path / "authorized_keys", "\n".join([
        f'from="127.0.0.1,::1",no-port-forwarding {pub(ok)}',
        f'from="10.9.9.0/24" {pub(remote_only)}',
        f'expiry-time="20200101" {pub(expired)}',
        f'expiry-time="29991231235959Z",restrict {pub(later)}',
    ]) + "\n")
    loaded = ssh.load_authorized_keys(keys)  # before: "no keys in the authorized keys file"
    assert [k.comment for k in loaded] == ["ok", "remote", "expired", "later"]
    server = await ssh.start_server("127.0.0.1", 0, tmp_path / "keys" / "host_key", keys, ["true"])
    port = server.sockets[0].getsockname()[1]
    try:
        for key in (ok, later):
            async with asyncssh.connect("127.0.0.1", port, username="u", client_keys=[key], known_hosts=None, agent_path=None):
                pass
        for key in (remote_only, expired):
            with pytest.raises(asyncssh.PermissionDenied):
                await asyncssh.connect("127.0.0.1", port, username="u", client_keys=[key], known_hosts=None, agent_path=None)
    finally:
        await ssh.shutdown(server)


def test_host_key_is_private_from_creation(tmp_path, monkeypatch):
    old = os.umask(0)  # with no umask, anything not created 600 would show
    chmods = []
    monkeypatch.setattr(os, "chmod", lambda *a, **k: chmods.append(a))
    try:
        path = ssh.ensure_host_key(tmp_path / "new" / "host_key")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and not chmods
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert ssh.ensure_host_key(path) == path  # reused as is

    monkeypatch.undo()
    path.chmod(0o644)
    with pytest.raises(ssh.SshSetupError, match=r"readable by others .*chmod 600"):
        ssh.ensure_host_key(path)

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(ssh.SshSetupError, match=r"writable by others.*--host-key"):
        ssh.ensure_host_key(shared / "host_key")
    assert not (shared / "host_key").exists()


def test_missing_extra_names_the_install_that_matches(monkeypatch):
    from deskwatch.core.cli.commands import serve_ssh

    class Dist:
        def __init__(self, text):
            self.text = text

        def read_text(self, name):
            return self.text

    monkeypatch.setattr(serve_ssh.metadata, "distribution",
                        lambda name: Dist(json.dumps({"dir_info": {"editable": True}, "url": "file:///src/deskwatch"})))
    assert serve_ssh.install_hint() == "pip install -e '.[ssh]' (in /src/deskwatch)"
    monkeypatch.setattr(serve_ssh.metadata, "distribution", lambda name: Dist(None))
    assert serve_ssh.install_hint() == "pip install 'deskwatch[ssh]'"


async def test_sigterm_restores_each_terminal_and_exits_0(setup):
    tmp = setup["tmp"]
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from deskwatch.core.cli import main; sys.exit(main(sys.argv[1:]))",
         "serve-ssh", "--config", str(setup["cfg"]), "--port", "0", "--authorized-keys", str(tmp / "authorized_keys"),
         "--host-key", str(tmp / "hk" / "host_key")],
        stderr=subprocess.PIPE, text=True,
    )
    try:
        line = ""
        deadline = time.monotonic() + 20
        while "listening on" not in line and time.monotonic() < deadline:
            line = await asyncio.to_thread(proc.stderr.readline)
        m = re.search(r"listening on (\S+):(\d+)", line)
        assert m and m.group(1) == "127.0.0.1", line  # local only unless --host says otherwise
        async with asyncssh.connect("127.0.0.1", int(m.group(2)), username="oncall", client_keys=[setup["key"]],
                                    known_hosts=None, agent_path=None) as conn:
            p = await conn.create_process(term_type="xterm-256color", term_size=(80, 24), encoding=None)
            await read_until(p.stdout, b"6 open")
            proc.send_signal(signal.SIGTERM)
            rest = await asyncio.wait_for(p.stdout.read(), 20)  # to EOF: the server closed the session
            assert rest.endswith(ssh.RESTORE_TERMINAL)
        code = await asyncio.to_thread(proc.wait, 20)
        assert code == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
