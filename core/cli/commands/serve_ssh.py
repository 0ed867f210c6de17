"""`deskwatch serve-ssh`: serve the console over SSH, one console process per session.

    deskwatch serve-ssh [--config FILE] [--host ADDR] [--port P] [--authorized-keys FILE] [--host-key FILE]

Public keys only: each line of the authorized keys file is an OpenSSH public key whose comment
names the engineer (the actor recorded in the audit log); the options from="addresses" and
expiry-time="YYYYMMDD" are honoured, others refused. The file must not be writable by group or
others (chmod 600). Listens on 127.0.0.1 unless --host says otherwise. Users connect with
``ssh -p P host``; ``ssh -C`` (compression, which the server offers) cuts the bandwidth by 20x.
SIGTERM or Ctrl-C stops every console, restoring each client's terminal, and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from deskwatch.core import config

DEFAULT_KEYS = "~/.config/deskwatch/authorized_keys"
DEFAULT_HOST_KEY = "~/.config/deskwatch/ssh_host_ed25519_key"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve-ssh", help="serve the console over SSH (public keys only)", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", "-c", metavar="FILE", help="config file the sessions use (default: $DESKWATCH_CONFIG or built-in defaults)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=2222, help="port to listen on (default: 2222)")
    p.add_argument("--authorized-keys", default=DEFAULT_KEYS, metavar="FILE", help=f"allowed public keys (default: {DEFAULT_KEYS})")
    p.add_argument("--host-key", default=DEFAULT_HOST_KEY, metavar="FILE", help=f"server key, created if missing (default: {DEFAULT_HOST_KEY})")
    p.set_defaults(func=run)


def install_hint() -> str:
    """The command that adds the ssh extra the way deskwatch was installed: editable from a
    checkout (``pip install -e '.[ssh]'`` in that folder), or from the package index."""
    try:
        raw = metadata.distribution("deskwatch").read_text("direct_url.json")
        info = json.loads(raw) if raw else {}
    except (metadata.PackageNotFoundError, ValueError):
        info = {}
    if info.get("dir_info", {}).get("editable"):
        where = unquote(urlsplit(info.get("url", "")).path)
        return f"pip install -e '.[ssh]' (in {where})" if where else "pip install -e '.[ssh]' (in your deskwatch checkout)"
    return "pip install 'deskwatch[ssh]'"


def run(args: argparse.Namespace) -> int:
    from deskwatch.core.cli import UsageError

    try:
        from deskwatch.tui import ssh
    except ImportError as e:
        if "asyncssh" not in str(e):
            raise
        raise UsageError(f"serve-ssh needs the ssh extra: {install_hint()} (installs asyncssh)") from None

    config.load(args.config)  # fail here, not in every session, on a bad config
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a TCP port; give 1-65535")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    keys = Path(os.path.expanduser(args.authorized_keys))
    host_key = Path(os.path.expanduser(args.host_key))
    cfg_path = os.path.abspath(args.config) if args.config else os.environ.get(config.ENV_CONFIG)

    async def serve() -> None:
        try:
            server = await ssh.start_server(args.host, args.port, host_key, keys, ssh.console_command(cfg_path))
        except ssh.SshSetupError as e:
            raise UsageError(str(e)) from None
        except OSError as e:
            raise UsageError(f"cannot listen on {args.host}:{args.port} ({e.strerror}); choose another --port") from None
        log = logging.getLogger("deskwatch.ssh")
        log.info("listening on %s:%d", args.host, server.sockets[0].getsockname()[1] if server.sockets else args.port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
            log.info("stopping: closing %d session(s)", len(ssh.SESSIONS))
        finally:
            await ssh.shutdown(server)
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        log.info("stopped")

    asyncio.run(serve())
    return 0
