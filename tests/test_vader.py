"""FastVader gives exactly vaderSentiment's compound: hand-written edge cases, a seeded fuzz of
rule triggers, and a corpus (airline tweets + the engine bench's generated tickets).

Every text is compared twice: the rounded compound ``polarity_scores`` returns, and the
library's unrounded compound (its module-level ``round`` patched out), so a float operation
done in a different order would show even where rounding hides it.
"""

from __future__ import annotations

import csv
import importlib.util
import random
import re
from unittest import mock

import pytest
import vaderSentiment.vaderSentiment as vs

from deskwatch.core.engine.nlp import VaderAnalyzer
from deskwatch.core.engine.vader import FastVader, _tables

from .conftest import DATASETS, ROOT

AIRLINE_DEV = DATASETS / "airline-sentiment" / "dev.csv"


@pytest.fixture(scope="module")
def sia() -> vs.SentimentIntensityAnalyzer:
    return vs.SentimentIntensityAnalyzer()


@pytest.fixture(scope="module")
def fast() -> FastVader:
    return FastVader()


def mismatches(sia, fast: FastVader, texts) -> list[tuple[str, float, float]]:
    """(text, library, ours) for every text whose compound differs, rounded or not."""
    out = []
    for text in texts:
        lib, ours = sia.polarity_scores(text)["compound"], fast.compound(text)
        if lib != ours:
            out.append((text, lib, ours))
    with mock.patch.object(vs, "round", lambda x, n=None: x, create=True):
        for text in texts:
            lib, ours = sia.polarity_scores(text)["compound"], fast.unrounded_compound(text)
            if lib != ours:
                out.append((text, lib, ours))
    return out


EDGE_CASES = [
    # negation, incl. "n't" inside a word, and the never so/this, without doubt exceptions
    "not good", "isn't bad", "It isn't bad at all", "never so good", "never this good", "never good",
    "Sentiment analysis has never been this good!", "without doubt good", "without a doubt good",
    "Without a doubt, excellent idea.", "nothing good", "we are not happy, nor satisfied",
    "I don't think it is good", "I dont like it", "this is not really very good", "isn’t good",
    "uh-uh good", "despite good reviews", "rarely bad", "the app wasn't so great",
    "it couldn't've been good", "you mayn't like it", "n't good", "so didn't-work good",
    # "no" as a word and as a negator, up to three words back, and "no ... or/nor"
    "no", "no good", "no, good", "no problem", "no no good", "No rush, whenever you have time.",
    "no help or support", "no joy nor fun", "there is no way this is good", "NO good way",
    # boosters and dampeners, three words back with 0.95/0.9, n-grams
    "very good", "very very good", "extremely bad service", "very, really quite good",
    "kind of bad", "kind of", "Kind regards", "kind", "sort of ok", "sort of a good one",
    "the update is just enough", "kinda sucks", "barely good", "hardly bad", "so good",
    "The food was so good", "it is so bad", "it is this bad",
    # "but": scaling, and the index() quirk: an earlier word whose halved value equals a later
    # word's value is halved again and the later one is left as is ("hell" -3.6 before "but"
    # becomes -1.8, equal to "adversity" after it: -0.9 + -1.8 instead of -1.8 + -2.7)
    "good but bad", "bad but good", "It was good, but the support is terrible.",
    "but good", "good but", "BUT good", "hell but adversity", "hell and adversity but fine",
    "good but bad but good",
    "great good but great good",
    # "least"
    "least good", "at least good", "very least good", "the least good thing",
    "At least it isn't a horrible book.", "least",
    # ALL CAPS: only when some but not all words are caps
    "GOOD", "GOOD BAD", "this is GOOD", "VERY good", "VERY GOOD food", "this is VERY good",
    "I HATE this", "The app is Useless and the support is TERRIBLE!!", "NOT good at ALL",
    "NO good", "OK", ":) HAPPY", "I am ok",
    # punctuation emphasis, counted on the whole text
    "!!!!!", "good!", "good!!!!!!!!", "bad!!", "good???", "good??", "good?", "bad ?!?!?!?!",
    "?? good ??", "no! good",
    # punctuation glued to words (_strip_punc_if_word, incl. its <= 2 characters rule)
    "'good'", '"bad"', "(great)", "...terrible...", "ok.", "ok", "no.", "so, good", "good,bad",
    "--not-- good", "!bad!", "u.s. good",
    # emoticons (lexicon entries made of punctuation) and emoji (replaced by descriptions)
    ":)", ":(", ":-)", ":D", ":d", "(:", ":) :)", "good :(", "😠", "👍", "💘", "I 👍 it", "😠x", "x😠",
    "😠😠", "👍 👍", "\n😠", "great 🆙", "fine 🔛 ok", "❤ love", "a © b ™", "🙂 not 🙂",
    # idioms: special cases only with three words before the hit; sentiment-laden idioms
    # ("cut the mustard") are never applied by 3.3.2
    "the bomb", "this is really the bomb", "the shit", "With VADER, sentiment analysis is the shit!",
    "it was the bomb", "cut the mustard", "he can cut the mustard", "yeah right", "oh well yeah right",
    "oh so yeah right", "what a bad ass", "such a badass", "a kiss of death for us", "to die for",
    "a cake to die for", "my beating heart", "at the bus stop now", "please stop", "under the weather",
    # whitespace, single characters, empty
    "", " ", "\n\t ", "a", "I", "x y z", "a b c good", "\u00a0good\u2003bad", "good\u2028bad",
    "good\x1cbad",
    # non-ASCII
    "Ça marche très bien", "naïve but good", "İİ. bad", "ΟΔΟΣ bad ΣΑΣ.", "großartig good",
    "日本語 good 😀", "ÉNORME problem", "K good",  # "K" is the Kelvin sign
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_case_matches_vader(sia, fast, text):
    lib = sia.polarity_scores(text)["compound"]
    assert fast.compound(text) == lib
    assert abs(fast.compound(text) - lib) <= 1e-12
    assert mismatches(sia, fast, [text]) == []


def test_very_long_text(sia, fast):
    base = "Thanks, but this is NOT good!! The app is kind of slow :( and support never replied. "
    texts = [base * 200, " ".join(EDGE_CASES) * 5, "good " * 2000 + "bad"]
    assert mismatches(sia, fast, texts) == []


def _fuzz_texts(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    vocab = (
        # plain words and lexicon words, so most hits take the fast path
        "the a is it we our app login page and to of for that was has been in on with".split()
        + "good bad great terrible love hate fine help thanks please sorry problem ok okay".split()
        + "kind no doubt yeah bomb shit heart stop die death kiss ass badass beating right".split()
        + [":)", ":(", ":-)", ":D", "(:", "<3"]
        # rule triggers
        + [w for w in vs.BOOSTER_DICT if " " not in w][::3]
        + vs.NEGATE[::2]
        + "not never without least at very or nor but so this sort just enough bus".split()
        + ["n't", "didn't", "isn’t", "😠", "👍", "💘", "🆙", "x", "I"]
    )
    decorations = ["", "", "", "", "", ".", ",", "!", "!!", "?", "??", "'", '"', "...", ")", "!?"]
    separators = [" "] * 12 + ["  ", "\n", "\t", "", "😠"]
    texts = []
    for _ in range(n):
        parts = []
        for _ in range(rnd.randint(1, 16)):
            w = rnd.choice(vocab)
            r = rnd.random()
            if r < 0.1:
                w = w.upper()
            elif r < 0.2:
                w = w.capitalize()
            if rnd.random() < 0.25:
                w = rnd.choice(decorations) + w + rnd.choice(decorations)
            parts.append(w + rnd.choice(separators))
        texts.append("".join(parts))
    return texts


def test_seeded_fuzz_of_rule_triggers(sia, fast):
    texts = _fuzz_texts(6000, seed=3)
    bad = mismatches(sia, fast, texts)
    assert bad == [], f"{len(bad)} of {len(texts)} fuzz texts differ, e.g. {bad[:3]}"


def _bench_score_module():
    spec = importlib.util.spec_from_file_location("bench_score_for_vader", ROOT / "bench" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_corpus_tweets_and_bench_tickets(sia, fast):
    if not AIRLINE_DEV.is_file():
        pytest.fail(f"airline tweets not found at {AIRLINE_DEV}; set DESKWATCH_SHARED to the shared/ folder")
    with AIRLINE_DEV.open(encoding="utf-8", newline="") as f:
        tweets = [row["text"] for row in csv.DictReader(f)]
    messages = [m.body for t in _bench_score_module().generate(600, 7) for m in t.messages]
    texts = tweets + messages
    assert len(tweets) > 10_000 and len(messages) > 2_000
    bad = mismatches(sia, fast, texts)
    assert bad == [], f"{len(bad)} of {len(texts)} corpus texts differ, e.g. {bad[:3]}"


def test_lexicons_are_the_librarys(sia):
    t = _tables()
    assert t.lexicon == sia.lexicon
    assert t.emojis == sia.emojis
    assert _tables() is t  # loaded once


def _reference_negative_words(lexicon, text: str, limit: int = 5) -> tuple[str, ...]:
    # VaderAnalyzer.negative_words before FastVader.
    out: list[str] = []
    for w in re.findall(r"[A-Za-z']+", text):
        if lexicon.get(w.lower(), 0.0) <= -1.5 and w.lower() not in (o.lower() for o in out):
            out.append(w)
            if len(out) >= limit:
                break
    return tuple(out)


def test_negative_words(sia, fast):
    assert fast.negative_words("The app is Useless and the support is terrible.") == ("Useless", "terrible")
    assert fast.negative_words("awful AWFUL Awful bad") == ("awful", "bad")
    assert fast.negative_words("bad awful terrible horrible useless worst", limit=2) == ("bad", "awful")
    assert fast.negative_words("") == ()
    texts = EDGE_CASES + _fuzz_texts(2000, seed=5)
    for text in texts:
        for limit in (1, 5):
            assert fast.negative_words(text, limit) == _reference_negative_words(sia.lexicon, text, limit)


def test_vader_analyzer_uses_it(sia):
    a = VaderAnalyzer()
    assert a.name == "vader"
    assert a.score("") == 0.0
    texts = ["Still waiting, this is NOT acceptable!!", "Thanks a lot, great help :)", "   "]
    assert a.score_many(texts) == [sia.polarity_scores(t)["compound"] for t in texts]
    assert a.negative_words("The app is Useless and the support is terrible.") == ("Useless", "terrible")
