"""The analyzer interface, VADER, the support layer, the registry and the nlp config."""

from __future__ import annotations

import pytest

from deskwatch.core import config

from deskwatch.core.engine import nlp
from deskwatch.core.engine.nlp import Analyzer, NlpConfig, SupportLayer, VaderAnalyzer, analyzer_for, register_analyzer
from deskwatch.core.model.settings import ConfigError, Section


def test_vader_scores_polite_positive_and_furious_negative():
    a = VaderAnalyzer()
    assert isinstance(a, Analyzer) and a.name == "vader"
    assert a.score("Thank you so much, your team has been wonderful and very helpful!") > 0.5
    assert a.score("This is terrible, the worst service I have ever had. Awful.") < -0.5
    assert a.score("") == 0.0
    assert a.score_many(["great", "awful"]) == [a.score("great"), a.score("awful")]


def test_negative_words_are_exact_words_from_the_text():
    assert VaderAnalyzer().negative_words("The app is Useless and the support is terrible.") == ("Useless", "terrible")


def test_support_layer_finds_cues_vader_misses():
    layer = SupportLayer(NlpConfig())
    text = "Still waiting on my refund. This is the third time I ask, please ESCALATE THIS NOW!!"
    base = VaderAnalyzer().score(text)
    r = layer.read(base, text)
    assert r.score < base - 0.8
    assert '"Still waiting"' in r.cues and '"third time"' in r.cues and '"!!"' in r.cues
    assert any(c.startswith("all caps: ESCALATE THIS") for c in r.cues)


def test_acronyms_are_not_shouting():
    layer = SupportLayer(NlpConfig())
    assert layer.cues("Our SAML SSO and the REST API return HTTP 500 for the CSV export") == ()


def test_support_layer_can_be_turned_off():
    layer = SupportLayer(NlpConfig(support_layer=False))
    assert layer.read(0.1, "still waiting!!").score == 0.1


def test_registry_adds_an_analyzer_by_name():
    class Fixed:
        name = "fixed"

        def score(self, text):
            return -0.5

        def score_many(self, texts):
            return [-0.5 for _ in texts]

    register_analyzer("fixed-test", lambda cfg: Fixed())
    try:
        a = analyzer_for(NlpConfig(analyzer="fixed-test"))
        assert a.score("anything") == -0.5
        assert "fixed-test" in nlp.available_analyzers()
    finally:
        nlp._REGISTRY.pop("fixed-test", None)
        analyzer_for.cache_clear()


def test_unknown_analyzer_names_the_key_and_the_choices():
    with pytest.raises(ConfigError, match=r'nlp.analyzer: unknown analyzer "stanza-x"; available: stanza, vader'):
        analyzer_for(NlpConfig(analyzer="stanza-x"))


def test_nlp_config_defaults_and_errors(tmp_path):
    assert nlp.parse(Section({})) == nlp.parse(Section(nlp.DEFAULTS))
    f = tmp_path / "c.toml"
    f.write_text('[nlp]\ncaps_min_words = "two"\n')
    with pytest.raises(ConfigError, match=r'nlp.caps_min_words: expected a whole number, got "two"'):
        config.load(f)
    f.write_text('[nlp.cues]\n"not again" = 0.3\n"again" = 0\n')
    cues = dict(config.load(f).nlp.cues)
    assert cues["not again"] == 0.3 and "again" not in cues and "still waiting" in cues


def test_plugin_analyzers_are_found_by_name(monkeypatch):
    from deskwatch.core.connect import plugins

    class Grumpy:
        name = "grumpy"

        def score(self, text):
            return -1.0

        def score_many(self, texts):
            return [-1.0] * len(texts)

    monkeypatch.setattr(plugins, "analyzers", lambda: {"grumpy-plugin": Grumpy})
    analyzer_for.cache_clear()
    try:
        assert analyzer_for(NlpConfig(analyzer="grumpy-plugin")).score("lovely") == -1.0
    finally:
        analyzer_for.cache_clear()


def test_a_plugin_analyzer_with_only_score_works_and_one_without_is_named(monkeypatch):
    from deskwatch.core.connect import plugins

    class Polite:
        name = "polite"

        def score(self, text):
            return 0.5

    monkeypatch.setattr(plugins, "analyzers", lambda: {"polite": Polite, "broken": object})
    analyzer_for.cache_clear()
    try:
        a = analyzer_for(NlpConfig(analyzer="polite"))
        assert a.name == "polite" and a.score_many(["a", "b"]) == [0.5, 0.5]
        with pytest.raises(ConfigError, match=r'nlp.analyzer: the plugin analyzer "broken" has no score\(text\) method'):
            analyzer_for(NlpConfig(analyzer="broken"))
    finally:
        analyzer_for.cache_clear()
