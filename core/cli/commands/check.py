"""`deskwatch check [SOURCE]`: verify credentials and reachability of configured sources.

Builds each source's connector and awaits its ``check()``; prints one verdict per source with
the fix, and exits 1 if any source fails (2 for a configuration error).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import dataclass
from typing import Any, Callable

from deskwatch.core import config

from deskwatch.core.connect import plugins
from deskwatch.core.cli import UsageError
from deskwatch.core.connect.contract import AuthError, BadResponse, CheckResult, ConnectorError, RateLimited, TransientError
from deskwatch.core.connect.errors import Redirected, ResponseTooLarge
from deskwatch.core.connect.http import RetryPolicy, make_api_client, redact
from deskwatch.core.model.settings import ConfigError

# A check should answer in seconds: retry a little, never wait out a long Retry-After.
CHECK_RETRY = RetryPolicy(max_attempts=2, max_delay=5.0, max_total_wait=10.0, default_retry_after=5.0)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="verify credentials and reachability of sources", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", nargs="?", help="check only this source (default: every enabled source)")
    p.add_argument("--config", "-c", metavar="FILE", help="config file (default: $DESKWATCH_CONFIG or built-in defaults)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="give up on a source after this long (default: 30)")
    p.add_argument("--json", action="store_true", help="print JSON verdicts")
    plugins.add_strict_flag(p)
    p.set_defaults(func=run)


@dataclass(frozen=True)
class Verdict:
    source: str
    type: str
    ok: bool
    kind: str  # ok, auth, unreachable, rate_limited, bad_response, error
    message: str
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "type": self.type, "ok": self.ok, "verdict": self.kind,
                "message": self.message, "fix": self.fix}


LABELS = {"ok": "ok", "auth": "auth failed", "unreachable": "unreachable", "rate_limited": "rate limited",
          "bad_response": "unexpected response", "redirect": "redirected", "too_large": "response too large",
          "error": "failed"}


def _fix(kind: str, name: str) -> str:
    return {
        "auth": f"check the credentials in [sources.{name}] (and that the environment variables they name are set), "
                "and that the account has API access",
        "unreachable": f"check base_url in [sources.{name}], DNS and any proxy; the helpdesk may be down",
        "rate_limited": f"wait and try again; if it persists lower requests_per_minute or raise poll_interval in [sources.{name}]",
        "bad_response": f"check that base_url in [sources.{name}] points at the helpdesk's API, not its web UI",
        "redirect": f"set base_url in [sources.{name}] to the address the redirect names (often https, or the "
                    "account's own domain); deskwatch does not follow redirects with credentials",
        "too_large": f"raise max_response_bytes in [sources.{name}], or lower page_size",
        "error": "see the message; run with the same config under `deskwatch plugins` to check the connector loaded",
    }.get(kind, "")


def verdict_for(name: str, type_: str, result: CheckResult | BaseException) -> Verdict:
    """Turn a check result, or the exception a check raised, into a verdict with a fix."""
    if isinstance(result, CheckResult):
        kind = "ok" if result.ok else (result.kind if result.kind in LABELS else "error")
        message = result.message.removeprefix(f"{name}: ")
        return Verdict(name, type_, result.ok, kind, redact(message), "" if result.ok else _fix(kind, name))
    if isinstance(result, AuthError):
        kind = "auth"
    elif isinstance(result, RateLimited):
        kind = "rate_limited"
    elif isinstance(result, Redirected):
        kind = "redirect"
    elif isinstance(result, ResponseTooLarge):
        kind = "too_large"
    elif isinstance(result, (TransientError, asyncio.TimeoutError)):
        kind = "unreachable"
    elif isinstance(result, BadResponse):
        kind = "bad_response"
    else:
        kind = "error"
    if isinstance(result, ConnectorError):
        message = result.message
    elif isinstance(result, asyncio.TimeoutError):
        message = "no answer within the timeout"
    else:
        message = f"{type(result).__name__}: {result}"
    # Connector errors often carry the source name already; the verdict line shows it once.
    message = message.removeprefix(f"{name}: ")
    return Verdict(name, type_, False, kind, redact(message), _fix(kind, name))


def _check_factory(base_url: str, **kwargs: Any):
    policy = kwargs.get("retry") or RetryPolicy()
    kwargs["retry"] = RetryPolicy(
        max_attempts=min(policy.max_attempts, CHECK_RETRY.max_attempts), base_delay=policy.base_delay,
        max_delay=CHECK_RETRY.max_delay, max_total_wait=CHECK_RETRY.max_total_wait,
        default_retry_after=CHECK_RETRY.default_retry_after, jitter=policy.jitter,
    )
    return make_api_client(base_url, **kwargs)


async def check_sources(cfg: config.Config, names: list[str], *, manager: plugins.PluginManager,
                        timeout: float = 30.0, client_factory: Callable[..., Any] = _check_factory) -> list[Verdict]:
    """Check the named sources concurrently; one verdict per source, in the given order."""

    async def one(name: str) -> Verdict:
        source = cfg.sources[name]
        try:
            connector = manager.build_connector(source, client_factory=client_factory)
        except ConfigError:
            raise
        except Exception as e:  # noqa: BLE001 - a connector that cannot even be built fails its check
            return verdict_for(name, source.type, e)
        try:
            async with connector:
                result: CheckResult | BaseException = await asyncio.wait_for(connector.check(), timeout)
        except Exception as e:  # noqa: BLE001
            result = e
        return verdict_for(name, source.type, result)

    return list(await asyncio.gather(*(one(n) for n in names)))


def run(args: argparse.Namespace) -> int:
    cfg = config.load(args.config)
    manager = plugins.get_plugin_manager(cfg, strict=args.strict_plugins)
    if args.source:
        if args.source not in cfg.sources:
            known = ", ".join(sorted(cfg.sources)) or "none configured"
            raise UsageError(f"no source named {args.source!r} in {cfg.file} (sources: {known})")
        names = [args.source]
    else:
        names = [n for n, s in cfg.sources.items() if s.enabled]
        if not names:
            raise UsageError(f"no enabled sources in {cfg.file}; add a [sources.<name>] table (see `deskwatch init`)")
    for n in names:  # a settings error is a config error (exit 2), found before any network call
        manager.parse_source_settings(cfg.sources[n])
    verdicts = asyncio.run(check_sources(cfg, names, manager=manager, timeout=args.timeout))
    if args.json:
        print(json.dumps([v.as_dict() for v in verdicts], indent=2))
    else:
        width = max(len(v.source) for v in verdicts)
        for v in verdicts:
            print(f"{v.source:<{width}}  {v.type:<10}  {LABELS[v.kind]}: {v.message}")
            if v.fix:
                print(f"{'':<{width}}  {'':<10}  fix: {v.fix}")
    return 0 if all(v.ok for v in verdicts) else 1
