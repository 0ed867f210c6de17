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
import stat
import struct
import sys
import termios
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import asyncssh

log = logging.getLogger("deskwatch.ssh")

PASS_ENV = ("COLORTERM", "LANG", "LC_ALL", "NO_COLOR", "TEXTUAL_COLOR_SYSTEM", "TEXTUAL_THEME")
READ_SIZE = 65536
SESSIONS: dict[int, str] = {}  # console pid -> actor, while the session lasts
# Sent to each client before the server closes its connection: leave the alternate screen, show
# the cursor, so a shutdown does not leave the engineer's terminal blank and cursorless.
RESTORE_TERMINAL = b"\x1b[?1049l\x1b[?25h"
# Options the server honours (from=, expiry-time=) or always applies anyway (the rest: it never
# allows forwarding, agents, X11 or rc files). Any other option is refused at start.
HONOURED_OPTIONS = frozenset({"from", "expiry-time"})
ALWAYS_APPLIED = frozenset({"restrict", "no-port-forwarding", "no-agent-forwarding", "no-x11-forwarding", "no-user-rc", "pty"})


class SshSetupError(ValueError):
    """The server cannot start: a missing key file, an unreadable authorized_keys..."""


@dataclass(frozen=True)
class AuthorizedKey:
    key: asyncssh.SSHKey
    comment: str
    entry: asyncssh.SSHAuthorizedKeys | None = None  # this line alone: asyncssh matches from= on it
    expires: datetime | None = None  # expiry-time=
    line: int = 0

    def allows(self, key: asyncssh.SSHKey, client_addr: str, now: datetime | None = None) -> bool:
        """Whether ``key`` connecting from ``client_addr`` is this entry, within its options."""
        if key.public_data != self.key.public_data:
            return False
        if self.expires is not None and (now or datetime.now(timezone.utc)) >= self.expires:
            log.warning("refused the key of %s: it expired at %s (expiry-time on line %d)", self.comment or "?",
                        self.expires.isoformat(), self.line)
            return False
        if self.entry is not None and self.entry.validate(key, client_addr, client_addr) is None:
            log.warning("refused the key of %s from %s: not allowed by its from= option (line %d)",
                        self.comment or "?", client_addr, self.line)
            return False
        return True


def split_options(line: str) -> tuple[list[tuple[str, str | None]], str]:
    """``(options, rest)`` of an authorized_keys line that starts with options, OpenSSH's way:
    the options run to the first space outside quotes, separated by commas."""
    options: list[tuple[str, str | None]] = []
    cur, quoted, i = "", False, 0
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch in " \t" and not quoted:
            break
        elif ch == "," and not quoted:
            options.append(_option(cur))
            cur = ""
            continue
        cur += ch
    else:
        i = len(line)
    if quoted:
        raise ValueError("unbalanced quote in the key options")
    options.append(_option(cur))
    return options, line[i:].strip()


def _option(text: str) -> tuple[str, str | None]:
    name, eq, value = text.partition("=")
    return name.strip().lower(), (value.strip().strip('"') if eq else None)


def parse_expiry(value: str) -> datetime:
    """OpenSSH's expiry-time: YYYYMMDD[HHMM[SS]], local time, or UTC with a trailing Z."""
    utc = value.upper().endswith("Z")
    digits = value[:-1] if utc else value
    fmt = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}.get(len(digits))
    if fmt is None or not digits.isdigit():
        raise ValueError(f'expiry-time="{value}" is not YYYYMMDD[HHMM[SS]][Z]')
    when = datetime.strptime(digits, fmt)
    return when.replace(tzinfo=timezone.utc) if utc else when.astimezone(timezone.utc)


def check_not_writable_by_others(path: Path) -> None:
    """Refuse a file that group or others can write, as OpenSSH does (StrictModes): anyone who
    can write it can let themselves in."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise SshSetupError(f"{path}: authorized keys file not found; pass --authorized-keys FILE with one public key per line") from None
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        who = " and ".join(w for w, bit in (("group", stat.S_IWGRP), ("others", stat.S_IWOTH)) if mode & bit)
        raise SshSetupError(f"{path}: the authorized keys file is writable by {who} (mode {stat.S_IMODE(mode):o}), so anyone "
                            f"who can write it could add a key; fix it with: chmod 600 {path}")


def _parse_line(path: Path, n: int, line: str) -> AuthorizedKey:
    try:
        key = asyncssh.import_public_key(line)
        return AuthorizedKey(key, (key.get_comment() or "").strip(), line=n)
    except (asyncssh.KeyImportError, ValueError):
        pass
    where = f"{path}, line {n}"
    try:
        options, rest = split_options(line)
        key = asyncssh.import_public_key(rest)
    except (asyncssh.KeyImportError, ValueError) as e:
        raise SshSetupError(f"{where}: not an OpenSSH public key line ({e}); expect [options] TYPE KEY COMMENT") from None
    expires = None
    for name, value in options:
        if name == "expiry-time":
            try:
                expires = parse_expiry(value or "")
            except ValueError as e:
                raise SshSetupError(f"{where}: {e}") from None
        elif name not in HONOURED_OPTIONS | ALWAYS_APPLIED:
            raise SshSetupError(
                f"{where}: deskwatch serve-ssh does not support the key option {name!r}; remove it (supported: "
                f"from=, expiry-time=, and {', '.join(sorted(ALWAYS_APPLIED))}, which the server always applies)")
    try:
        entry = asyncssh.import_authorized_keys(line)  # asyncssh matches from= patterns
    except ValueError as e:
        raise SshSetupError(f"{where}: cannot read the key options ({e})") from None
    return AuthorizedKey(key, (key.get_comment() or "").strip(), entry=entry, expires=expires, line=n)


def load_authorized_keys(path: Path) -> list[AuthorizedKey]:
    """The keys of an OpenSSH authorized_keys file, with their comments (the actor names) and
    options; refuses a file others can write, or a line it cannot honour, naming the fix."""
    check_not_writable_by_others(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SshSetupError(f"{path}: cannot read the authorized keys ({e}); expect OpenSSH public key lines") from None
    keys = [_parse_line(path, n, line.strip()) for n, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.strip().startswith("#")]
    if not keys:
        raise SshSetupError(f"{path}: no keys in the authorized keys file; add the users' public keys")
    now = datetime.now(timezone.utc)
    for k in keys:
        if k.expires is not None and k.expires <= now:
            log.warning("%s, line %d: the key of %s expired at %s and will be refused", path, k.line, k.comment or "?",
                        k.expires.isoformat())
    return keys


def ensure_host_key(path: Path) -> Path:
    """Use the host key at ``path``, creating an Ed25519 key there on first start: mode 600 from
    the moment the file exists, in a folder only we can write (created 700 when missing)."""
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o700)
    st = folder.stat()
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise SshSetupError(f"{folder}: the host key's folder is writable by others (mode {stat.S_IMODE(st.st_mode):o}), "
                            f"who could replace the key; pass --host-key in a private folder (e.g. ~/.config/deskwatch) "
                            f"or chmod 700 {folder}")
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SshSetupError(f"{path}: the SSH host key is readable by others (mode {mode:o}); fix it with: chmod 600 {path}")
        return path
    data = asyncssh.generate_private_key("ssh-ed25519").export_private_key()
    # O_EXCL: never write through a file or link someone else put there first.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
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


CONNECTIONS: set[asyncssh.SSHServerConnection] = set()  # open client connections
_LIVE: dict[int, "_Session"] = {}  # console pid -> the session, for shutdown


@dataclass
class _Session:
    process: asyncssh.SSHServerProcess
    child: asyncio.subprocess.Process
    stopped_by_server: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


class _Server(asyncssh.SSHServer):
    def __init__(self, cfg: ServerConfig):
        self.cfg = cfg
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        CONNECTIONS.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        CONNECTIONS.discard(self.conn)  # type: ignore[arg-type]

    def begin_auth(self, username: str) -> bool:
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        assert self.conn is not None
        peer = self.conn.get_extra_info("peername") or ("",)
        for entry in self.cfg.authorized:
            if entry.allows(key, str(peer[0])):
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
        session = _LIVE[child.pid] = _Session(process, child)
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
                if session.stopped_by_server:
                    # A console stopped from outside may not have restored the terminal itself.
                    try:
                        process.stdout.write(RESTORE_TERMINAL)
                        await asyncio.wait_for(process.stdout.drain(), 1.0)
                    except (asyncio.TimeoutError, Exception):
                        pass
        finally:
            for task in (out, inp, waiter):
                task.cancel()
            os.close(master)
            SESSIONS.pop(child.pid, None)
            _LIVE.pop(child.pid, None)
            session.done.set()
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


async def shutdown(server: asyncssh.SSHAcceptor, timeout: float = 8.0) -> None:
    """Stop listening, stop every console (each client's terminal restored before its
    connection closes), then close the connections."""
    server.close()
    sessions = list(_LIVE.values())
    for s in sessions:
        s.stopped_by_server = True
    await asyncio.gather(*(_stop(s.child) for s in sessions), return_exceptions=True)
    deadline = time.monotonic() + timeout
    for s in sessions:
        try:
            await asyncio.wait_for(s.done.wait(), max(0.1, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            pass
    for conn in list(CONNECTIONS):
        conn.close()
    for conn in list(CONNECTIONS):
        try:
            await asyncio.wait_for(conn.wait_closed(), max(0.1, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            conn.abort()
    await server.wait_closed()


def console_command(config_path: str | None) -> list[str]:
    """The command each session runs: this Python, ``deskwatch tui``, the same config."""
    # Not `-m deskwatch.core.cli`: that would load cli twice (as __main__) with two UsageErrors.
    cmd = [sys.executable, "-c", "import sys; from deskwatch.core.cli import main; sys.exit(main(sys.argv[1:]))", "tui"]
    return cmd + (["--config", config_path] if config_path else [])
