"""Scheduled re-learning for the daemon (``[learn] schedule``).

Training runs in a child process (``deskwatch learn --json`` on the same config), so the
daemon's event loop and its syncing never wait on it, and a crash in training cannot take the
daemon down. The child applies the same activation gate as a person running the command; the
decider picks up a newly activated version on its next page (core/learn/load.ActiveModels).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Awaitable, Callable, Sequence

log = logging.getLogger("deskwatch.learn")


def learn_command(config_file: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "deskwatch.core.cli", "learn", "--json"]
    if config_file and config_file != "(defaults)":
        cmd += ["--config", config_file]
    return cmd


async def relearn_once(cmd: Sequence[str]) -> dict | None:
    """Run one training in a child process; its JSON report, or None when it failed."""
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode not in (0, 1):
        log.warning("scheduled learning failed", extra={"error": err.decode(errors="replace").strip()[-300:]})
        return None
    try:
        report = json.loads(out or b"{}")
    except json.JSONDecodeError:
        log.warning("scheduled learning printed no report")
        return None
    for m in report.get("models", []):
        log.info("learned", extra={"state": f"{m['kind']} version {m['version']} "
                                            f"{'activated' if m['active'] else 'kept inactive'}, "
                                            f"accuracy {m['figures']['test']['accuracy']}"})
    return report


async def relearn_loop(interval: float, cmd: Sequence[str], wait: Callable[[float], Awaitable[bool]]) -> None:
    """Every ``interval`` seconds until ``wait`` says the daemon is stopping."""
    while not await wait(interval):
        try:
            await relearn_once(cmd)
        except Exception:
            log.exception("scheduled learning failed")
