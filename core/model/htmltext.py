"""A message body's readable text: helpdesk HTML turned into the words a person wrote (stdlib only).

Freshdesk ``description``/``body``, Zendesk ``html_body`` and Salesforce ``HtmlBody`` carry HTML
where deskwatch wants text: connectors store it, the engine and the brief read sentences, the
console shows it. This is the one converter all of them use, so one body reads the same
everywhere. Built on ``html.parser`` (lenient with broken markup, the way browsers are).

What a reader gets: entities decoded; ``<br>`` and block tags (p, div, headings, table rows …) as
line breaks, list items as ``- `` lines, table cells apart by a space; scripts, styles and the
document head dropped; any run of spaces (``&nbsp;`` included) as one space, zero-width spaces
removed, no blank lines. Line breaks inside the HTML source are spaces, as a browser shows them
(except in ``<pre>``); a body with no tag at all is text, and its line breaks are kept.
Two choices are left to callers: quoted earlier mails (``<blockquote>``, Gmail's and the
helpdesks' quote containers) are kept unless ``keep_quotes=False``, and link addresses are added
after the link text only with ``links=True``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Tags whose start or end begins a new line of text.
BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "caption", "center", "dd", "details", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "legend", "li", "main",
    "nav", "ol", "p", "pre", "section", "summary", "table", "tr", "ul",
})
# Tags whose content is not text for a reader.
DROPPED_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript"})
# Containers mail clients and helpdesks put an earlier, quoted mail in.
QUOTE_CLASSES = ("gmail_quote", "freshdesk_quote", "zendesk_quote", "yahoo_quoted", "moz-cite-prefix")
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})
_CELLS = frozenset({"td", "th"})
_BULLET = "\ue000"  # marks a list item's start until lines are cut (private use: never real text)

# Only a body with a known tag or an entity counts as HTML: plain text with "a < b" or "<Enter>"
# stays as written.
_LOOKS_HTML = re.compile(
    r"</?(?:p|div|br|span|a|b|i|u|s|ul|ol|li|table|tbody|thead|tr|td|th|blockquote|strong|em|h[1-6]|pre|code|font"
    r"|img|hr|html|body|head|style|script|center|section|article|header|footer|small|sup|sub)(?:\s[^<>]*)?/?>"
    r"|<!--|&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);",
    re.IGNORECASE,
)
_ANY_TAG = re.compile(r"<[a-zA-Z/!][^<>]*>")
_LINK_SCHEMES = ("http://", "https://", "mailto:")


def looks_like_html(body: str | None) -> bool:
    """True when ``body`` carries HTML tags or entities (and so needs ``html_to_text``)."""
    return bool(body) and _LOOKS_HTML.search(body) is not None


class _TextParser(HTMLParser):
    def __init__(self, *, keep_quotes: bool, links: bool, markup: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.keep_quotes = keep_quotes
        self.links = links
        self.markup = markup  # False: a tagless body, whose own line breaks are the writer's
        self.parts: list[str] = []
        self.skip_depth = 0  # inside a dropped tag or a dropped quote
        self.pre_depth = 0
        self.stack: list[tuple[str, bool, str | None]] = []  # (tag, opened a skipped region, link address)

    def _skipped(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag in DROPPED_TAGS:
            return True
        if self.keep_quotes:
            return False
        classes = " ".join(v or "" for k, v in attrs if k == "class")
        return tag == "blockquote" or any(c in classes for c in QUOTE_CLASSES)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" or tag in BLOCK_TAGS:
            self.parts.append("\n")
        if tag == "li" and not self.skip_depth:
            self.parts.append(_BULLET)
        elif tag in _CELLS:
            self.parts.append(" ")
        if tag in _VOID:
            return
        skip = self._skipped(tag, attrs)
        href = dict(attrs).get("href") if tag == "a" and self.links else None
        self.stack.append((tag, skip, href))
        self.skip_depth += skip
        self.pre_depth += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCK_TAGS:
            self.parts.append("\n")
        # Browsers forgive unclosed tags: an end tag closes everything opened since its start tag.
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                for name, skipped, href in reversed(self.stack[i:]):
                    self.skip_depth -= skipped
                    self.pre_depth -= name == "pre"
                    if href and not self.skip_depth:
                        self._link(href)
                del self.stack[i:]
                break

    def _link(self, href: str) -> None:
        # The address only when the reader cannot see it already ("mailto:a@b" shown as "a@b").
        if href.startswith(_LINK_SCHEMES) and href.removeprefix("mailto:") not in "".join(self.parts[-3:]):
            self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.markup and not self.pre_depth:
            data = " ".join(data.splitlines())  # a line break in HTML source shows as a space
        self.parts.append(data.replace(_BULLET, ""))


def html_to_text(body: str | None, *, keep_quotes: bool = True, links: bool = False) -> str:
    """Plain text of an HTML body: one line per block, entities decoded, spaces folded, no blank lines.

    ``keep_quotes=False`` leaves out quoted earlier mails (they repeat what someone wrote before);
    ``links=True`` adds a link's address after its text when the text does not show it.

    >>> html_to_text("<div>It&#x27;s <b>still</b>&nbsp;down</div><div><br></div><ul><li>Order 42</li></ul>")
    "It's still down\\n- Order 42"
    """
    if not body:
        return ""
    parser = _TextParser(keep_quotes=keep_quotes, links=links, markup=_ANY_TAG.search(body) is not None)
    parser.feed(body)
    parser.close()
    out = []
    for line in "".join(parser.parts).replace("\u200b", "").replace("\ufeff", "").splitlines():
        line = " ".join(line.split())
        if line.startswith(_BULLET):
            line = line[1:].strip()
            if not line:
                continue  # an empty list item
            line = "- " + line
        if line:
            out.append(line)
    return "\n".join(out)


def readable(body: str | None, *, keep_quotes: bool = True, links: bool = False) -> str:
    """``body`` as text: HTML is converted (``html_to_text``), plain text is returned as it is."""
    if not looks_like_html(body):
        return body or ""
    return html_to_text(body, keep_quotes=keep_quotes, links=links)
