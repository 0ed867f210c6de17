"""A small, fast text classifier: TF-IDF word and character n-grams with a linear model.

Fitted with scikit-learn, saved as plain arrays (no pickle: ``numpy.savez`` with
``allow_pickle=False`` reads nothing but numbers and strings back), and rebuilt from them. The
linear model gives scores per class; a softmax with a temperature fitted on held-out data turns
them into probabilities, so "p = 0.86" means something close to 86 % of the time.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from deskwatch.core.learn.features import Analysis, Reading, Vocabulary, analyze

FORMAT = "deskwatch-textmodel/1"

# Word 1-2 grams carry the topic ("refund", "charged twice"); character 1-5 grams inside word
# boundaries survive typos and inflections ("refunds", "refnd"), which support text is full of.
# Both keep only n-grams seen in at least two texts: a word pair seen once says little about the
# next ticket, and the once-seen pairs were three quarters of the vocabulary (memory the daemon
# holds for every model): BANKING77 0.915 -> 0.914, airline tone 0.812 -> 0.805.
WORD = {"analyzer": "word", "ngram_range": (1, 2), "sublinear_tf": True, "token_pattern": r"(?u)\b\w+\b",
        "lowercase": True, "min_df": 2, "dtype": np.float32}
CHAR = {"analyzer": "char_wb", "ngram_range": (1, 5), "sublinear_tf": True, "min_df": 2, "lowercase": True,
        "dtype": np.float32}


class ModelFormatError(ValueError):
    """A saved model that cannot be read: corrupt, or written by a newer deskwatch."""


@dataclass
class TextModel:
    """A fitted classifier: ``predict_proba(texts)`` gives one probability row per text."""

    classes: tuple[str, ...]
    word_terms: tuple[str, ...]
    word_idf: np.ndarray
    char_terms: tuple[str, ...]
    char_idf: np.ndarray
    coef: np.ndarray | None  # (classes, word features + char features); None once ``prepare(lean=True)`` folded it
    intercept: np.ndarray
    temperature: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._vocab: Vocabulary | None = None
        self._rank: np.ndarray | None = None

    # -- fitting ------------------------------------------------------------------------------

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], *, c: float = 1.0) -> "TextModel":
        """Fit on ``texts`` and their ``labels`` (at least two classes)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        word = TfidfVectorizer(**WORD)
        char = TfidfVectorizer(**CHAR)
        try:
            xw = word.fit_transform(texts)
        except ValueError:  # no word in two texts (tiny data): every word
            word = TfidfVectorizer(**{**WORD, "min_df": 1})
            xw = word.fit_transform(texts)
        try:
            xc = char.fit_transform(texts)
        except ValueError:  # every n-gram below min_df (tiny data): words alone
            char = None
            xc = None
        x = _hstack(xw, xc)
        clf = _classifier(len(texts), c).fit(x, list(labels))
        coef = np.asarray(clf.coef_, dtype=np.float32)
        intercept = np.asarray(clf.intercept_, dtype=np.float32)
        if len(clf.classes_) == 2:  # binary: one row of scores for the second class
            coef = np.vstack([-coef, coef]) / 2
            intercept = np.concatenate([-intercept, intercept]) / 2
        return cls(
            classes=tuple(str(c) for c in clf.classes_),
            word_terms=_terms(word),
            word_idf=np.asarray(word.idf_, dtype=np.float32),
            char_terms=_terms(char) if char is not None else (),
            char_idf=np.asarray(char.idf_, dtype=np.float32) if char is not None else np.zeros(0, np.float32),
            coef=coef,
            intercept=intercept,
        )

    def calibrate(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        """Pick the softmax temperature that best predicts ``labels`` (log-loss), on data the
        model was not fitted on."""
        scores = self.scores(texts)
        index = {c: i for i, c in enumerate(self.classes)}
        rows = [(i, index[y]) for i, y in enumerate(labels) if y in index]
        if not rows:
            return
        r, k = np.array([a for a, _ in rows]), np.array([b for _, b in rows])
        best = (float("inf"), 1.0)
        for t in (0.5, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32):
            p = _softmax(scores[r] * t)
            loss = -float(np.mean(np.log(p[np.arange(len(k)), k] + 1e-9)))
            best = min(best, (loss, float(t)))
        self.temperature = best[1]

    # -- scoring ------------------------------------------------------------------------------

    def _vocabulary(self) -> Vocabulary:
        if self._vocab is None:
            assert self.coef is not None
            self._vocab = Vocabulary(self.word_terms, self.word_idf, self.char_terms, self.char_idf, self.coef)
        return self._vocab

    def prepare(self, lean: bool = False) -> "TextModel":
        """Build the lookups scoring needs now rather than on the first batch. ``lean`` keeps
        only the weights as scoring reads them (idf folded in) and lets ``coef`` go: a model
        the engine holds for hours needs one copy of its largest array, not two."""
        self._vocabulary()
        if lean:
            self.coef = None
        return self

    def _coef(self) -> np.ndarray:
        if self.coef is not None:
            return self.coef
        vocab = self._vocabulary()  # idf is at least 1, so unfolding divides by no zero
        return np.ascontiguousarray((vocab.folded / np.concatenate([self.word_idf, self.char_idf])[:, None]).T)

    @staticmethod
    def analyze(texts: Sequence[str]) -> Analysis:
        """Read ``texts`` once; every TextModel scores the same ``Analysis`` (features.py)."""
        return analyze(texts)

    def features(self, texts: Sequence[str]):
        """The TF-IDF matrix of ``texts`` (word part, then character part), as fitted."""
        words, chars = self._vocabulary().transform(analyze(list(texts)))
        return _hstack(words, chars)

    def scores_of(self, a: Analysis) -> np.ndarray:
        vocab = self._vocabulary()
        parts = [vocab.scores(vocab.read(part)) for part in _slices(a)]
        return (np.vstack(parts) if parts else np.zeros((0, len(self.classes)), np.float32)) + self.intercept

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        return self.scores_of(analyze(list(texts)))

    def predict_proba_of(self, a: Analysis) -> np.ndarray:
        """``predict_proba`` for texts already read by ``analyze``."""
        if not a.n:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        return _softmax(self.scores_of(a) * self.temperature)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        return self.predict_proba_of(analyze(list(texts)))

    def predict(self, texts: Sequence[str]) -> list[str]:
        p = self.predict_proba(texts)
        return [self.classes[i] for i in p.argmax(axis=1)] if len(p) else []

    def explain_of(self, a: Analysis, limit: int = 4) -> tuple[np.ndarray, list[tuple[str, ...]]]:
        """(probabilities, the words that pushed each text most toward its likeliest class):
        the router's reading and its evidence from one pass over the features."""
        if not a.n:
            return np.zeros((0, len(self.classes)), dtype=np.float32), []
        vocab = self._vocabulary()
        probs, terms = [], []
        for part in _slices(a):
            r = vocab.read(part)
            p = _softmax((vocab.scores(r) + self.intercept) * self.temperature)
            probs.append(p)
            terms += self._top_terms(r, p.argmax(axis=1), limit)
        return np.vstack(probs), terms

    def top_terms_many(self, texts: Sequence[str], labels: Sequence[str], limit: int = 4) -> list[tuple[str, ...]]:
        """``top_terms`` for a batch: one transform for all texts."""
        index = {c: i for i, c in enumerate(self.classes)}
        rows = np.array([index.get(label, -1) for label in labels], dtype=np.int64)
        a, out = analyze(list(texts)), []
        for start, part in zip(range(0, a.n, SLICE), _slices(a)):
            out += self._top_terms(self._vocabulary().read(part), rows[start:start + part.n], limit)
        return out

    def top_terms(self, text: str, label: str, limit: int = 4) -> tuple[str, ...]:
        """The words of ``text`` that pushed it most toward ``label``: the evidence a person reads."""
        return self.top_terms_many([text], [label], limit)[0]

    def _top_terms(self, r: Reading, rows: np.ndarray, limit: int) -> list[tuple[str, ...]]:
        """Per text, up to ``limit`` word features with the largest positive tf-idf x weight
        toward class ``rows[i]`` (none when it is -1), largest first, ties by term descending."""
        words, folded = r.words, self._vocabulary().folded
        doc = np.repeat(np.arange(words.shape[0]), np.diff(words.indptr))
        cls = rows[doc]
        valid = cls >= 0
        push = np.zeros(len(doc), dtype=np.float64)
        push[valid] = words.data[valid] * folded[words.indices[valid], cls[valid]] / r.word_norms[doc[valid]]
        pos = push > 0  # only words pushing toward the class are evidence: sort just those
        doc, push, cols = doc[pos], push[pos], words.indices[pos]
        order = np.lexsort((-self._term_rank()[cols], -push, doc))
        doc, cols = doc[order], cols[order]
        start = np.searchsorted(doc, doc)  # first entry of each text in the sorted order
        take = np.arange(len(doc)) - start < limit
        out: list[list[str]] = [[] for _ in range(words.shape[0])]
        terms = self.word_terms
        for d, c in zip(doc[take].tolist(), cols[take].tolist()):
            out[d].append(terms[c])
        return [tuple(x) for x in out]

    def _term_rank(self) -> np.ndarray:
        if self._rank is None:
            self._rank = np.empty(len(self.word_terms), dtype=np.int64)
            self._rank[np.argsort(np.array(self.word_terms, dtype=str), kind="stable")] = np.arange(len(self.word_terms))
        return self._rank

    # -- saving -------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            header=np.array(json.dumps({"format": FORMAT, "temperature": self.temperature, "meta": self.meta})),
            classes=np.array(self.classes, dtype=str),
            word_terms=np.array(self.word_terms, dtype=str),
            word_idf=self.word_idf,
            char_terms=np.array(self.char_terms, dtype=str),
            char_idf=self.char_idf,
            coef=self._coef(),
            intercept=self.intercept,
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "TextModel":
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                header = json.loads(str(z["header"]))
                if header.get("format") != FORMAT:
                    raise ModelFormatError(f'unknown model format {header.get("format")!r} (this deskwatch reads {FORMAT}); '
                                           "it was saved by a newer deskwatch: upgrade, or roll back with `deskwatch models rollback`")
                model = cls(
                    classes=tuple(z["classes"].tolist()),
                    word_terms=tuple(z["word_terms"].tolist()),
                    word_idf=z["word_idf"].astype(np.float32),
                    char_terms=tuple(z["char_terms"].tolist()),
                    char_idf=z["char_idf"].astype(np.float32),
                    coef=z["coef"].astype(np.float32),
                    intercept=z["intercept"].astype(np.float32),
                    temperature=float(header.get("temperature", 1.0)),
                    meta=dict(header.get("meta") or {}),
                )
        except ModelFormatError:
            raise
        except Exception as e:  # a damaged file can fail in zip, numpy or json: all mean "unreadable"
            raise ModelFormatError(f"the saved model cannot be read ({type(e).__name__}: {e}); "
                                   "train a new one with `deskwatch learn` or roll back with `deskwatch models rollback`") from None
        n = len(model.word_terms) + len(model.char_terms)
        if model.coef.shape != (len(model.classes), n) or model.intercept.shape != (len(model.classes),):
            raise ModelFormatError("the saved model's arrays do not fit together (corrupt); train it again with `deskwatch learn`")
        return model


# Above this many examples liblinear's exact solver grows faster than the data; a fixed number of
# stochastic passes keeps training linear in size (100,000 tickets in about a minute) for about
# 0.3 points of accuracy on BANKING77.
EXACT_UP_TO = 30_000


# Texts scored per slice: the sparse matrices of a 2,000-ticket page, three models at once, were
# the daemon's largest allocation (27 MB); slices of 512 cost the same time and a quarter of it.
SLICE = 512


def _slices(a: Analysis):
    if a.n <= SLICE:
        yield a
        return
    for start in range(0, a.n, SLICE):
        yield a.rows(start, start + SLICE)


def _classifier(n: int, c: float):
    if n <= EXACT_UP_TO:
        from sklearn.svm import LinearSVC

        return LinearSVC(C=c)
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="hinge", alpha=2e-5 / c, max_iter=6, tol=None, random_state=0)


def _terms(vec) -> tuple[str, ...]:
    terms = [""] * len(vec.vocabulary_)
    for t, i in vec.vocabulary_.items():
        terms[i] = t
    return tuple(terms)


def _hstack(a, b):
    if b is None:
        return a.tocsr()
    from scipy.sparse import hstack

    return hstack([a, b], format="csr")


def _softmax(s: np.ndarray) -> np.ndarray:
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=1, keepdims=True)
