"""The report as a table (with small text charts for the trends), JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from typing import Sequence

from deskwatch.core.report.metrics import Figure, Point, Report

SPARKS = "▁▂▃▄▅▆▇█"
BAR = 20


def sparkline(values: Sequence[float | None], top: float = 100.0) -> str:
    """One block per value, its height against ``top``; a gap (space) where there is no value."""
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        else:
            i = int(round((len(SPARKS) - 1) * max(0.0, min(1.0, v / top)))) if top > 0 else 0
            out.append(SPARKS[i])
    return "".join(out)


def bar(value: float | None, top: float = 100.0) -> str:
    if value is None:
        return " " * BAR
    filled = int(round(BAR * max(0.0, min(1.0, value / top)))) if top > 0 else 0
    return "█" * filled + "·" * (BAR - filled)


def value_text(value: float | None, unit: str) -> str:
    """A figure as `deskwatch report` prints it ("44.4%", "12", "3.5 h", "n/a"); the console shows the same."""
    if value is None:
        return "n/a"
    if unit == "count":
        return f"{value:.0f}"
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:g} {unit}"


def _figure_line(f: Figure) -> str:
    return f"  {f.label:<42} {value_text(f.value, f.unit):>12}   n={f.n}"


def table(rep: Report) -> str:
    out = io.StringIO()
    period = f"{rep.since or 'the beginning'} to {rep.until or 'now'}"
    out.write(f"deskwatch report: tickets created from {period}: {rep.tickets} tickets\n\n")
    for f in rep.figures:
        out.write(_figure_line(f) + "\n")
    out.write("\nTrends by week (one block a week, full block = 100%)\n")
    for name, points in rep.trends.items():
        if not points:
            out.write(f"  {name:<24} (no data)\n")
            continue
        last = points[-1]
        out.write(f"  {name:<24} {sparkline([p.value for p in points])}  "
                  f"{points[0].label} .. {last.label}, latest {value_text(last.value, '%')} (n={last.n})\n")
    for name, points in rep.breakdowns.items():
        out.write(f"\n{name.capitalize()}\n")
        for p in points:
            out.write(f"  {p.label:<24} {bar(p.value)} {value_text(p.value, '%'):>7}   n={p.n}\n")
    out.write("\nSLA attainment (targets never found breached / targets tracked)\n")
    if not rep.sla:
        out.write("  (no SLA targets tracked)\n")
    for p in rep.sla:
        out.write(f"  {p.label:<38} {bar(p.value)} {value_text(p.value, '%'):>7}   n={p.n}\n")
    out.write("\nAlarm load: pages outside business hours, per on-call person\n")
    if not rep.pages:
        out.write("  (no pages)\n")
    for row in rep.pages:
        out.write(f"  {row['person']:<24} {row['pages']:>4} pages over {row['nights']} night(s), "
                  f"{row['per_night']:g} per night, worst {row['worst_night']} ({row['worst_night_date']})\n")
    if rep.groups:
        dim = next(iter(rep.groups[0]))
        out.write(f"\nBy {dim}\n")
        cols = ["tickets", "escalation_rate", "false_escalation_rate", "misses", "routing_accuracy", "sla_attainment"]
        heads = ("tickets", "escalated", "false esc.", "misses", "routing ok", "SLA met")
        out.write(f"  {dim:<20} " + " ".join(f"{h:>14}" for h in heads) + "\n")
        for row in rep.groups:
            cells = [str(row["tickets"])] + [value_text(row[c], "%") for c in cols[1:]]
            out.write(f"  {str(row[dim]):<20} " + " ".join(f"{c:>14}" for c in cells) + "\n")
    return out.getvalue()


def as_dict(rep: Report) -> dict:
    return {
        "since": rep.since, "until": rep.until, "tickets": rep.tickets,
        "figures": {f.key: asdict(f) for f in rep.figures},
        "breakdowns": {k: [asdict(p) for p in v] for k, v in rep.breakdowns.items()},
        "trends": {k: [asdict(p) for p in v] for k, v in rep.trends.items()},
        "sla": [asdict(p) for p in rep.sla],
        "pages": rep.pages,
        "groups": rep.groups,
    }


def to_json(rep: Report) -> str:
    return json.dumps(as_dict(rep), indent=2, ensure_ascii=False) + "\n"


def to_csv(rep: Report) -> str:
    """One row per value: section, name, group, value, unit, n (easy to load in a spreadsheet)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "figure", "group", "value", "unit", "n"])
    for f in rep.figures:
        w.writerow(["figure", f.key, "", "" if f.value is None else f.value, f.unit, f.n])
    for section, points in (*(("breakdown", (k, v)) for k, v in rep.breakdowns.items()),
                            *(("trend", (k, v)) for k, v in rep.trends.items()), ("sla", ("SLA attainment", rep.sla))):
        name, pts = points
        for p in pts:
            w.writerow([section, name, p.label, "" if p.value is None else p.value, "%", p.n])
    for row in rep.pages:
        w.writerow(["pages", "pages per night", row["person"], row["per_night"], "per night", row["pages"]])
    for row in rep.groups:
        dim = next(iter(row))
        for k, v in row.items():
            if k not in (dim, "tickets"):
                w.writerow(["group", k, row[dim], "" if v is None else v, "%" if k != "escalated" else "count", row["tickets"]])
    return buf.getvalue()


__all__ = ["Point", "sparkline", "bar", "table", "to_json", "to_csv", "as_dict"]
