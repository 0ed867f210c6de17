"""HTML helpdesk bodies to plain text, and plain text to a minimal HTML note.

``html_to_text`` is the model's converter (``deskwatch.core.model.htmltext``), re-exported here
so that connectors find it in the kit; ``text_to_html`` is the way back, for APIs that take HTML.
"""

from __future__ import annotations

import html

from deskwatch.core.model.htmltext import html_to_text

__all__ = ["html_to_text", "text_to_html"]


def text_to_html(text: str, *extra_lines: str) -> str:
    """A plain-text note as HTML for an API that takes HTML bodies: each line escaped, lines
    joined by ``<br>``, ``extra_lines`` (e.g. a marker line) after a blank line."""
    lines = [html.escape(line) for line in text.splitlines()]
    if extra_lines:
        lines += ["", *(html.escape(line) for line in extra_lines)]
    return "<div>" + "<br>".join(lines) + "</div>"
