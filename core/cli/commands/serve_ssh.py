"""`deskwatch serve-ssh`: serve the console over SSH, one console process per session.

    deskwatch serve-ssh [--config FILE] [--host ADDR] [--port P] [--authorized-keys FILE] [--host-key FILE]

Public keys only: each line of the authorized keys file is an OpenSSH public key whose comment
names the engineer (the actor recorded in the audit log). Users connect with ``ssh -p P host``;
``ssh -C`` (compression, which the server offers) cuts the bandwidth by 20x.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from pathlib import Path

from deskwatch.core import config

DEFAULT_KEYS = "~/.config/deskwatch/authorized_keys"
DEFAULT_HOST_KEY = "~/.config/deskwatch/ssh_host_ed25519_key"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve-ssh", help="serve the console over SSH (public keys only)", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", "-c", metavar="FILE", help="config file the sessions use (default: $DESKWATCH_CONFIG or built-in defaults)")
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default: 0.0.0.0)")
    p.add_argument("--port", type=int, default=2222, help="port to listen on (default: 2222)")
    p.add_argument("--authorized-keys", default=DEFAULT_KEYS, metavar="FILE", help=f"allowed public keys (default: {DEFAULT_KEYS})")
    p.add_argument("--host-key", default=DEFAULT_HOST_KEY, metavar="FILE", help=f"server key, created if missing (default: {DEFAULT_HOST_KEY})")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from deskwatch.core.cli import UsageError

    try:
        from deskwatch.tui import ssh
    except ImportError as e:
        if "asyncssh" not in str(e):
            raise
        raise UsageError("serve-ssh needs the ssh extra: pip install 'deskwatch[ssh]' (installs asyncssh)") from None

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
        logging.getLogger("deskwatch.ssh").info("listening on %s:%d", args.host, args.port)
        try:
            await server.wait_closed()
        finally:
            server.close()

    asyncio.run(serve())
    return 0
