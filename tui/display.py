"""How values look in the console: short, fixed-width texts and ANSI-named styles.

Pure functions (time is passed in). Colours that carry meaning use the terminal's own ANSI
palette (``red``, ``yellow``...), so they keep their meaning on 16-colour terminals and over SSH
(see ../shared/TUI-NOTES.md §1.2); hex colours would be remapped to misleading ones.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from rich.text import Text

from deskwatch.core.store import QueueRow
from deskwatch.tui.htmltext import one_line, to_text  # noqa: F401 (to_text: re-exported for the screens)

URGENCY = {  # recommendation -> (label, style)
    "immediate": ("IMM", "bold white on red"),
    "priority": ("PRI", "bold yellow"),
    "monitor": ("MON", "cyan"),
    "none": ("-", "bright_black"),
    None: ("?", "bright_black"),
}
SLA_STYLE = {"breached": "bold red", "warning": "yellow", "ok": "green", "paused": "bright_black", "met": "bright_black"}
OUTBOX_STYLE = {"applied": "green", "failed": "bold red", "sending": "yellow", "pending": "yellow"}


def duration(seconds: float) -> str:
    """A compact duration: 45s, 12m, 3h, 2d (rounded down), at most 4 characters."""
    s = int(abs(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400 * 2:
        return f"{s // 3600}h"
    return f"{min(s // 86400, 999)}d"


def countdown(due: datetime | None, now: datetime) -> str:
    """Time left until ``due`` ("45m"), or how long ago it passed ("-12m"); "" when no target."""
    if due is None:
        return ""
    left = (due - now).total_seconds()
    return duration(left) if left >= 0 else "-" + duration(left)


def sla_cell(row: QueueRow, now: datetime) -> Text:
    """Time left on the SLA ("45m", "-12m" once breached); "paused" while the clock is stopped."""
    state = row.sla_state
    if state == "paused":
        return Text("paused", style=SLA_STYLE["paused"], justify="right")
    text = countdown(row.sla_due_at, now)
    if row.sla_due_at is not None and row.sla_due_at <= now and state not in ("met", "paused"):
        state = "breached"  # the daemon may not have re-decided yet; the clock already says so
    return Text(text, style=SLA_STYLE.get(state or "", ""), justify="right")


def urgency_cell(row: QueueRow, now: datetime | None = None) -> Text:
    """The recommendation; lower case once someone acknowledged it, dimmed while snoozed."""
    label, style = URGENCY.get(row.recommendation, URGENCY[None])
    if row.acknowledged:
        label, style = label.lower(), "bright_black"  # someone has it: no longer shouting
    elif now is not None and row.snoozed_until is not None and row.snoozed_until > now:
        style = "italic bright_black"
    return Text(label, style=style)


HOLD_MARK = {"override": ("o", "bold magenta"), "escalate": ("h", "bold magenta")}
ATTENTION_MARK = {"page": ("PAGED ", "bold white on red"), "management": ("MGMT ", "bold yellow")}


def subject_cell(row: QueueRow) -> Text:
    """The subject, led by PAGED (someone was interrupted) or MGMT (managers need to know)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if getattr(row, "attention", None) in ATTENTION_MARK:
        text.append(*ATTENTION_MARK[row.attention])
    text.append(one_line(row.subject))
    return text


def hold_cell(row: QueueRow, now: datetime) -> Text:
    """What keeps the engine from moving the ticket: z snoozed, o its recommendation overridden,
    h escalated by hand (both hold until the engine finds something new)."""
    text = Text()
    if row.snoozed_until is not None and row.snoozed_until > now:
        text.append("z", style="bold cyan")
    if row.hold in HOLD_MARK:
        text.append(*HOLD_MARK[row.hold])
    return text


def short_id(ticket_id: str) -> str:
    """``zendesk:123`` as ``zd:123`` (the source abbreviated, the helpdesk's own id kept)."""
    source, sep, rest = ticket_id.partition(":")
    return f"{SOURCE_ABBR.get(source, source)}{sep}{rest}" if sep else ticket_id


def long_id(text: str, sources: tuple[str, ...] = ()) -> list[str]:
    """The ticket ids ``text`` may mean: itself, ``zd:123`` spelled out, or a bare ``123`` in
    each source (for "/" to find a ticket by its id)."""
    text = text.strip()
    if not text or " " in text:
        return []
    source, sep, rest = text.partition(":")
    if sep:
        full = {v: k for k, v in SOURCE_ABBR.items()}.get(source.lower(), source.lower())
        return list(dict.fromkeys([text, f"{full}:{rest}"]))
    return [f"{s}:{text}" for s in sources] if text.isalnum() and any(ch.isdigit() for ch in text) else []


def money(value: float | None) -> str:
    """Account value: 950, 48k, 1.2M; nothing when unknown or zero."""
    if not value:
        return ""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M".replace(".0M", "M")
    if value >= 1000:
        return f"{value / 1000:.0f}k"
    return f"{value:.0f}"


SOURCE_ABBR = {"zendesk": "zd", "freshdesk": "fd", "salesforce": "sf"}
CHANNEL_ABBR = {"email": "mail", "chat": "chat", "phone": "tel", "web": "web", "social": "soc", "api": "api", "other": "oth"}


def source_channel(row: QueueRow) -> str:
    return f"{SOURCE_ABBR.get(row.source, row.source[:4])}/{CHANNEL_ABBR.get(row.channel, row.channel[:4])}"


def customer(row: QueueRow, width: int) -> Text:
    """Organization (else person, else e-mail) cut to fit, then the account value dimmed."""
    who = row.organization or row.customer_name or row.customer_email or ""
    value = money(row.annual_value)
    room = width - (len(value) + 1 if value else 0)
    text = Text(clip(who, max(room, 1)))
    if value:
        text.append(" " + value, style="bright_black")
    return text


def clip(text: str, width: int) -> str:
    """``text`` on one line (helpdesk HTML as text), cut to ``width`` with a "~"."""
    text = one_line(text)
    return text if len(text) <= width else text[: max(width - 1, 0)] + "~"


def span(delta: timedelta) -> str:
    """A configured span as people write it: 7d, 36h, 90m."""
    minutes = int(delta.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def age(created: datetime, now: datetime) -> str:
    return duration((now - created).total_seconds())


DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")


def parse_until(text: str, now: datetime) -> datetime:
    """A snooze time as people type it: "30m", "2h", "1d", or an ISO 8601 time (UTC if no zone).
    Raises ValueError naming the accepted forms."""
    from deskwatch.core.model.timeutil import parse_time

    m = DURATION.match(text or "")
    if m:
        n, unit = int(m.group(1)), m.group(2)
        return now + timedelta(minutes=n) * {"m": 1, "h": 60, "d": 1440}[unit]
    try:
        return parse_time(text.strip())
    except (ValueError, TypeError):
        raise ValueError(f"cannot read {text!r} as a time; type 30m, 2h, 1d or e.g. 2026-11-24T09:00Z") from None


def highlight(body: str, evidence: list[str] | tuple[str, ...]) -> Text:
    """``body`` with every occurrence of the evidence words (case-insensitive) highlighted."""
    text = Text(body)
    for word in sorted({e for e in evidence if e and e.strip()}, key=len, reverse=True):
        text.highlight_regex(re.compile(re.escape(word), re.IGNORECASE), style="bold black on yellow")
    return text


def bar(value: float, top: float, width: int) -> str:
    """A horizontal bar of ``value`` out of ``top`` in ``width`` cells (eighths for precision)."""
    if top <= 0 or value <= 0:
        return ""
    eighths = round(min(value / top, 1.0) * width * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + ("" if not rest else " ▏▎▍▌▋▊▉"[rest])
