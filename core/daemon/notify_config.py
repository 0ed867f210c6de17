"""The ``[notify]`` config section: where notifications go, for which events, and when not.

Channels are Apprise URLs (Slack, Teams, e-mail, PagerDuty, Opsgenie, ntfy, Pushover, webhooks)
under the name of a team, a rotation or a person. Every URL is parsed here, so `deskwatch config
check` and the daemon both refuse one Apprise cannot read, naming its key. A URL holds secrets
(tokens, passwords): it is kept as a ``Secret`` and only ever shown in Apprise's privacy form.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from deskwatch.core.model.settings import ConfigError, Secret, Section, expand_env

EVENTS = ("page", "notify_step", "management", "sla_warning")
DEFAULTS = {
    "events": list(EVENTS),
    "max_attempts": 8,
    "poll_interval": 2.0,
    "channels": {},
    "quiet_hours": {"start": "", "end": "", "timezone": "UTC"},
}
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

# Apprise logs the URLs it cannot read, secrets and all: deskwatch collects what it needs from
# apprise's logger itself (notify_send.py) and keeps it out of the process's own logs.
logging.getLogger("apprise").propagate = False


@dataclass(frozen=True)
class Channel:
    """One Apprise URL: ``id`` is ``<name>[<i>]``, ``shown`` the URL with its secrets masked."""

    id: str
    name: str
    url: Secret = field(repr=False)
    shown: str


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    timezone: str

    def until(self, now: datetime) -> datetime | None:
        """The end of the quiet period ``now`` falls in, or None when ``now`` is not quiet."""
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        t = local.time().replace(tzinfo=None)
        day = local.date()
        if self.start < self.end:
            quiet, end_day = self.start <= t < self.end, day
        else:  # overnight, e.g. 22:00-07:00
            quiet = t >= self.start or t < self.end
            end_day = day + timedelta(days=1) if t >= self.start else day
        if not quiet:
            return None
        return datetime.combine(end_day, self.end, tzinfo=zone).astimezone(now.tzinfo)


@dataclass(frozen=True)
class NotifyConfig:
    events: tuple[str, ...] = EVENTS
    channels: tuple[Channel, ...] = ()
    quiet_hours: QuietHours | None = None
    max_attempts: int = 8
    poll_interval: float = 2.0

    def named(self, name: str) -> tuple[Channel, ...]:
        """The channels configured under ``name`` (a team, rotation or person), case-insensitive."""
        key = name.casefold()
        return tuple(c for c in self.channels if c.name.casefold() == key)

    def channel(self, channel_id: str) -> Channel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def due_at(self, event: str, now: datetime) -> datetime:
        """When a notification of ``event`` created at ``now`` may go: pages always at once,
        the rest after the quiet hours."""
        if event == "page" or self.quiet_hours is None:
            return now
        return self.quiet_hours.until(now) or now


def load_plugin(url: str):
    """The Apprise plugin for ``url``, or None when Apprise cannot read it."""
    import apprise

    try:
        return apprise.Apprise.instantiate(url)
    except Exception:  # hostile text must read as "cannot read", not a traceback
        return None


def shown(url: str) -> str:
    """``url`` with its secrets masked (Apprise's privacy form); never the URL itself."""
    plugin = load_plugin(url)
    if plugin is None:
        scheme = url.split("://", 1)[0] if "://" in url else ""
        return f"{scheme[:20]}://***" if scheme else "***"
    return plugin.url(privacy=True)


def redact(url: str, text: str) -> str:
    """``text`` with every part of ``url`` that its privacy form hides replaced by ***."""
    safe = shown(url)
    text = text.replace(url, safe)
    rest = url.split("://", 1)[-1]
    parts = {p for p in re.split(r"[/:@?&=#,]+", rest) if len(p) >= 3}
    for p in sorted(parts | {unquote(p) for p in parts}, key=len, reverse=True):
        if p not in safe:
            text = text.replace(p, "***")
    return text


def _url(s: Section, key: str, raw: object) -> Secret | None:
    if not isinstance(raw, str) or not raw.strip():
        raise s.error(key, 'expected an Apprise URL such as "slack://TokenA/TokenB/TokenC" or "json://host/path"')
    text = raw.strip()
    if "${" in text:
        try:
            value = expand_env(text, s, key)
        except ConfigError as e:
            if s.report is None or "not set" not in e.problem:
                raise
            s.report.warn(f"{e} (the daemon will not start without it)")
            return None
    else:
        value = text
    if load_plugin(value) is None:
        scheme = value.split("://", 1)[0] if "://" in value else None
        what = f"scheme {json.dumps(scheme[:20])}" if scheme else "no scheme://"
        raise s.error(key, f"not a URL Apprise can read ({what}); see https://github.com/caronc/apprise/wiki "
                           "for each service's URL form (the URL itself is not shown: it may hold secrets)")
    return Secret(value, source=shown(value))


def _channels(s: Section) -> tuple[Channel, ...]:
    out: list[Channel] = []
    for name in list(s.keys()):
        raw = s.raw(name)
        urls = [raw] if isinstance(raw, str) else raw
        if not isinstance(urls, list) or not urls:
            raise s.error(name, "expected an Apprise URL or a list of them")
        for i, u in enumerate(urls):
            try:
                secret = _url(s, f"{name}[{i}]", u)
            except ConfigError as e:
                if s.report is None:
                    raise
                s.report.add(e)  # and go on: `config check` names every bad URL
                continue
            if secret is not None:
                out.append(Channel(f"{name}[{i}]", name, secret, secret.source))
    return tuple(out)


def _clock(s: Section, name: str) -> time | None:
    text = s.string(name, "")
    if not text.strip():
        return None
    m = _HHMM.match(text.strip())
    if not m:
        raise s.error(name, f'expected a local time such as "22:00", got "{text[:20]}"')
    return time(int(m.group(1)), int(m.group(2)))


def _quiet(s: Section) -> QuietHours | None:
    start, end = _clock(s, "start"), _clock(s, "end")
    tz = s.string("timezone", "UTC")
    s.check_unknown(DEFAULTS["quiet_hours"])
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise s.error("timezone", f'unknown time zone "{tz[:40]}"; use an IANA name such as "Europe/Berlin"') from None
    if (start is None) != (end is None):
        raise s.error("start" if start is None else "end", "quiet hours need both start and end (or neither)")
    if start is None or start == end:
        return None
    return QuietHours(start, end, tz)  # type: ignore[arg-type]


def parse(s: Section) -> NotifyConfig:
    """The ``[notify]`` section; raises ConfigError naming the key of a bad value or URL."""
    d = DEFAULTS
    events = s.strings("events", tuple(d["events"]))
    for e in events:
        if e not in EVENTS:
            raise s.error("events", f'unknown event "{e[:30]}"; expected some of {", ".join(EVENTS)}')
    cfg = NotifyConfig(
        events=tuple(events),
        max_attempts=s.integer("max_attempts", d["max_attempts"], min=1, max=100),
        poll_interval=s.number("poll_interval", d["poll_interval"], min=0.05),
        channels=_channels(s.section("channels")),
        quiet_hours=_quiet(s.section("quiet_hours")),
    )
    s.check_unknown(d)
    return cfg
