"""Helpdesk HTML as the plain text a terminal can show.

Freshdesk notes and Zendesk HTML comments arrive as HTML (``<div>``, ``<br>``, ``&quot;``). The
console shows them as text: block tags become line breaks, list items get a dash, links keep their
address, scripts and styles are dropped and entities are decoded. Stdlib only (``html.parser``);
the console does not import connector code, so it has its own small converter.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

BLOCK = {"p", "div", "br", "tr", "li", "ul", "ol", "table", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "section", "article", "header", "footer"}
SKIP = {"script", "style", "head", "title"}
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")


def looks_like_html(text: str) -> bool:
    """Whether ``text`` holds a tag or an entity (plain text goes through untouched)."""
    return bool(text) and (("<" in text and _TAG.search(text) is not None) or ("&" in text and _ENTITY.search(text) is not None))


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.href: list[str | None] = []

    def _newline(self) -> None:
        if self.out and not self.out[-1].endswith("\n"):
            self.out.append("\n")

    def handle_starttag(self, tag, attrs) -> None:
        if tag in SKIP:
            self.skip += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag in BLOCK:
            self._newline()
            if tag == "li":
                self.out.append("- ")
        elif tag == "a":
            self.href.append(dict(attrs).get("href"))

    def handle_startendtag(self, tag, attrs) -> None:
        if tag == "br" or tag == "hr":
            self.out.append("\n")

    def handle_endtag(self, tag) -> None:
        if tag in SKIP:
            self.skip = max(self.skip - 1, 0)
        elif tag in BLOCK and tag != "br":
            self._newline()
        elif tag == "a" and self.href:
            href = self.href.pop()
            if href and href.startswith(("http://", "https://", "mailto:")) and href.removeprefix("mailto:") not in "".join(self.out[-3:]):
                self.out.append(f" ({href})")

    def handle_data(self, data) -> None:
        if not self.skip:
            self.out.append(data)


def to_text(text: str | None) -> str:
    """``text`` with HTML turned into plain text (lines kept, runs of blank lines squeezed);
    plain text comes back unchanged."""
    if not text:
        return text or ""
    if not looks_like_html(text):
        return text
    if _TAG.search(text) is None:
        return html.unescape(text)  # only entities: "&quot;Down&quot;"
    parser = _Text()
    parser.feed(text)
    parser.close()
    lines = [" ".join(line.replace("\xa0", " ").split()) for line in "".join(parser.out).splitlines()]
    squeezed: list[str] = []
    for line in lines:
        if line or (squeezed and squeezed[-1]):
            squeezed.append(line)
    return "\n".join(squeezed).strip()


def one_line(text: str | None) -> str:
    """``to_text`` on one line (subjects, names, table cells)."""
    return " ".join(to_text(text).split())
