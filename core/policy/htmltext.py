"""Readable text from helpdesk HTML bodies (Freshdesk, Zendesk's html_body), stdlib only.

A body is analysed and quoted as text: ``<div>Hi&nbsp;team</div>`` must not reach a person (or
the engine's phrase matching) as markup or entities. Block tags become line breaks, list items
get a dash, scripts and styles are dropped, and quoted earlier mails (``<blockquote>``, Gmail's
and Freshdesk's quote containers) are left out unless asked for, because they repeat what
someone else wrote earlier.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = frozenset({
    "p", "div", "br", "li", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr", "section", "article",
})
_SKIP = frozenset({"script", "style", "head", "title"})
_QUOTE_CLASSES = ("gmail_quote", "freshdesk_quote", "zendesk_quote", "yahoo_quoted", "moz-cite-prefix")
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "wbr", "col", "area", "base", "source"})
# Only bodies with a real tag or an entity are parsed: plain text with "a < b" stays as written.
_LOOKS_HTML = re.compile(r"</?(?:p|div|br|span|a|b|i|u|ul|ol|li|table|tr|td|blockquote|strong|em|h[1-6]|pre|font|img|hr)(?:\s[^<>]*)?/?>|&(?:#\d+|#x[0-9a-f]+|[a-z]+);", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0\u200b]+")


def looks_like_html(body: str) -> bool:
    """True when ``body`` carries HTML tags or entities (and so needs ``html_to_text``)."""
    return bool(body) and _LOOKS_HTML.search(body) is not None


class _TextParser(HTMLParser):
    def __init__(self, keep_quotes: bool):
        super().__init__(convert_charrefs=True)
        self.keep_quotes = keep_quotes
        self.parts: list[str] = []
        self._skip_depth = 0  # inside script/style or a dropped quote
        self._stack: list[tuple[str, bool]] = []  # (tag, opened a skipped region)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = " ".join(v or "" for k, v in attrs if k == "class")
        skip = tag in _SKIP or (not self.keep_quotes and (tag == "blockquote" or any(c in classes for c in _QUOTE_CLASSES)))
        if tag in _BLOCK:
            self.parts.append("\n")
        if tag == "li" and not self._skip_depth:
            self.parts.append("- ")
        if tag in _VOID:
            return
        self._stack.append((tag, skip))
        if skip:
            self._skip_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")
        # Browsers forgive unclosed tags; close everything opened since the matching start tag.
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                for _, skipped in self._stack[i:]:
                    if skipped:
                        self._skip_depth -= 1
                del self._stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(body: str, *, keep_quotes: bool = False) -> str:
    """Plain text of an HTML body: one line per block, entities decoded, no blank-line runs.

    >>> html_to_text("<div>It&#x27;s <b>still</b> down</div><div><br></div><p>Order 42</p>")
    "It's still down\\nOrder 42"
    """
    if not body:
        return ""
    parser = _TextParser(keep_quotes)
    parser.feed(body)
    parser.close()
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(parser.parts).splitlines()]
    return "\n".join(line for line in lines if line)


def readable(body: str) -> str:
    """``body`` as text: HTML is converted, plain text is returned as it is."""
    return html_to_text(body) if looks_like_html(body) else (body or "")


# A sentence ends at . ! ? (closing quotes and brackets stay with it) when the next word starts
# like a new sentence, and at every line break. "e.g. this" does not cut; "Dr. Smith" does,
# which is harmless for quoting a few sentences.
_SENTENCE = re.compile(r"\S.*?(?:[.!?]+[\"'\u201d\u2019)\]]*(?=\s+[\"'\u201c\u2018(\[]?[A-Z0-9\u00c0-\u024f])|$)", re.MULTILINE)


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (lines count as sentence ends), stripped, empty ones dropped."""
    return [m.group(0).strip() for m in _SENTENCE.finditer(text or "") if m.group(0).strip()]


def first_sentences(text: str, count: int = 2, max_chars: int = 240) -> str:
    """The first ``count`` sentences of ``text``, cut at a word with an ellipsis past ``max_chars``."""
    out = " ".join(sentences(text)[:count])
    if len(out) > max_chars:
        out = out[: max_chars - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return out


# A quoted earlier mail starts here; kept short on purpose (the engine's ``new_text`` knows many
# more clients and sign-offs, and callers that may import the engine pass it in instead).
_QUOTED_FROM = re.compile(
    r"^[ \t]*(?:On\b[^\n]{0,200}?\bwrote:[ \t]*$|-{2,}[ \t]*(?:Original|Forwarded) Message|From:[^\n]*\n[ \t]*(?:Sent|Date|To):)",
    re.MULTILINE | re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^(?:--[ \t]*$|Sent from my [^\n]*$)", re.MULTILINE | re.IGNORECASE)


def strip_quoted(text: str) -> str:
    """``text`` without a quoted earlier mail ("On ... wrote:", "> " lines) or a "-- " signature."""
    if not text:
        return ""
    for pattern in (_QUOTED_FROM, _SIGNATURE):
        m = pattern.search(text)
        if m:
            text = text[: m.start()]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">")).strip()
