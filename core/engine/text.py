"""Text helpers for the engine: what the customer newly wrote, and phrase matching on it.

E-mail bodies carry the whole thread below the new text ("On Mon, Anna wrote:", "> ..."), a
signature and a sign-off. Triggers and sentiment must see only the new words, or one angry
message would keep firing in every quoted reply after it. ``new_text`` strips those parts.

``PhraseMatcher`` finds phrases by category: whole-word, case-insensitive, with an optional
plural ending, and negation-aware ("not urgent", "no legal issue", "isn't a security problem",
"without any outage" do not fire). A text's ``word_set`` is computed once and shared by every
matcher; only phrases whose words all occur in it are compiled into a regex and searched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping

# -- quoted replies and signatures ---------------------------------------------------------------

# Where a quoted thread starts: everything from here on was written earlier (by anyone).
_QUOTE_START = re.compile(
    r"^[ \t]*(?:"
    r"On\b[^\n]{0,200}?(?:\n[^\n]{0,200}?)?\bwrote:[ \t]*$"  # "On Mon, 2 Nov, Anna <a@b> wrote:" (may wrap once)
    r"|-{2,}[ \t]*(?:Original|Forwarded) Message[ \t]*-{2,}"
    r"|_{10,}[ \t]*$"  # Outlook's rule above the quoted header
    r"|From:[^\n]*\n(?:[^\n]*\n)?[ \t]*(?:Sent|Date|To):"  # Outlook header block
    r"|Am\b[^\n]{0,200}?schrieb[^\n]{0,40}:[ \t]*$"  # German clients
    r"|Le\b[^\n]{0,200}?a écrit[ \t]*:[ \t]*$"  # French clients
    r")",
    re.MULTILINE | re.IGNORECASE,
)
# Where a signature starts: the "-- " delimiter or a mobile footer.
_SIGNATURE_START = re.compile(
    r"^(?:--[ \t]*$|Sent from my [^\n]*$|Get Outlook for [^\n]*$|Sent from (?:Mail|Outlook)[^\n]*$)",
    re.MULTILINE | re.IGNORECASE,
)
# A sign-off alone on its line; when only a short block (name, title, phone) follows, it is cut.
_SIGN_OFF = re.compile(
    r"[ \t]*(?:best(?: regards| wishes)?|kind regards|warm regards|regards|many thanks|thanks(?: again| so much| in advance)?"
    r"|thank you(?: in advance| so much)?|cheers|sincerely|yours(?: sincerely| truly)?|br|thx|all the best)"
    r"[ \t]*[,.!]*[ \t]*",
    re.IGNORECASE,
)
_SIGN_OFF_MAX_LINES = 5  # lines after a sign-off that still count as the signature block
_SIGN_OFF_MAX_CHARS = 60  # longer lines after it are real text, so the sign-off stays


def new_text(body: str) -> str:
    """The part of a message body its author newly wrote: no quoted thread, no signature.

    >>> new_text("Still broken.\\n\\nThanks,\\nAnna\\n\\nOn Mon, Bob wrote:\\n> try again")
    'Still broken.'
    """
    if not body:
        return ""
    text = body.replace("\r\n", "\n").replace("\u2019", "'").replace("\u2018", "'")
    low = text.lower()
    # Each regex below tries every line start; a message without their key words skips them.
    if "wrote:" in low or "message" in low or "from:" in low or "schrieb" in low or "a écrit" in low or "______" in low:
        m = _QUOTE_START.search(text)
        if m:
            text = text[: m.start()]
    if ">" in text:
        text = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith(">"))
    if "--" in text or "sent from" in low or "get outlook" in low:
        m = _SIGNATURE_START.search(text)
        if m:
            text = text[: m.start()]
    if "\n" in text:
        text = _cut_sign_off(text)
    return unquote(text.strip())


# A single quote not between two letters or digits quotes words ("it shows 'server error'"); as
# part of a word it would hide exactly the error the customer quotes from every phrase and marker.
# After an "s" it stays: "other users' invoices" is a plural possessive more often than a quote's end.
_QUOTE_MARK = re.compile(r"(?<![A-Za-z0-9])'|(?<![sS])'(?![A-Za-z0-9])")


def unquote(text: str) -> str:
    """``text`` with single quotation marks written as double ones; apostrophes ("don't", "users'") stay.

    The length is unchanged, so positions found in the result hold in ``text``.

    >>> print(unquote("it says 'payment declined', we can't pay"))
    it says "payment declined", we can't pay
    """
    if "\u2018" in text or "\u2019" in text:
        text = text.replace("\u2018", "'").replace("\u2019", "'")
    if "'" not in text:
        return text
    return _QUOTE_MARK.sub('"', text)


def _cut_sign_off(text: str) -> str:
    # The last sign-off line wins: "Thanks, that fixed it" mid-text is not a sign-off (not alone
    # on its line), and "Thanks,\nAnna\nCTO, Acme" at the end is. Reading from the bottom, a
    # sign-off more than a few lines up has too much after it, so the search stops there.
    lines = text.split("\n")
    after = 0
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if not line.strip():
            continue
        if _SIGN_OFF.fullmatch(line):
            if any(len(rest.strip()) > _SIGN_OFF_MAX_CHARS for rest in lines[i + 1 :]):
                return text
            return "\n".join(lines[:i])
        after += 1
        if after > _SIGN_OFF_MAX_LINES:
            return text
    return text


# -- phrase matching --------------------------------------------------------------------------

# Words that negate a phrase that follows them closely in the same clause.
NEGATORS = frozenset(
    "no not never without nothing none neither nor hardly barely "
    "isnt arent wasnt werent dont doesnt didnt cant cannot couldnt wont wouldnt shouldnt hasnt havent hadnt".split()
)
NEGATION_WINDOW = 4  # words before the phrase that are searched for a negator
# "I don't think this is a security issue": a negated opinion verb negates the rest of its
# clause, however many words follow it, so the 4-word window does not apply to it.
OPINION_VERBS = frozenset("think believe suppose expect feel guess reckon imagine".split())
_SOFTENERS = frozenset({"really", "actually", "even", "honestly"})  # "don't really think"
# Clause boundaries: a negator before one of these does not reach past it.
_CLAUSE = re.compile(r"[.;:!?,\n()]|\b(?:but|however|although|though|because|and then|yet)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z']+")


def is_negated(text: str, start: int, window: int = NEGATION_WINDOW) -> bool:
    """True when a negator ("not", "no", "without", "isn't" ...) closely precedes ``start``."""
    before = text[max(0, start - 60) : start]
    # Most phrases have no negator before them at all; cutting at the clause boundary can only
    # drop words, so the (costlier) cut is made only when a negator is in reach.
    if not _has_negator(_WORD.findall(before)):
        return False
    cut = None
    for cut in _CLAUSE.finditer(before):
        pass
    if cut is not None:
        before = before[cut.end() :]
    words = _WORD.findall(before)
    return _has_negator(words[-window:]) or _negated_opinion(words)


def _is_negator(word: str) -> bool:
    w = word.lower()
    return w in NEGATORS or w.endswith("n't")


def _has_negator(words: list[str]) -> bool:
    return any(map(_is_negator, words))


def _negated_opinion(words: list[str]) -> bool:
    """A negator right before an opinion verb ("don't think", "do not really believe")."""
    for i, w in enumerate(words):
        if w.lower() not in OPINION_VERBS:
            continue
        j = i - 1
        if j > 0 and words[j].lower() in _SOFTENERS:
            j -= 1
        if j >= 0 and _is_negator(words[j]):
            return True
    return False


@dataclass(frozen=True)
class Hit:
    """One phrase found in a text: the category, the words exactly as written, where."""

    category: str
    text: str
    start: int


def phrase_pattern(phrases: Iterable[str], plural: bool = True) -> re.Pattern[str] | None:
    """One regex for a list of phrases: whole words, any case, any whitespace between words.

    Longer phrases come first so "data breach notification" wins over "data breach".
    """
    body = _alternation(phrases, plural)
    return None if body is None else re.compile(r"(?<!\w)(?<!\w')" + body, re.IGNORECASE)


def _alternation(phrases: Iterable[str], plural: bool) -> str | None:
    parts = []
    for p in sorted({" ".join(p.split()) for p in phrases if p.strip()}, key=lambda p: (-len(p), p)):
        body = r"\s+".join(re.escape(w) for w in p.split(" "))
        parts.append(body)
    if not parts:
        return None
    suffix = r"(?:e?s)?" if plural else ""
    return r"(?:" + "|".join(parts) + r")" + suffix + r"(?!\w|'\w)"


def _finditer(pat: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """``phrase_pattern``'s matches, from a pattern without its leading look-behind.

    A regex that starts with a look-behind is tried at every position; one that starts with
    the phrases' first letters lets the regex engine skip ahead to them. The word-start check
    moves here, and a rejected start resumes one character later, so the matches are the same.
    """
    pos = 0
    search = pat.search
    while True:
        m = search(text, pos)
        if m is None:
            return
        start = m.start()
        if start and (_in_word(text[start - 1]) or (text[start - 1] == "'" and start > 1 and _in_word(text[start - 2]))):
            pos = start + 1
            continue
        yield m
        pos = m.end()


def _in_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


# Words with their inner apostrophes ("don't"); a quote mark around a word is not part of it.
_PREFILTER = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def word_set(text: str) -> frozenset[str]:
    """The lower-case words of ``text`` (runs of letters and digits, with inner apostrophes).

    Computed once per text and shared by every matcher that reads it: a phrase whose words are
    not all in this set cannot match, so most texts never reach a regex at all.
    """
    return frozenset(_PREFILTER.findall(text.lower()))


@dataclass(frozen=True)
class _Phrase:
    category: int  # index into PhraseMatcher.names
    text: str  # normalised: single spaces
    inner: frozenset[str]  # words that must appear as written
    last: frozenset[str]  # at least one of these must appear (the last word, with plural forms)


def _phrase(category: int, text: str, plural: bool) -> tuple[str, _Phrase] | None:
    tokens = _PREFILTER.findall(text.lower())
    if not tokens:
        return None
    # The plural ending attaches to the phrase's last character; only when that is part of the
    # last word does the word itself change ("outage" -> "outages", but "c++" -> "c++es").
    ends_in_word = bool(_PREFILTER.fullmatch(text[-1].lower()))
    *inner, last = tokens
    forms = {last, last + "s", last + "es"} if plural and ends_in_word else {last}
    # Index under the longest (rarest) word, so the C-speed set intersection rules most phrases out.
    i = max(range(len(tokens)), key=lambda k: (len(tokens[k]), k))
    return tokens[i], _Phrase(category, text, frozenset(inner), frozenset(forms))


class PhraseMatcher:
    """Finds phrases by category; built once per configuration, reused for every ticket.

    Matching is what ``phrase_pattern`` says (whole words, any case, longest phrase first,
    negation-aware); the word index only decides which phrases are worth a regex at all.
    """

    def __init__(self, categories: Mapping[str, Iterable[str]], negation: bool = True, plural: bool = True):
        self.negation = negation
        self.plural = plural
        self.names: tuple[str, ...] = tuple(categories)
        self._phrases: tuple[frozenset[str], ...] = tuple(
            frozenset(" ".join(p.split()) for p in phrases if p.strip()) for phrases in categories.values()
        )
        index: dict[str, list[_Phrase]] = {}
        for ci, phrases in enumerate(self._phrases):
            for p in sorted(phrases):
                got = _phrase(ci, p, plural)
                if got is None:
                    continue
                key, entry = got
                for k in (entry.last if key in entry.last else (key,)):
                    index.setdefault(k, []).append(entry)
        self._index = index
        self._keys = frozenset(index)
        self._compiled: dict[tuple[int, frozenset[str]], re.Pattern[str] | None] = {}

    def _pattern(self, category: int, phrases: frozenset[str]) -> re.Pattern[str] | None:
        # Only the phrases whose words all occur are compiled into the pattern; the others could
        # not match, so leaving them out changes nothing but the cost. Few distinct subsets occur.
        key = (category, phrases)
        pat = self._compiled.get(key, False)
        if pat is False:
            if len(self._compiled) > 4096:
                self._compiled.clear()
            body = _alternation(phrases, self.plural)
            pat = self._compiled[key] = None if body is None else re.compile(body, re.IGNORECASE)
        return pat  # type: ignore[return-value]

    def candidates(self, words: frozenset[str]) -> dict[int, frozenset[str]]:
        """category index -> phrases whose words all occur in ``words``."""
        present = self._keys & words
        if not present:
            return {}
        found: dict[int, set[str]] = {}
        for k in present:
            for e in self._index[k]:
                if e.inner <= words and not e.last.isdisjoint(words):
                    found.setdefault(e.category, set()).add(e.text)
        return {c: frozenset(p) for c, p in found.items()}

    def find(self, text: str, words: frozenset[str] | None = None) -> list[Hit]:
        """Every non-negated hit in ``text``, in category order then position.

        ``words`` is ``word_set(text)`` when the caller already has it.
        """
        hits: list[Hit] = []
        if not text:
            return hits
        found = self.candidates(word_set(text) if words is None else words)
        for ci in sorted(found):
            pat = self._pattern(ci, found[ci])
            if pat is None:
                continue
            name = self.names[ci]
            for m in _finditer(pat, text):
                if self.negation and is_negated(text, m.start()):
                    continue
                hits.append(Hit(name, " ".join(m.group(0).split()), m.start()))
        return hits

    def categories(self, text: str) -> dict[str, list[str]]:
        """category -> distinct matched phrases (lower-cased, first-seen order)."""
        out: dict[str, list[str]] = {}
        for h in self.find(text):
            seen = out.setdefault(h.category, [])
            low = h.text.lower()
            if low not in seen:
                seen.append(low)
        return out


# -- words for "same issue" comparisons -------------------------------------------------------

STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers him his how i if in into is it its itself just me more most my no nor not now
    of off on once only or other our ours out over own same she should so some such than that the their
    them then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours hi hello hey dear thanks thank please regards
    team support help issue problem still get got getting since today yesterday morning ticket""".split()
)
_TOKEN = re.compile(r"[a-z0-9][a-z0-9_\-]+")


def keywords(text: str) -> frozenset[str]:
    """Significant lower-case words of a text (no stop words, no one-letter words)."""
    words = set(_TOKEN.findall(text.lower()))
    words -= STOPWORDS
    return frozenset(w for w in words if not w.isdigit())


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Overlap coefficient |a∩b| / min(|a|,|b|): a short subject inside a long one still matches."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))
