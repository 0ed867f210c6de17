"""VADER's compound score, computed only from the lexicon hits.

Why: the engine scores every message of every ticket, and vaderSentiment's pure-Python
``SentimentIntensityAnalyzer.polarity_scores`` was the bottleneck (about 5,500 messages/s):
for every lexicon word it rebuilds the lower-cased word list several times (negation, idioms),
and it also computes pos/neu/neg ratios we never read.

How: in ``polarity_scores`` a word outside the lexicon always contributes 0, and the compound is
``round(normalize(sum of sentiments +/- punctuation emphasis), 4)``. So this module tokenizes
exactly like vaderSentiment 3.3.2 (emoji replaced by their descriptions, ``str.split``,
``_strip_punc_if_word``), then evaluates the library's rules only at lexicon hits, looking at
the same neighbouring words the library looks at; most hits have no rule trigger nearby and
just keep their lexicon valence. The library's quirks are kept on purpose — the target is
equality, not a better sentiment model (see ``_but_check`` and ``_Context._negation``).

Equality is checked in ``tests/test_vader.py``: hand-written edge cases, a seeded fuzz of rule
triggers and a corpus (airline tweets plus the engine bench's generated tickets) are compared
with ``polarity_scores``, both the rounded compound and the library's *unrounded* one (its
``round`` patched out), so a float operation done in another order would show.
``bench/vader.py`` measures the speed-up and recounts mismatches on its full corpus.

The lexicon and emoji lexicon are read from vaderSentiment's own package data, once per process,
on first use, parsed the way the library parses them. vaderSentiment stays a dependency.
"""

from __future__ import annotations

import math
import re
import string
from functools import lru_cache
from importlib import resources
from itertools import compress, count
from typing import NamedTuple

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
)

__all__ = ["FastVader"]

_PUNCT = string.punctuation
_NEGATE = frozenset(NEGATE)
_SO_THIS = ("so", "this")
# Words that can take part in a multi-word special case or booster n-gram; when none is near
# a hit, _special_idioms can skip building the n-gram strings.
_IDIOM_WORDS = frozenset(
    w for key in (*SPECIAL_CASES, *BOOSTER_DICT) if " " in key for w in key.split(" ")
)
_MULTI_WORD_KEYS = sorted(k for k in (*SPECIAL_CASES, *BOOSTER_DICT) if " " in k)
_IDIOM_RE = re.compile("|".join(map(re.escape, _MULTI_WORD_KEYS)))
# A hit whose window words[i-3 : i+3] holds none of these words, that is not ALL CAPS, has no
# "so"/"this" right before it and no "n't" word before it keeps its plain lexicon valence:
# these are the single words the rules in _Context.valence look for. ("so"/"this" matter only
# right before the hit; "n't" anywhere in a word; both are checked separately.)
_CONTEXT = frozenset({w for w in BOOSTER_DICT if " " not in w} | _NEGATE | {"no", "least"})
# When the text holds a multi-word idiom or booster n-gram, one word per key (an anchor) in
# the window is enough to send the hit through the full rules: a key matches only with all of
# its words there. "kind" is an anchor: it is the only way the "kind of" item rule can fire.
_IDIOM_ANCHORS = frozenset(
    [w for w in key.split(" ") if w not in ("the", "of", "to", "for")][-1] for key in _MULTI_WORD_KEYS
)
_CONTEXT_IDIOMS = _CONTEXT | _IDIOM_ANCHORS


class _Tables(NamedTuple):
    lexicon: dict[str, float]
    # The lexicon minus booster words: a booster token always gets sentiment 0 in
    # polarity_scores, even if the lexicon rates it.
    scored: dict[str, float]
    negative: frozenset[str]
    emojis: dict[str, str]
    # The library replaces emoji character by character, so multi-character keys never match.
    emoji_chars: frozenset[str]


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    pkg = resources.files("vaderSentiment")
    # codecs.open in the library decodes bytes without newline translation; do the same.
    lex_text = pkg.joinpath("vader_lexicon.txt").read_bytes().decode("utf-8")
    emoji_text = pkg.joinpath("emoji_utf8_lexicon.txt").read_bytes().decode("utf-8")

    lexicon: dict[str, float] = {}
    for line in lex_text.rstrip("\n").split("\n"):
        if not line:
            continue
        word, measure = line.strip().split("\t")[0:2]
        lexicon[word] = float(measure)

    emojis: dict[str, str] = {}
    for line in emoji_text.rstrip("\n").split("\n"):
        emoji, description = line.strip().split("\t")[0:2]
        emojis[emoji] = description

    emoji_chars = frozenset(k for k in emojis if len(k) == 1)
    scored = {w: v for w, v in lexicon.items() if w not in BOOSTER_DICT}
    negative = frozenset(w for w, v in lexicon.items() if v <= -1.5)
    return _Tables(lexicon, scored, negative, emojis, emoji_chars)


_WORD = re.compile(r"[A-Za-z']+")


class FastVader:
    """Same compound as vaderSentiment 3.3.2's ``polarity_scores(text)["compound"]``, faster."""

    def compound(self, text: str) -> float:
        """The compound score in -1..1, rounded to 4 places like the library."""
        return round(self.unrounded_compound(text), 4)

    def unrounded_compound(self, text: str) -> float:
        """The compound before the library's final ``round(..., 4)``."""
        t = _tables()
        if not text.isascii() and not t.emoji_chars.isdisjoint(text):
            text = _replace_emoji(text, t.emojis)

        raw = text.split()
        low = text.lower()
        if text.isascii():
            # For ASCII, lower() keeps lengths, so lower-then-strip gives the library's
            # strip-then-lower words, and one lower() of the text is cheaper than one per word.
            words = [s if len(s := w.strip(_PUNCT)) > 2 else w for w in low.split()]
        else:
            words = [(s if len(s := w.strip(_PUNCT)) > 2 else w).lower() for w in raw]

        scored = t.scored
        hits = list(compress(count(), map(scored.__contains__, words)))
        if not hits:
            return 0.0

        # Multi-word idioms and booster n-grams only matter if one occurs in the text: with the
        # words joined by single spaces, a substring search finds every occurrence.
        if _IDIOM_ANCHORS.isdisjoint(words) or not _IDIOM_RE.search(" ".join(words)):
            context = _CONTEXT
        else:
            context = _CONTEXT_IDIOMS
        # No character outside ASCII lower-cases to "n", "'" or "t", so a word containing "n't"
        # (the negation rule's test) shows in the lower-cased text.
        nt = "n't" in low
        ctx: _Context | None = None
        positions: list[int] = []
        values: list[float] = []
        for i in hits:
            lo = i - 3 if i > 3 else 0
            if (
                context.isdisjoint(words[lo : i + 3])
                and (i == 0 or words[i - 1] not in _SO_THIS)
                and not raw[i].isupper()
                and not (nt and any("n't" in w for w in words[lo:i]))
            ):
                # No rule can fire: the word keeps its lexicon valence.
                v = scored[words[i]]
            else:
                if ctx is None:
                    ctx = _Context(words, raw, t.lexicon)
                v = ctx.valence(i)
            # Zeros change neither the sum nor (being unequal to any non-zero value) _but_check.
            if v:
                positions.append(i)
                values.append(v)
        if not values:
            return 0.0
        if "but" in words:
            _but_check(words.index("but"), positions, values)

        # Same order as the library's sum over all words: adding zeros changes nothing, also
        # under the compensated float sum of Python >= 3.12.
        total = float(sum(values))
        emphasis = _punctuation_emphasis(text)
        if total > 0:
            total += emphasis
        elif total < 0:
            total -= emphasis
        return _normalize(total)

    def negative_words(self, text: str, limit: int = 5) -> tuple[str, ...]:
        """Words of ``text`` (as written, first-seen order, case-insensitively distinct) that
        the lexicon rates -1.5 or lower."""
        negative = _tables().negative
        out: list[str] = []
        seen: set[str] = set()
        for w in _WORD.findall(text):
            low = w.lower()
            if low in negative and low not in seen:
                seen.add(low)
                out.append(w)
                if len(out) >= limit:
                    break
        return tuple(out)


def _replace_emoji(text: str, emojis: dict[str, str]) -> str:
    # The library's loop, kept as is for the few texts that have emoji. Its quirks: a space
    # goes before a description unless the text starts there or the previous character is a
    # literal " " (after another emoji one is added), none after it ("😠x" -> "angry facex").
    out: list[str] = []
    prev_space = True
    for ch in text:
        if ch in emojis:
            if not prev_space:
                out.append(" ")
            out.append(emojis[ch])
            prev_space = False
        else:
            out.append(ch)
            prev_space = ch == " "
    return "".join(out).strip()


class _Context:
    """One text's words, with the library's per-word rules evaluated at a given index."""

    __slots__ = ("words", "raw", "lexicon", "n", "_cap_diff")

    def __init__(self, words: list[str], raw: list[str], lexicon: dict[str, float]) -> None:
        self.words = words  # stripped (by _strip_punc_if_word) and lower-cased
        self.raw = raw  # as split; isupper() is unaffected by stripping ASCII punctuation
        self.lexicon = lexicon
        self.n = len(words)
        self._cap_diff: bool | None = None

    def cap_diff(self) -> bool:
        # allcap_differential: some but not all words are ALL CAPS. Only needed when a hit or
        # booster is upper case, so computed lazily.
        if self._cap_diff is None:
            upper = sum(1 for w in self.raw if w.isupper())
            self._cap_diff = 0 < upper < self.n
        return self._cap_diff

    def valence(self, i: int) -> float:
        """sentiment_valence for the lexicon word at index i (a non-booster)."""
        words, lexicon, n = self.words, self.lexicon, self.n
        item = words[i]
        if item == "kind" and i < n - 1 and words[i + 1] == "of":
            return 0.0

        valence = lexicon[item]
        if item == "no" and i != n - 1 and words[i + 1] in lexicon:
            valence = 0.0
        if (
            (i > 0 and words[i - 1] == "no")
            or (i > 1 and words[i - 2] == "no")
            or (i > 2 and words[i - 3] == "no" and words[i - 1] in ("or", "nor"))
        ):
            valence = lexicon[item] * N_SCALAR

        # A valence of exactly 0 (the "no" rule) gets -C_INCR here: the library's else branch.
        if self.raw[i].isupper() and self.cap_diff():
            if valence > 0:
                valence += C_INCR
            else:
                valence -= C_INCR

        for start_i in range(3):
            j = i - (start_i + 1)
            if j < 0:
                break
            prev = words[j]
            if prev in lexicon:
                continue
            booster = BOOSTER_DICT.get(prev)
            if booster is not None:
                s = booster
                if valence < 0:
                    s *= -1
                if self.raw[j].isupper() and self.cap_diff():
                    if valence > 0:
                        s += C_INCR
                    else:
                        s -= C_INCR
                if start_i == 1 and s != 0:
                    s = s * 0.95
                if start_i == 2 and s != 0:
                    s = s * 0.9
                valence = valence + s
            valence = self._negation(valence, start_i, i)
            if start_i == 2:
                valence = self._special_idioms(valence, i)

        return self._least(valence, i)

    def _negation(self, valence: float, start_i: int, i: int) -> float:
        words = self.words
        if start_i == 0:
            if _negated(words[i - 1]):
                valence = valence * N_SCALAR
        elif start_i == 1:
            if words[i - 2] == "never" and words[i - 1] in _SO_THIS:
                valence = valence * 1.25
            elif words[i - 2] == "without" and words[i - 1] == "doubt":
                pass
            elif _negated(words[i - 2]):
                valence = valence * N_SCALAR
        else:
            # Library quirk (operator precedence): "so"/"this" right before the hit boosts by
            # 1.25 whenever three words precede it, with or without "never".
            if (words[i - 3] == "never" and words[i - 2] in _SO_THIS) or words[i - 1] in _SO_THIS:
                valence = valence * 1.25
            elif words[i - 3] == "without" and (words[i - 2] == "doubt" or words[i - 1] == "doubt"):
                pass
            elif _negated(words[i - 3]):
                valence = valence * N_SCALAR
        return valence

    def _special_idioms(self, valence: float, i: int) -> float:
        words, n = self.words, self.n
        if _IDIOM_WORDS.isdisjoint(words[i - 3 : i + 3]):
            return valence
        w3, w2, w1, w0 = words[i - 3], words[i - 2], words[i - 1], words[i]
        onezero = f"{w1} {w0}"
        twoonezero = f"{w2} {w1} {w0}"
        twoone = f"{w2} {w1}"
        threetwoone = f"{w3} {w2} {w1}"
        threetwo = f"{w3} {w2}"
        for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
            if seq in SPECIAL_CASES:
                valence = SPECIAL_CASES[seq]
                break
        if n - 1 > i:
            zeroone = f"{w0} {words[i + 1]}"
            if zeroone in SPECIAL_CASES:
                valence = SPECIAL_CASES[zeroone]
        if n - 1 > i + 1:
            zeroonetwo = f"{w0} {words[i + 1]} {words[i + 2]}"
            if zeroonetwo in SPECIAL_CASES:
                valence = SPECIAL_CASES[zeroonetwo]
        # Booster n-grams add the unsigned increment, whatever the valence's sign.
        for n_gram in (threetwoone, threetwo, twoone):
            if n_gram in BOOSTER_DICT:
                valence = valence + BOOSTER_DICT[n_gram]
        return valence

    def _least(self, valence: float, i: int) -> float:
        words, lexicon = self.words, self.lexicon
        if i > 1 and words[i - 1] not in lexicon and words[i - 1] == "least":
            if words[i - 2] != "at" and words[i - 2] != "very":
                valence = valence * N_SCALAR
        elif i > 0 and words[i - 1] not in lexicon and words[i - 1] == "least":
            valence = valence * N_SCALAR
        return valence


def _negated(word: str) -> bool:
    return word in _NEGATE or "n't" in word


def _but_check(bi: int, positions: list[int], values: list[float]) -> None:
    """The library's _but_check on the non-zero sentiments only, bug included.

    It scales ``sentiments[sentiments.index(value)]``, the *first* word with an equal value,
    not the word being visited. When an earlier word's already-scaled value equals a later
    word's value, the earlier word is scaled again and the later one not at all. Only earlier
    (already visited) slots can be hit, so the value read at each step is still the original.
    """
    for k in range(len(values)):
        value = values[k]
        si = values.index(value)
        if positions[si] < bi:
            values[si] = value * 0.5
        elif positions[si] > bi:
            values[si] = value * 1.5


def _punctuation_emphasis(text: str) -> float:
    ep_count = min(text.count("!"), 4)
    ep_amplifier = ep_count * 0.292
    qm_count = text.count("?")
    qm_amplifier: float = 0
    if qm_count > 1:
        qm_amplifier = qm_count * 0.18 if qm_count <= 3 else 0.96
    return ep_amplifier + qm_amplifier


def _normalize(score: float, alpha: float = 15) -> float:
    norm_score = score / math.sqrt((score * score) + alpha)
    if norm_score < -1.0:
        return -1.0
    if norm_score > 1.0:
        return 1.0
    return norm_score
