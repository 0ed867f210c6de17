"""TF-IDF features for a batch of texts, read once and shared by every model that scores them.

The models were fitted with scikit-learn's ``TfidfVectorizer`` (word 1-2 grams, and character
1-5 grams inside word boundaries: ``char_wb``). Its ``transform`` builds every n-gram of every
text as a Python string, once per model: 0.27x the rules' speed with three models. Here the
same features come from two observations:

- ``char_wb`` n-grams never cross a word, so a text's character counts are the sum of its
  words' counts: (texts x distinct words) @ (distinct words x character n-grams), a sparse
  product. Each distinct word is cut into n-grams once for all models: the n-grams any live
  model knows share one numbering (``_Grams``), and each model maps that numbering to its own
  columns with numpy.
- word n-grams need only each distinct token's index, then numpy over the batch.

``analyze`` reads the texts once (lowercase, split, tokenize, number the distinct words);
``Vocabulary.transform`` turns that into the exact matrix scikit-learn's vectorizers give (same
vocabulary, idf, sublinear tf and l2 norm per part), so saved models keep their figures.
"""

from __future__ import annotations

import re
import weakref
from collections import defaultdict
from dataclasses import dataclass
from itertools import chain, count
from typing import Sequence

import numpy as np
from scipy import sparse

# The tokens of textmodel.WORD's pattern, ``\b\w+\b``: maximal runs of word characters, which
# ``\w+`` finds a third faster (it skips the boundary checks).
TOKEN = re.compile(r"\w+")
CHAR_MAX = 5
# Distinct words whose n-grams are remembered (one memory for all models); past it the memory
# starts over. Support text reuses a few thousand words; ids, numbers and names keep coming, so
# the bound is the cache's share of the daemon's memory: about 250 bytes a word, 7.5 MB, what
# three models' own caches of 10,000 words held before. A batch of 4,000 real tickets has
# about 16,000 distinct words, so one batch's router, escalation and tone texts fit together.
WORD_CACHE = 30_000
# The shared n-gram numbering starts over from the live models when it holds more than this many
# times their n-grams (replaced models' n-grams would otherwise stay numbered for good).
SLACK = 2


@dataclass(frozen=True)
class Analysis:
    """A batch of texts, read once: its distinct whitespace-separated words (what character
    n-grams are cut from) with their counts per text, and its tokens (for word n-grams) in order."""

    n: int
    words: list[str]
    counts: sparse.csr_matrix  # (n, len(words)): how often each word occurs in each text
    tokens: list[str]
    token_ids: np.ndarray  # int32, every text's tokens one after the other
    token_doc: np.ndarray  # int32, the text each of them belongs to (non-decreasing)

    def rows(self, start: int, stop: int) -> "Analysis":
        """Texts ``start:stop`` of the batch, numbered against the same distinct words and
        tokens (so a model looks those up once per batch, not once per slice)."""
        lo, hi = np.searchsorted(self.token_doc, [start, stop])
        return Analysis(min(stop, self.n) - start, self.words, self.counts[start:stop], self.tokens,
                        self.token_ids[lo:hi], self.token_doc[lo:hi] - start)

    def extend(self, suffixes: Sequence[str]) -> "Analysis":
        """The analysis of ``text + "\\n" + suffix`` for each text, reading only the suffixes."""
        more = analyze(suffixes)
        words, wmap = _merge(self.words, more.words)
        counts = (_widen(self.counts, len(words)) + _widen(more.counts, len(words), wmap)).tocsr()
        tokens, tmap = _merge(self.tokens, more.tokens)
        ids = np.concatenate([self.token_ids, tmap[more.token_ids]])
        doc = np.concatenate([self.token_doc, more.token_doc])
        order = np.argsort(doc, kind="stable")  # each text's own tokens, then its suffix's
        return Analysis(self.n, words, counts, tokens, ids[order], doc[order])


def analyze(texts: Sequence[str]) -> Analysis:
    """Read ``texts`` once, lowercased as the vectorizers do."""
    lows = [t.lower() for t in texts]
    n = len(lows)
    word_lists = [s.split() for s in lows]
    wid: defaultdict[str, int] = defaultdict(count().__next__)
    flat = list(chain.from_iterable(word_lists))
    cols = np.fromiter(map(wid.__getitem__, flat), dtype=np.int32, count=len(flat))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(w) for w in word_lists], out=indptr[1:])
    # Repeated words stay as repeated entries: the sparse product adds them up.
    counts = sparse.csr_matrix((np.ones(len(cols), dtype=np.float32), cols, indptr), shape=(n, len(wid)))
    # Tokens (runs of word characters) never cross whitespace, so a text's tokens are its
    # words' tokens in order: each distinct word is tokenized once, then numpy lays them out.
    words = list(wid)
    tid: defaultdict[str, int] = defaultdict(count().__next__)
    per_word = [TOKEN.findall(w) for w in words]
    word_tokens = np.fromiter(map(tid.__getitem__, chain.from_iterable(per_word)), dtype=np.int32)
    ntok = np.fromiter(map(len, per_word), dtype=np.int64, count=len(words))
    first = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(ntok, out=first[1:])
    lens = ntok[cols]
    total = int(lens.sum())
    # Entry k of the text's tokens is word_tokens[first[its word] + its place in that word].
    run_start = np.repeat(np.cumsum(lens) - lens, lens)
    ids = word_tokens[np.repeat(first[cols], lens) + np.arange(total) - run_start]
    doc = np.repeat(np.repeat(np.arange(n, dtype=np.int32), np.diff(indptr)), lens)
    return Analysis(n, words, counts, list(tid), ids, doc)


class Vocabulary:
    """A fitted model's word and character vocabularies with their idf, ready to turn an
    ``Analysis`` into its TF-IDF matrix (word part, then character part)."""

    def __init__(self, word_terms: Sequence[str], word_idf: np.ndarray, char_terms: Sequence[str], char_idf: np.ndarray,
                 coef: np.ndarray):
        self.n_word, self.n_char = len(word_terms), len(char_terms)
        self.word_idf, self.char_idf = word_idf, char_idf
        self.word_idf2, self.char_idf2 = word_idf * word_idf, char_idf * char_idf
        # The linear weights with each feature's idf folded in, (features, classes) contiguous:
        # scores come from the sublinear counts in one sparse product, and the l2 norm (a
        # per-text number) divides the result, so no pass over the entries applies idf or norm.
        self.folded = np.ascontiguousarray((coef * np.concatenate([word_idf, char_idf])).T, dtype=np.float32)
        self.unigram: dict[str, int] = {}
        bigrams = []
        for i, term in enumerate(word_terms):
            a, space, b = term.partition(" ")
            if space:
                bigrams.append((a, b, i))
            else:
                self.unigram[term] = i
        # A bigram is a pair of token numbers (tokens hold no spaces), found by binary search.
        # A token's number is its unigram feature; the rare bigram token that is no unigram
        # (a vocabulary pruned by document frequency) is numbered after them.
        self.extra: dict[str, int] = {}
        pairs = np.array([(self._number(a), self._number(b), i) for a, b, i in bigrams], dtype=np.int64).reshape(-1, 3)
        self.width = self.n_word + len(self.extra)
        keys = pairs[:, 0] * self.width + pairs[:, 1]
        order = np.argsort(keys)
        self.bigram_keys, self.bigram_feats = keys[order], pairs[:, 2][order].astype(np.int32)
        self.char_terms = char_terms
        self._gids = _GRAMS.add(self) if self.n_char else np.zeros(0, dtype=np.int32)
        self._colmap: tuple[int, np.ndarray] | None = None  # (numbering version, shared n-gram -> column)
        self._last: tuple | None = None  # the latest batch's vocabulary and its maps

    def _number(self, token: str) -> int:
        i = self.unigram.get(token)
        return i if i is not None else self.extra.setdefault(token, self.n_word + len(self.extra))

    def read(self, a: Analysis) -> "Reading":
        """The sublinear term frequencies (1 + log count) of each part and each text's l2 norm
        of tf x idf per part (1 for a text with none of the part's features)."""
        words = _sublinear(self._word_counts(a))
        chars = _sublinear(self._char_counts(a)) if self.n_char else None
        return Reading(words, _norms(words, self.word_idf2), chars, _norms(chars, self.char_idf2) if chars is not None else None)

    def scores(self, r: Reading) -> np.ndarray:
        """Each text's linear scores per class, without the intercept."""
        out = (r.words @ self.folded[:self.n_word]) / r.word_norms[:, None]
        if r.chars is not None:
            out += (r.chars @ self.folded[self.n_word:]) / r.char_norms[:, None]
        return np.asarray(out)

    def transform(self, a: Analysis) -> tuple[sparse.csr_matrix, sparse.csr_matrix | None]:
        """(word part, character part), each TF-IDF with sublinear tf and unit l2 rows, as
        scikit-learn's vectorizers give them."""
        r = self.read(a)
        chars = _scaled(r.chars, self.char_idf, r.char_norms) if r.chars is not None else None
        return _scaled(r.words, self.word_idf, r.word_norms), chars

    def _maps(self, a: Analysis) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix | None]:
        """For the batch's distinct tokens and words: unigram feature, bigram-side index, and
        character n-gram counts (a word per row). Slices of one batch share them."""
        if self._last is not None and self._last[0] is a.words and self._last[1] is a.tokens:
            return self._last[2]
        uni = np.fromiter((self.unigram.get(t, -1) for t in a.tokens), dtype=np.int32, count=len(a.tokens))
        loc = uni.astype(np.int64)
        if self.extra:
            missing = np.flatnonzero(uni < 0)
            loc[missing] = [self.extra.get(a.tokens[i], -1) for i in missing.tolist()]
        maps = uni, loc, self._by_word(a.words) if self.n_char else None
        self._last = (a.words, a.tokens, maps)
        return maps

    def _word_counts(self, a: Analysis) -> sparse.csr_matrix:
        uni, loc, _ = self._maps(a)
        feats, docs = uni[a.token_ids], a.token_doc
        keep = feats >= 0
        rows, cols = [docs[keep]], [feats[keep]]
        if len(self.bigram_keys) and len(a.token_ids) > 1:
            left, right = loc[a.token_ids[:-1]], loc[a.token_ids[1:]]
            ok = (docs[:-1] == docs[1:]) & (left >= 0) & (right >= 0)
            keys = left[ok] * self.width + right[ok]
            pos = np.minimum(np.searchsorted(self.bigram_keys, keys), len(self.bigram_keys) - 1)
            hit = self.bigram_keys[pos] == keys
            rows.append(docs[:-1][ok][hit])
            cols.append(self.bigram_feats[pos[hit]])
        r, c = np.concatenate(rows), np.concatenate(cols)
        return sparse.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(a.n, self.n_word))

    def _char_counts(self, a: Analysis) -> sparse.csr_matrix:
        return (a.counts @ self._maps(a)[2]).tocsr()

    def _by_word(self, words: list[str]) -> sparse.csr_matrix:
        """(distinct words x this model's character features): the shared cut, its n-gram
        numbers mapped to this model's columns (the n-grams it does not know dropped)."""
        indptr, gids = _GRAMS.cut(words)
        cols = self._columns()[gids]
        keep = cols >= 0
        kept = np.zeros(len(keep) + 1, dtype=np.int64)
        np.cumsum(keep, out=kept[1:])
        return sparse.csr_matrix((np.ones(int(kept[-1]), dtype=np.float32), cols[keep], kept[indptr]),
                                 shape=(len(words), self.n_char))

    def _columns(self) -> np.ndarray:
        if self._colmap is None or self._colmap[0] != _GRAMS.version:
            colmap = np.full(len(_GRAMS.index), -1, dtype=np.int32)
            colmap[self._gids] = np.arange(self.n_char, dtype=np.int32)
            self._colmap = (_GRAMS.version, colmap)
        return self._colmap[1]


class _Grams:
    """The character n-grams the live models know, numbered once for all of them, and the
    distinct words already cut into those numbers. A batch's words are cut once here, not once
    per model: the Python work (slicing each word, a dict look-up per n-gram) is shared, and
    each model keeps only an array from these numbers to its columns."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.version = 0  # changes whenever numbers are added or renumbered
        self.words: dict[str, bytes] = {}
        self.live: weakref.WeakSet[Vocabulary] = weakref.WeakSet()
        self._last: tuple | None = None  # (words list, version, its cut)

    def add(self, vocab: Vocabulary) -> np.ndarray:
        """Number ``vocab``'s character terms (adding those no live model knew); their numbers."""
        self.live.add(vocab)
        before = len(self.index)
        gids = self._number(vocab.char_terms)
        if len(self.index) > SLACK * sum(v.n_char for v in self.live):
            # Replaced models left most of the numbering: start it over from the live ones.
            self.index = {}
            for v in list(self.live):
                if v is not vocab:
                    v._gids = self._number(v.char_terms)
            gids = self._number(vocab.char_terms)
            before = -1
        if len(self.index) != before:
            # A word cut before now misses the new n-grams: forget the cuts.
            self.version += 1
            self.words = {}
            self._last = None
        return gids

    def _number(self, terms: Sequence[str]) -> np.ndarray:
        index = self.index
        return np.fromiter((index.setdefault(t, len(index)) for t in terms), dtype=np.int32, count=len(terms))

    def cut(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(indptr, n-gram numbers): each word's known n-grams as ``char_wb`` cuts them, a
        word per row; the slices and models of one batch share it."""
        last = self._last
        if last is not None and last[0] is words and last[1] == self.version:
            return last[2]
        memory = self.words
        per_word = [memory.get(w) for w in words]
        missing = [i for i, r in enumerate(per_word) if r is None]
        for i in missing:
            per_word[i] = self._cut(words[i])
        if len(memory) + len(missing) > WORD_CACHE:
            # Start over rather than track use (words that matter come back), with this
            # batch's words, so the batch's other models find them all.
            memory = self.words = {}
            missing = range(len(words))
        for i in missing:
            if len(memory) >= WORD_CACHE:  # a batch wider than the memory fills it, not past it
                break
            memory[words[i]] = per_word[i]
        indptr = np.zeros(len(per_word) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in per_word], out=indptr[1:])
        indptr //= 4  # bytes to int32 entries
        out = indptr, np.frombuffer(b"".join(per_word), dtype=np.int32)
        self._last = (words, self.version, out)
        return out

    def _cut(self, word: str) -> bytes:
        """The known character n-grams of one word, as ``char_wb`` cuts it: padded with a
        space each side, every n-gram of 1..5 characters that fits; packed int32 (a bytes
        object is a third the size of a small numpy array, and a batch joins them in one call)."""
        w = f" {word} "
        get, size = self.index.get, len(w)
        found = [get(w[i:i + k], -1) for k in range(1, min(CHAR_MAX, size) + 1) for i in range(size - k + 1)]
        return np.array([f for f in found if f >= 0], dtype=np.int32).tobytes()


_GRAMS = _Grams()


@dataclass(frozen=True)
class Reading:
    """An analysis as one model sees it (``Vocabulary.read``)."""

    words: sparse.csr_matrix
    word_norms: np.ndarray
    chars: sparse.csr_matrix | None
    char_norms: np.ndarray | None


def _sublinear(x: sparse.csr_matrix) -> sparse.csr_matrix:
    # ``x`` holds no duplicate entries (built from COO, or a sparse product); its columns need
    # not be sorted for what follows, and sorting them would cost a third of the pass.
    np.log(x.data, out=x.data)
    x.data += 1
    return x


def _norms(tf: sparse.csr_matrix, idf2: np.ndarray) -> np.ndarray:
    squared = sparse.csr_matrix((tf.data * tf.data, tf.indices, tf.indptr), shape=tf.shape)
    norms = np.sqrt(squared @ idf2)
    norms[norms == 0] = 1
    return norms


def _scaled(tf: sparse.csr_matrix, idf: np.ndarray, norms: np.ndarray) -> sparse.csr_matrix:
    rows = np.repeat(np.arange(tf.shape[0]), np.diff(tf.indptr))
    return sparse.csr_matrix((tf.data * idf[tf.indices] / norms[rows], tf.indices, tf.indptr), shape=tf.shape)


def _merge(first: list[str], second: list[str]) -> tuple[list[str], np.ndarray]:
    """``first`` plus what ``second`` adds, and where each of ``second``'s entries went."""
    index = {w: i for i, w in enumerate(first)}
    merged = list(first)
    where = np.empty(len(second), dtype=np.int32)
    for j, w in enumerate(second):
        i = index.get(w)
        if i is None:
            i = index[w] = len(merged)
            merged.append(w)
        where[j] = i
    return merged, where


def _widen(m: sparse.csr_matrix, width: int, remap: np.ndarray | None = None) -> sparse.csr_matrix:
    cols = m.indices if remap is None else remap[m.indices]
    return sparse.csr_matrix((m.data, cols, m.indptr), shape=(m.shape[0], width))
