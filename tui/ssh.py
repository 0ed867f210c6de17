"""An embedded SSH server that gives each session its own console on a pseudo-terminal.

Public keys only (from an authorized_keys file); no passwords, agent, X11, port forwarding,
SCP/SFTP or exec commands. Each session runs ``deskwatch tui`` in a child process that owns a
fresh pty as its controlling terminal, so the kernel delivers SIGWINCH on resize and SIGHUP when
the session ends. TERM and the window size come from the client's pty request. The actor of the
session is the comment of the authorized key that matched (else the SSH user name), passed as
$DESKWATCH_ACTOR. Design and measurements: ../shared/TUI-NOTES.md §2.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import os
import pty
import signal
import struct
import sys
import termios
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import asyncssh

log = logging.getLogger("deskwatch.ssh")

PASS_ENV = ("COLORTERM", "LANG", "LC_ALL", "NO_COLOR", "TEXTUAL_COLOR_SYSTEM", "TEXTUAL_THEME")
READ_SIZE = 65536
SESSIONS: dict[int, str] = {}  # console pid -> actor, while the session lasts


class SshSetupError(ValueError):
    """The server cannot start: a missing key file, an unreadable authorized_keys..."""


@dataclass(frozen=True)
class AuthorizedKey:
    key: asyncssh.SSHKey
    comment: str


def load_authorized_keys(path: Path) -> list[AuthorizedKey]:
    """The keys of an OpenSSH authorized_keys file, with their comments (the actor names)."""
    try:
        keys = asyncssh.read_public_key_list(str(path))
    except FileNotFoundError:
        raise SshSetupError(f"{path}: authorized keys file not found; pass --authorized-keys FILE with one public key per line") from None
    except (OSError, asyncssh.KeyImportError, ValueError) as e:
        raise SshSetupError(f"{path}: cannot read the authorized keys ({e}); expect OpenSSH public key lines") from None
    if not keys:
        raise SshSetupError(f"{path}: no keys in the authorized keys file; add the users' public keys")
    return [AuthorizedKey(k, (k.get_comment() or "").strip()) for k in keys]


def ensure_host_key(path: Path) -> Path:
    """Use the host key at ``path``, creating an Ed25519 key there (mode 600) on first start."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(str(path))
    os.chmod(path, 0o600)
    log.info("created SSH host key %s", path)
    return path


def set_winsize(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _child_setup() -> None:
    # Own the pty as controlling terminal: resize -> SIGWINCH, hangup -> SIGHUP.
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@dataclass
class ServerConfig:
    command: Sequence[str]  # the console command for each session
    authorized: list[AuthorizedKey]
    env: dict[str, str] = field(default_factory=dict)  # extra environment for the sessions


class _Server(asyncssh.SSHServer):
    def __init__(self, cfg: ServerConfig):
        self.cfg = cfg
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn

    def begin_auth(self, username: str) -> bool:
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        for entry in self.cfg.authorized:
            if entry.key.public_data == key.public_data:
                assert self.conn is not None
                self.conn.set_extra_info(deskwatch_actor=entry.comment or username)
                return True
        return False

    def password_auth_supported(self) -> bool:
        return False


async def _pump_out(master: int, process: asyncssh.SSHServerProcess) -> None:
    """pty -> client, pausing the pty while the channel is backed up."""
    loop = asyncio.get_running_loop()
    while True:
        ready = loop.create_future()
        loop.add_reader(master, lambda: ready.done() or ready.set_result(None))
        try:
            await ready
        finally:
            loop.remove_reader(master)
        try:
            data = os.read(master, READ_SIZE)
        except BlockingIOError:
            continue
        except OSError as e:
            if e.errno == errno.EIO:  # the console exited and closed the pty
                return
            raise
        if not data:
            return
        process.stdout.write(data)
        await process.stdout.drain()


async def _pump_in(master: int, process: asyncssh.SSHServerProcess) -> None:
    """client -> pty; window changes resize the pty. Returns when the client goes away."""
    while True:
        try:
            data = await process.stdin.read(READ_SIZE)
        except asyncssh.TerminalSizeChanged as e:
            set_winsize(master, e.width, e.height)
            continue
        except (asyncssh.BreakReceived, asyncssh.SignalReceived):
            continue
        except (asyncssh.ConnectionLost, BrokenPipeError):
            return
        if not data:
            return
        os.write(master, data)


async def _stop(child: asyncio.subprocess.Process) -> int:
    """Hang up the console's session, then insist: SIGHUP, SIGTERM, SIGKILL, 2 s apart."""
    for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGKILL):
        if child.returncode is not None:
            break
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            break
        try:
            return await asyncio.wait_for(child.wait(), 2.0)
        except asyncio.TimeoutError:
            continue
    return await child.wait()


def make_handler(cfg: ServerConfig):
    async def handle(process: asyncssh.SSHServerProcess) -> None:
        term = process.get_terminal_type()
        if term is None or process.command:
            process.stderr.write(b"deskwatch: this server only runs the interactive console; connect with ssh -t and no command\r\n")
            process.exit(2)
            return
        cols, rows, _, _ = process.get_terminal_size()
        actor = process.get_extra_info("deskwatch_actor") or process.get_extra_info("username") or ""
        master, slave = pty.openpty()
        set_winsize(slave, cols or 80, rows or 24)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/"),
            "TERM": term, "LANG": "C.UTF-8", "DESKWATCH_ACTOR": actor, **cfg.env,
        }
        env |= {k: v for k, v in (process.env or {}).items() if k in PASS_ENV}
        log.info("session for %s (%s, %dx%d)", actor, term, cols, rows)
        child = await asyncio.create_subprocess_exec(
            *cfg.command, stdin=slave, stdout=slave, stderr=slave, env=env, preexec_fn=_child_setup,
        )
        os.close(slave)
        SESSIONS[child.pid] = actor
        os.set_blocking(master, False)
        out = asyncio.ensure_future(_pump_out(master, process))
        inp = asyncio.ensure_future(_pump_in(master, process))
        waiter = asyncio.ensure_future(child.wait())
        try:
            await asyncio.wait({out, inp, waiter}, return_when=asyncio.FIRST_COMPLETED)
            client_gone = inp.done() and not waiter.done()
            if client_gone:
                log.info("client of %s went away; stopping its console (pid %d)", actor, child.pid)
            code = await _stop(child) if not waiter.done() else waiter.result()
            if not client_gone:
                try:  # the last frames: leaving the alternate screen
                    await asyncio.wait_for(out, 1.0)
                except (asyncio.TimeoutError, Exception):
                    pass
        finally:
            for task in (out, inp, waiter):
                task.cancel()
            os.close(master)
            SESSIONS.pop(child.pid, None)
        log.info("session for %s ended (exit %s)", actor, code)
        process.exit(code if code >= 0 else 1)

    return handle


async def start_server(host: str, port: int, host_key: Path, authorized_keys: Path, command: Sequence[str],
                       env: dict[str, str] | None = None) -> asyncssh.SSHAcceptor:
    """Listen on ``host``:``port``; returns the acceptor (``.close()`` to stop; ``.sockets`` for
    the bound port when ``port`` is 0)."""
    cfg = ServerConfig(command=list(command), authorized=load_authorized_keys(authorized_keys), env=dict(env or {}))
    return await asyncssh.create_server(
        lambda: _Server(cfg), host, port,
        server_host_keys=[str(ensure_host_key(host_key))],
        process_factory=make_handler(cfg), encoding=None, line_editor=False,
        password_auth=False, kbdint_auth=False, gss_auth=False, host_based_auth=False,
        agent_forwarding=False, x11_forwarding=False, allow_scp=False,
        keepalive_interval=15, keepalive_count_max=4, login_timeout=30,
        compression_algs=["zlib@openssh.com", "zlib", "none"],
    )


def console_command(config_path: str | None) -> list[str]:
    """The command each session runs: this Python, ``deskwatch tui``, the same config."""
    # Not `-m deskwatch.core.cli`: that would load cli twice (as __main__) with two UsageErrors.
    cmd = [sys.executable, "-c", "import sys; from deskwatch.core.cli import main; sys.exit(main(sys.argv[1:]))", "tui"]
    return cmd + (["--config", config_path] if config_path else [])
