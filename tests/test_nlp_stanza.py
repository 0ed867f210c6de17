"""The stanza backend (core/engine/nlp_stanza.py) with a stand-in pipeline: stanza and torch are an
extra, so these tests check everything deskwatch does around stanza without installing it:
config checks, label scores, batching, tokenizing, and the engine reading through it."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from datetime import timedelta

import pytest

from deskwatch.core import config, engine, model

from deskwatch.core.engine import nlp, nlp_stanza
from deskwatch.core.model import Message
from deskwatch.core.engine.nlp_stanza import StanzaAnalyzer, StanzaSettings, _pretokenize
from deskwatch.core.model.settings import ConfigError

from .conftest import NOW
from .store.factory import ticket


@dataclass
class _Sentence:
    text: str
    sentiment: int


@dataclass
class _Doc:
    sentences: list


class FakePipeline:
    """Splits sentences on lines (as stanza does with pretokenized text) and labels each by its
    words: 0 with "awful", 2 with "great", else 1, as stanza returns label indices."""

    def __init__(self):
        self.calls: list[list[str]] = []

    def bulk_process(self, texts):
        self.calls.append(list(texts))
        return [_Doc([_Sentence(line, self.label(line)) for line in t.split("\n")]) for t in texts]

    @staticmethod
    def label(line: str) -> int:
        words = line.lower().split()
        return 0 if "awful" in words else 2 if "great" in words else 1


def test_scores_are_the_mean_of_the_sentence_labels():
    fake = FakePipeline()
    a = StanzaAnalyzer(StanzaSettings(), pipeline=fake)
    assert a.score_many(["Awful service!!", "Great, thanks.\nIt works.", "", "  "]) == [-1.0, 0.5, 0.0, 0.0]
    # empty texts never reach the model; the rest go in one bulk call, punctuation split off
    assert fake.calls == [["Awful service ! !", "Great , thanks .\nIt works ."]]
    assert a.score("It is fine") == 0.0


def test_texts_go_in_batches_of_batch_size():
    fake = FakePipeline()
    a = StanzaAnalyzer(StanzaSettings(batch_size=2), pipeline=fake)
    assert a.score_many(["great"] * 5) == [1.0] * 5
    assert [len(c) for c in fake.calls] == [2, 2, 1]


def test_with_a_tokenizer_model_the_text_goes_as_written():
    fake = FakePipeline()
    StanzaAnalyzer(StanzaSettings(tokenize_model="/models/tok.pt"), pipeline=fake).score_many(["Great!! Thanks"])
    assert fake.calls == [["Great!! Thanks"]]


def test_pretokenize_splits_punctuation_and_drops_blank_lines():
    assert _pretokenize("Still broken!!\n\n  Don't close it, please.") == "Still broken ! !\nDon't close it , please ."


def test_a_label_without_a_score_names_the_fix():
    a = StanzaAnalyzer(StanzaSettings(labels=(("0", -1.0), ("1", 0.0))), pipeline=FakePipeline())
    with pytest.raises(ValueError, match=r"sentiment label '2', which nlp.stanza.labels does not score .* add '2' = <score"):
        a.score("great")


# -- config ---------------------------------------------------------------------------------


@pytest.fixture
def stanza_installed(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(nlp_stanza.importlib.util, "find_spec", lambda name, *a: object() if name == "stanza" else real(name, *a))


def write(tmp_path, text):
    f = tmp_path / "c.toml"
    f.write_text(text)
    return f


def test_without_the_extra_the_config_says_how_to_install_it(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(nlp_stanza.importlib.util, "find_spec", lambda name, *a: None if name == "stanza" else real(name, *a))
    f = write(tmp_path, '[nlp]\nanalyzer = "stanza"\n')
    with pytest.raises(ConfigError, match=r"nlp.analyzer: \"stanza\" needs the stanza package; install the extra: pip install 'deskwatch\[stanza\]'"):
        config.load(f)
    # not asked for, not checked: the default install needs nothing of stanza
    assert config.load(write(tmp_path, '[nlp.stanza]\nsentiment_model = "missing.pt"\n')).nlp.analyzer == "vader"


def test_model_paths_are_required_checked_and_relative_to_the_config(tmp_path, stanza_installed):
    f = write(tmp_path, '[nlp]\nanalyzer = "stanza"\n')
    with pytest.raises(ConfigError, match=r'nlp.stanza.sentiment_model: is required with analyzer = "stanza"'):
        config.load(f)
    f = write(tmp_path, '[nlp]\nanalyzer = "stanza"\n[nlp.stanza]\nsentiment_model = "models/s.pt"\npretrain = "models/v.pt"\n')
    with pytest.raises(ConfigError, match=r"nlp.stanza.sentiment_model: file not found: .*models/s.pt; train or copy"):
        config.load(f)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "s.pt").write_bytes(b"x")
    (tmp_path / "models" / "v.pt").write_bytes(b"x")
    s = config.load(f).nlp.stanza
    assert s.sentiment_model == str(tmp_path / "models" / "s.pt") and s.pretrain == str(tmp_path / "models" / "v.pt")


@pytest.mark.parametrize(
    "table, message",
    [
        ("[nlp.stanza.labels]\n0 = -2.0\n", r"nlp.stanza.labels.0: must be at least -1"),
        ("[nlp.stanza]\nbatch_size = 0\n", r"nlp.stanza.batch_size: must be at least 1"),
        ("[nlp.stanza]\nsentiment_modle = \"x\"\n", r"nlp.stanza.sentiment_modle: unknown key; did you mean 'sentiment_model'"),
    ],
)
def test_bad_stanza_settings_fail_with_the_key(tmp_path, table, message):
    with pytest.raises(ConfigError, match=message):
        config.load(write(tmp_path, table))


def test_the_engine_reads_sentiment_through_stanza(tmp_path, stanza_installed, monkeypatch):
    for name in ("s.pt", "v.pt"):
        (tmp_path / name).write_bytes(b"x")
    f = write(tmp_path, '[nlp]\nanalyzer = "stanza"\nsupport_layer = false\n[nlp.stanza]\nsentiment_model = "s.pt"\npretrain = "v.pt"\n')
    cfg = config.load(f)
    built: list[StanzaSettings] = []
    monkeypatch.setattr(nlp_stanza, "build_pipeline", lambda s: built.append(s) or FakePipeline())
    nlp.analyzer_for.cache_clear()
    try:
        t = ticket("zendesk:1", subject="Export", body="Awful. The export is awful.", created=NOW - timedelta(hours=1))
        d = engine.decide(t, cfg, NOW)
    finally:
        nlp.analyzer_for.cache_clear()
    sentiment = next(s for s in d.signals if s.name == "sentiment")
    assert sentiment.value > 0 and built == [cfg.nlp.stanza]  # the pipeline was built once, on first use


def test_a_bulk_analyzer_scores_a_whole_batch_in_one_call(monkeypatch):
    """decide_many reads ahead for analyzers that say ``bulk = True``; the decisions are the
    same as when each ticket is scored on its own."""

    class Words:
        name = "words"

        def __init__(self, bulk):
            self.bulk, self.calls = bulk, []

        def score(self, text):
            return self.score_many([text])[0]

        def score_many(self, texts):
            self.calls.append(len(texts))
            return [-0.8 if "awful" in t.lower() else 0.3 for t in texts]

    tickets = [
        ticket(f"zendesk:{i}", email=f"c{i}@x.example", body=body, created=NOW - timedelta(hours=i + 1),
               extra_messages=(Message("customer", NOW - timedelta(minutes=30), "Awful, still broken.", True, "c"),))
        for i, body in enumerate(["It works, thanks.", "The export is awful.", "Where is my invoice?"])
    ]
    out = {}
    for bulk in (True, False):
        analyzer = Words(bulk)
        nlp.register_analyzer("words-test", lambda cfg, a=analyzer: a)
        nlp.analyzer_for.cache_clear()
        try:
            cfg = config.load(None)
            cfg = config.Config(cfg.file, {**cfg.sections, "nlp": nlp.NlpConfig(analyzer="words-test")}, cfg.raw)
            out[bulk] = [model.decision_to_dict(d) for d in engine.decide_many(tickets, cfg, NOW)]
        finally:
            nlp._REGISTRY.pop("words-test", None)
            nlp.analyzer_for.cache_clear()
        # In bulk, one call for the batch; ticket by ticket, a text already read (the repeated
        # "Awful, still broken.") is not scored again.
        assert analyzer.calls == ([6] if bulk else [2, 1, 1])
    assert out[True] == out[False] and [d["tones"] for d in out[True]] == [[0.3, -0.8], [-0.8, -0.8], [0.3, -0.8]]
