"""Escalation metrics over the store: what `deskwatch report` prints (docs/report.md)."""

from deskwatch.core.report.data import Period, TicketFacts, load, store_has_history
from deskwatch.core.report.metrics import GROUPINGS, Figure, Point, Report, build
from deskwatch.core.report.recent import recent

__all__ = ["GROUPINGS", "Figure", "Period", "Point", "Report", "TicketFacts", "build", "load", "recent", "render_text", "store_has_history"]


def render_text(report: Report, fmt: str) -> str:
    """The report in ``fmt``: table, json or csv."""
    from deskwatch.core.report import render

    return {"table": render.table, "json": render.to_json, "csv": render.to_csv}[fmt](report)
