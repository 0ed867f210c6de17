"""How the overview draws `deskwatch report`'s figures and the failed helpdesk updates.

Only layout: the figures come computed from ``deskwatch.core.report`` (the same functions as
`deskwatch report`), the fix of a failed update from ``deskwatch status``'s own rule.
"""

from __future__ import annotations

from typing import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from deskwatch.core.report import Report
from deskwatch.core.report.render import sparkline, value_text
from deskwatch.tui import display

TRENDS = ("escalation rate", "false escalations", "SLA attainment")  # issue 15: where a trend matters


def figures(rep: Report, weeks: int) -> Table:
    """The headline figures, each with the number of tickets it rests on."""
    since = rep.since[:10] if rep.since else "the beginning"
    table = Table(box=None, padding=(0, 1), title=f"Report, last {weeks} weeks (since {since}): {rep.tickets} tickets",
                  title_justify="left", title_style="bold", caption="the same figures as deskwatch report --since " + since,
                  caption_justify="left", caption_style="bright_black")
    table.add_column("figure", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("n", justify="right", style="bright_black", no_wrap=True)
    for f in rep.figures:
        table.add_row(f.label, value_text(f.value, f.unit), f"n={f.n}")
    return table


def trends(rep: Report, names: Sequence[str] = TRENDS) -> Table:
    """Week by week: a sparkline (one block a week, a full block is 100%, as in `deskwatch
    report`), the latest week's value and the tickets behind it, and the tickets over all weeks."""
    table = Table(box=None, padding=(0, 1), title="Weekly trends (block per week; full = 100%)",
                  title_justify="left", title_style="bold")
    table.add_column("trend", no_wrap=True)
    table.add_column("weeks", no_wrap=True, style="cyan")
    table.add_column("latest", justify="right", no_wrap=True)
    table.add_column("n latest", justify="right", style="bright_black", no_wrap=True)
    table.add_column("n all", justify="right", style="bright_black", no_wrap=True)
    for name in names:
        points = rep.trends.get(name) or []
        if not points:
            table.add_row(name, Text("no data", style="bright_black"), "", "", "")
            continue
        last = points[-1]
        table.add_row(name, sparkline([p.value for p in points]), value_text(last.value, "%"),
                      f"n={last.n}", f"n={sum(p.n for p in points)}")
    return table


def sla_and_pages(rep: Report, limit: int = 4) -> Group:
    """SLA attainment per policy and target, and the alarm load of the busiest on-call people."""
    lines = [Text("SLA attainment", style="bold")]
    for p in rep.sla[:limit]:
        lines.append(Text(f"  {display.clip(p.label, 34):<34} {value_text(p.value, '%'):>7}  n={p.n}"))
    if not rep.sla:
        lines.append(Text("  no SLA targets tracked", style="bright_black"))
    lines.append(Text("Pages outside business hours", style="bold"))
    for row in sorted(rep.pages, key=lambda r: -r["pages"])[:limit]:
        lines.append(Text(f"  {display.clip(row['person'], 24):<24} {row['pages']:>3} pages, {row['per_night']:g}/night, "
                          f"worst {row['worst_night']} ({row['worst_night_date']})"))
    if not rep.pages:
        lines.append(Text("  no pages", style="bright_black"))
    return Group(*lines)


def no_report(reason: str) -> Text:
    return Text(f"Report: {reason}", style="bright_black")


def what_changed(update) -> str:
    """A queued helpdesk update in a few words ("group platform; tags +escalated")."""
    bits = []
    for name in ("priority", "group", "assignee", "status"):
        if getattr(update, name, None):
            bits.append(f"{name} {getattr(update, name)}")
    if update.tags_add:
        bits.append("tags +" + ",".join(update.tags_add))
    if update.private_note:
        bits.append("note: " + display.clip((display.to_text(update.private_note).splitlines() or [""])[0], 30))
    return "; ".join(bits) or "update"


def failed_item(item, fix: str, width: int = 70) -> Text:
    """One failed update: ticket, what it changes, whether it will be tried again, why, and the fix."""
    when = "gave up" if item.retry_at is None else f"retry at {item.retry_at:%H:%M}Z"
    text = Text.assemble((f"{item.ticket_id}", "bold"), f"  {display.clip(what_changed(item.update), 36)}  ",
                         (f"{when} after {item.attempts} attempt(s)", "red" if item.retry_at is None else "yellow"))
    text.append("\n  " + display.clip(display.one_line(item.error or "unknown error"), width), style="red")
    text.append("\n  fix: " + fix, style="bright_black")
    return text


def failed(items: list, given_up: int, retrying: int, fix_of, limit: int = 3, key: str = "u") -> Group:
    """How many updates failed (given up, and failed but to be tried again), the latest with
    their reason and fix."""
    if not given_up and not retrying:
        return Group(Text.assemble(("Failed updates  ", "bold"), ("none", "green")))
    head = Text.assemble(("Failed updates  ", "bold"), (f"{given_up} given up", "bold red" if given_up else "green"),
                         f", {retrying} to be retried", (f"   {key}: list, retry", "bright_black"))
    return Group(head, *[failed_item(i, fix_of(i.error or "")) for i in items[:limit]])

