"""Helpdesk HTML as the plain text a terminal can show.

Freshdesk notes and Zendesk HTML comments arrive as HTML (``<div>``, ``<br>``, ``&quot;``). The
console shows them through the model's converter (``deskwatch.core.model.htmltext``), with link
addresses kept so an agent can follow them; plain text goes through untouched.
"""

from __future__ import annotations

from deskwatch.core.model.htmltext import looks_like_html, readable

__all__ = ["looks_like_html", "one_line", "to_text"]


def to_text(text: str | None) -> str:
    """``text`` with HTML turned into plain text (one line per block, links with their address);
    plain text comes back unchanged."""
    return readable(text, links=True)


def one_line(text: str | None) -> str:
    """``to_text`` on one line (subjects, names, table cells)."""
    return " ".join(to_text(text).split())
