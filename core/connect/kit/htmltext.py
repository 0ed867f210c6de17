"""HTML helpdesk bodies to plain text, and plain text to a minimal HTML note.

Freshdesk ``description``/``body``, Zendesk ``html_body`` and Salesforce ``HtmlBody`` carry
HTML where deskwatch wants the words a person wrote: scoring reads sentences, and the console
shows text. Built on the standard library's ``html.parser`` (lenient with broken markup).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Tags whose start or end begins a new line of text.
BLOCK_TAGS = frozenset(
    {"p", "div", "li", "ul", "ol", "tr", "table", "blockquote", "pre", "section", "article", "header",
     "footer", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "dd", "dt", "dl"}
)
# Tags whose content is not text for a reader.
DROPPED_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript"})
_SPACES = re.compile(r"[ \t\r\f\v]+")  # a non-breaking space (&nbsp;) is kept: it is what was written


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in DROPPED_TAGS:
            self.dropping += 1
        elif tag == "br" or tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag == "br" or tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_TAGS:
            self.dropping = max(0, self.dropping - 1)
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.parts.append(data)


def html_to_text(body: str) -> str:
    """Plain text of an HTML body: entities unescaped, ``<br>`` and block tags (p, div, li,
    headings, table rows …) as line breaks, scripts and styles dropped, runs of spaces folded
    and blank lines removed."""
    parser = _TextParser()
    parser.feed(body)
    parser.close()
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def text_to_html(text: str, *extra_lines: str) -> str:
    """A plain-text note as HTML for an API that takes HTML bodies: each line escaped, lines
    joined by ``<br>``, ``extra_lines`` (e.g. a marker line) after a blank line."""
    lines = [html.escape(line) for line in text.splitlines()]
    if extra_lines:
        lines += ["", *(html.escape(line) for line in extra_lines)]
    return "<div>" + "<br>".join(lines) + "</div>"
