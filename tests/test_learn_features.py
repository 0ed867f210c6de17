"""The shared feature pass (core/learn/features.py) gives exactly the matrix scikit-learn's
vectorizers give for the same fitted vocabulary, so saved models keep their figures; and the
engine's batch path agrees with scoring one text at a time."""

from __future__ import annotations

import numpy as np
import pytest

from deskwatch.core import config
from deskwatch.core.engine import decide, decide_many
from deskwatch.core.engine.decide import DecisionContext
from deskwatch.core.engine.learned import LearnedModels
from deskwatch.core.learn import features
from deskwatch.core.learn.features import analyze
from deskwatch.core.learn.textmodel import CHAR, WORD, TextModel

from .conftest import NOW
from .test_learn import _examples, _models, _tickets

# Odd whitespace, one- and two-letter words, accents, digits, punctuation, an empty text, a text
# of only spaces, a word longer than the n-grams, repeats, non-breaking and other Unicode spaces.
TEXTS = ["I was charged twice!! Refund   please", "", "   ", "a b c", "Ünïcode café naïve — ok?", "x\u00a0y\tz\n\nw",
         "refund refund refund refund", "the API returns 500, 401 and 502 errors", "supercalifragilistic charged",
         "ok", "Why was my card billed again this month?\r\nThanks,\u2003Anna", "sig_trigger_refund_3 sig_sentiment_2"]


def _reference(model: TextModel, texts):
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    word, char = TfidfVectorizer(**WORD), TfidfVectorizer(**CHAR)
    word.vocabulary_, word.idf_ = {t: i for i, t in enumerate(model.word_terms)}, model.word_idf
    char.vocabulary_, char.idf_ = {t: i for i, t in enumerate(model.char_terms)}, model.char_idf
    return hstack([word.transform(texts), char.transform(texts)]).toarray()


def _model() -> TextModel:
    ex = _examples()
    extra = ["Ünïcode café naïve", "a b c refund", "x y z w errors 500", "sig_trigger_refund_3 charged"]
    texts = [e.text for e in ex] + extra
    return TextModel.fit(texts, [e.label for e in ex] + ["Billing", "Billing", "Technical", "Billing"])


def test_features_equal_scikit_learns_for_the_same_vocabulary():
    model = _model()
    assert model.char_terms and any(" " in t for t in model.word_terms)  # both parts and bigrams are exercised
    ours = model.features(TEXTS).toarray()
    assert ours.shape == (len(TEXTS), len(model.word_terms) + len(model.char_terms))
    assert ours.sum() > 0
    np.testing.assert_allclose(ours, _reference(model, TEXTS), atol=1e-5)


def test_an_analysis_extended_with_suffixes_equals_reading_the_joined_texts():
    model = _model()
    suffixes = ["sig_trigger_refund_3", "", "sig_a_1 sig_b_2", "charged", "refund", "x", "", "", "", "", "", "sig_trigger_refund_3"]
    joined = [t + "\n" + s for t, s in zip(TEXTS, suffixes)]
    extended = analyze(TEXTS).extend(suffixes)
    np.testing.assert_allclose(model.scores_of(extended), model.scores(joined), atol=1e-5)
    np.testing.assert_allclose(model.features(joined).toarray(), _reference(model, joined), atol=1e-5)


def test_the_word_cache_starting_over_changes_nothing(monkeypatch):
    model = _model()
    first = model.predict_proba(TEXTS)
    monkeypatch.setattr(features, "WORD_CACHE", 3)  # every batch overflows it
    np.testing.assert_allclose(model.predict_proba(TEXTS[:5]), first[:5], atol=1e-6)
    np.testing.assert_allclose(model.predict_proba(TEXTS), first, atol=1e-6)


def test_top_terms_in_a_batch_match_one_at_a_time_and_favour_the_label():
    model = _model()
    texts = ["refund my double payment please", "the API returns 500 errors", "hello"]
    labels = ["Billing", "Technical", "Billing"]
    batch = model.top_terms_many(texts, labels)
    assert batch == [model.top_terms(t, lab) for t, lab in zip(texts, labels)]
    assert "refund" in batch[0] and "api" in batch[1] and len(batch[0]) <= 4
    assert model.top_terms("refund", "NoSuchTeam") == ()
    p, terms = model.explain_of(analyze(texts))
    assert [model.classes[i] for i in p.argmax(axis=1)][:2] == ["Billing", "Technical"]
    assert terms[:2] == batch[:2]


def test_a_batch_decides_as_one_ticket_at_a_time_with_all_three_models():
    models = _models()
    esc = TextModel.fit([e.text for e in _examples()], ["escalate" if e.label == "Billing" else "no" for e in _examples()])
    models = LearnedModels(router=models.router, tone=models.tone, escalation=esc, versions={"router": 1, "tone": 2, "escalation": 3})
    cfg = config.load(None)
    batch = decide_many(_tickets(), cfg, NOW, models=models)
    for d, t in zip(batch, _tickets()):
        one = decide(t, cfg, NOW, DecisionContext(models=models))
        assert d.learned is not None and d.learned.escalation is not None
        assert one.learned.team == d.learned.team and one.learned.tone == d.learned.tone
        assert one.learned.escalation == pytest.approx(d.learned.escalation, abs=1e-3)
        assert one.confidence == pytest.approx(d.confidence, abs=1e-3)
    assert batch[0].learned.escalation > batch[1].learned.escalation  # the billing complaint reads as "escalate"


def test_a_batch_without_any_word_reads_as_zero_features():
    model = _model()
    empty = ["", "   ", "\n\t"]
    assert model.features(empty).nnz == 0
    np.testing.assert_allclose(model.scores(empty), np.tile(model.intercept, (3, 1)), atol=1e-6)
    assert model.predict_proba([]).shape == (0, len(model.classes))
    assert model.top_terms_many(empty, ["Billing"] * 3) == [(), (), ()]


def test_a_lean_model_scores_and_saves_as_the_full_one():
    model = _model()
    lean = TextModel.from_bytes(model.to_bytes()).prepare(lean=True)
    assert lean.coef is None
    np.testing.assert_allclose(lean.predict_proba(TEXTS), model.predict_proba(TEXTS), atol=1e-6)
    assert lean.top_terms_many(TEXTS, ["Billing"] * len(TEXTS)) == model.top_terms_many(TEXTS, ["Billing"] * len(TEXTS))
    again = TextModel.from_bytes(lean.to_bytes())
    np.testing.assert_allclose(again.coef, model.coef, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(again.predict_proba(TEXTS), model.predict_proba(TEXTS), atol=1e-6)


def test_scoring_in_slices_gives_what_one_pass_gives(monkeypatch):
    from deskwatch.core.learn import textmodel

    model = _model()
    a = analyze(TEXTS * 3)
    whole_p, whole_terms = model.explain_of(a)
    whole_scores = model.scores_of(a)
    labels = ["Billing", "Technical"] * (len(TEXTS) * 3 // 2)
    whole_top = model.top_terms_many(TEXTS * 3, labels)
    monkeypatch.setattr(textmodel, "SLICE", 5)  # slices that split the batch unevenly
    assert len(list(textmodel._slices(a))) == -(-len(TEXTS) * 3 // 5)
    p, terms = model.explain_of(a)
    np.testing.assert_allclose(p, whole_p, atol=1e-6)
    np.testing.assert_allclose(model.scores_of(a), whole_scores, atol=1e-5)
    assert terms == whole_terms
    assert model.top_terms_many(TEXTS * 3, labels) == whole_top
    extended = a.extend(["sig_x_1"] * a.n)
    monkeypatch.setattr(textmodel, "SLICE", 512)
    whole_ext = model.scores_of(extended)
    monkeypatch.setattr(textmodel, "SLICE", 7)
    np.testing.assert_allclose(model.scores_of(extended), whole_ext, atol=1e-5)


def test_bigrams_whose_words_are_not_in_the_vocabulary_still_count():
    # A vocabulary pruned by document frequency can keep "charged twice" and drop "charged".
    full = _model()
    drop = {i for i, t in enumerate(full.word_terms) if t in ("charged", "refund", "twice")}
    keep = [i for i in range(len(full.word_terms)) if i not in drop]
    assert any(t.startswith("charged ") for t in full.word_terms) and len(drop) == 3
    cols = keep + list(range(len(full.word_terms), len(full.word_terms) + len(full.char_terms)))
    pruned = TextModel(classes=full.classes, word_terms=tuple(full.word_terms[i] for i in keep), word_idf=full.word_idf[keep],
                       char_terms=full.char_terms, char_idf=full.char_idf, coef=full.coef[:, cols], intercept=full.intercept)
    ours = pruned.features(TEXTS).toarray()
    np.testing.assert_allclose(ours, _reference(pruned, TEXTS), atol=1e-5)
    bigram = pruned.word_terms.index("charged twice")
    assert ours[0, bigram] > 0


def test_models_sharing_one_cut_each_give_scikit_learns_features(monkeypatch):
    # Three vocabularies share one n-gram numbering and one word memory; a model registered
    # after a batch was cut, and the numbering starting over once models are gone, change nothing.
    import gc

    monkeypatch.setattr(features, "_GRAMS", features._Grams())
    ex = _examples()
    texts = [e.text for e in ex]
    a = _model().prepare()
    b = TextModel.fit(texts + ["zebra quokka xylophone"] * 2, [e.label for e in ex] + ["Billing"] * 2).prepare()
    plain = TEXTS + ["zebra quokka xylophone jumps"]
    batch = analyze(plain)
    first = [m.features(plain).toarray() for m in (a, b)]
    a.scores_of(batch)  # cut with the numbering before c exists
    c = TextModel.fit(texts + ["Ünïcode quokka jumps"] * 2, [e.label for e in ex] + ["Technical"] * 2).prepare()
    assert not set(c.char_terms) <= set(a.char_terms) | set(b.char_terms)  # c adds n-grams
    assert len(features._GRAMS.index) < len(a.char_terms) + len(b.char_terms) + len(c.char_terms)  # shared, not stacked
    for m, before in zip((a, b), first):
        np.testing.assert_allclose(m.features(plain).toarray(), before, atol=1e-6)
    for m in (a, b, c):
        np.testing.assert_allclose(m.features(plain).toarray(), _reference(m, plain), atol=1e-5)
        np.testing.assert_allclose(m.scores_of(batch), m.scores(plain), atol=1e-5)
    version = features._GRAMS.version
    del a, b
    gc.collect()
    monkeypatch.setattr(features, "SLACK", 1)
    greek = ["ωψχ φυτ καλη", "σρπ οξν μερα"] * 2
    lone = TextModel.fit(greek, ["Billing", "Technical"] * 2).prepare()
    assert features._GRAMS.version > version
    assert set(features._GRAMS.index) == set(c.char_terms) | set(lone.char_terms)  # a's and b's own n-grams are gone
    for m, xs in ((c, plain), (lone, plain + greek)):
        np.testing.assert_allclose(m.features(xs).toarray(), _reference(m, xs), atol=1e-5)
