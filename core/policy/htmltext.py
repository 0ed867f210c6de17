"""Sentences from helpdesk message bodies, for the handoff brief and the similar-tickets search.

HTML becomes text through the model's converter (``deskwatch.core.model.htmltext``); what this
module adds is what the brief and the search need on top of it: quoted earlier mails left out
(they repeat what someone else wrote), sentences, the first few sentences of a body, and a text
body without its quoted part or signature.
"""

from __future__ import annotations

import re

from deskwatch.core.model import htmltext


def readable(body: str) -> str:
    """``body`` as text without quoted earlier mails: HTML is converted, plain text is returned as it is."""
    return htmltext.readable(body, keep_quotes=False)


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
