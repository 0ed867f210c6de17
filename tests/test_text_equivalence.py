"""The fast text paths give exactly what the plain regexes give.

``new_text`` skips its quote and signature regexes when a message lacks their key words and
reads sign-offs from the bottom up; ``PhraseMatcher`` compiles only the phrases whose words
occur. Both are checked here against straightforward reference versions (the regexes applied
to the whole text) over thousands of real and generated messages.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import re

import pytest

from deskwatch.core import config
from deskwatch.core.engine.nlp import SupportLayer
from deskwatch.core.engine.text import (
    _QUOTE_START,
    _SIGNATURE_START,
    _SIGN_OFF_MAX_CHARS,
    _SIGN_OFF_MAX_LINES,
    PhraseMatcher,
    is_negated,
    new_text,
    phrase_pattern,
    unquote,
    word_set,
)
from tests.conftest import DATASETS, ROOT

_SIGN_OFF_LINE = re.compile(
    r"^[ \t]*(?:best(?: regards| wishes)?|kind regards|warm regards|regards|many thanks|thanks(?: again| so much| in advance)?"
    r"|thank you(?: in advance| so much)?|cheers|sincerely|yours(?: sincerely| truly)?|br|thx|all the best)"
    r"[ \t]*[,.!]*[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)


def reference_new_text(body: str) -> str:
    if not body:
        return ""
    text = body.replace("\r\n", "\n").replace("\u2019", "'")
    m = _QUOTE_START.search(text)
    if m:
        text = text[: m.start()]
    if ">" in text:
        text = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith(">"))
    m = _SIGNATURE_START.search(text)
    if m:
        text = text[: m.start()]
    if "\n" in text:
        last = None
        for m in _SIGN_OFF_LINE.finditer(text):
            last = m
        if last is not None:
            after = [line for line in text[last.end() :].split("\n") if line.strip()]
            if not (len(after) > _SIGN_OFF_MAX_LINES or any(len(line.strip()) > _SIGN_OFF_MAX_CHARS for line in after)):
                text = text[: last.start()]
    return unquote(text.strip())


def reference_find(categories: dict[str, list[str]], text: str, negation: bool, plural: bool) -> list[tuple[str, str, int]]:
    out = []
    for name, phrases in categories.items():
        pat = _reference_pattern(tuple(phrases), plural)
        if pat is None:
            continue
        for m in pat.finditer(text):
            if negation and is_negated(text, m.start()):
                continue
            out.append((name, " ".join(m.group(0).split()), m.start()))
    return out


@functools.lru_cache(maxsize=None)
def _reference_pattern(phrases: tuple[str, ...], plural: bool) -> re.Pattern[str] | None:
    return phrase_pattern(phrases, plural)


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_score", ROOT / "bench" / "score.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _csv_column(path, *columns: str, limit: int = 4000) -> list[str]:
    if not path.exists():
        pytest.fail(f"dataset not found at {path}; set DESKWATCH_SHARED to the shared/ folder")
    out: list[str] = []
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out += [row[c] for c in columns if row.get(c)]
            if len(out) >= limit:
                break
    return out


EDGE_CASES = [
    "Still broken.\n\nThanks,\nAnna\n\nOn Mon, Bob wrote:\n> try again",
    "Thanks, that fixed it!\nAnna",
    "Hello\nThanks\n" + "\n".join(f"line {i}" for i in range(6)),
    "Hello\nThanks\n" + "\n".join(f"line {i}" for i in range(5)),
    "Hello\nBest regards,\n" + "x" * 61,
    "Hello\nBest regards,\n\n\n\nAnna\n\n",
    "Hi\n  Kind regards ,\nAnna",
    "Hi\nKind regards, ,\nAnna",
    "Hi\nCheers!!\nA\nThanks\nB",
    "Hi\r\nregards\r\nTom",
    "Text\n-- \nsig",
    "Text\nSent from my iPhone",
    "Text\n----- Original Message -----\nFrom: x",
    "Text\nFrom: a@b.c\nSent: Monday\nTo: x",
    "Text\nAm Montag schrieb Anna:\n> alt",
    "Text\nLe lundi, Anna a écrit :\n> vieux",
    "Text\n" + "_" * 12 + "\nFrom: someone",
    "This message is about the wrote: field",
    "nothing\n\n\n",
    "",
    "  \n ",
    "Thanks",
    "Hi\nthanks so much\nbr\nAnna",
]


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    bench = _bench_module()
    texts = [m.body for t in bench.generate(800, 11) for m in t.messages]
    texts += _csv_column(DATASETS / "airline-sentiment" / "dev.csv", "text")
    texts += _csv_column(DATASETS / "support-tickets" / "tickets-4-20k.csv", "subject", "body", "answer")
    texts += _csv_column(DATASETS / "banking77" / "train.csv", "text", limit=2000)
    return texts + EDGE_CASES


def test_new_text_matches_the_plain_regexes(corpus):
    different = [t for t in corpus if new_text(t) != reference_new_text(t)]
    assert len(corpus) > 10_000
    assert different == []


@pytest.mark.parametrize("which", ["triggers", "impact", "loop", "cues"])
def test_phrase_matcher_matches_the_plain_regexes(corpus, which):
    cfg = config.load(None)
    esc = cfg.escalation
    matcher: PhraseMatcher = {
        "triggers": esc.trigger_matcher,
        "impact": esc.impact.matcher,
        "loop": esc.loop.matcher,
        "cues": SupportLayer(cfg.nlp).matcher,
    }[which]
    categories = {name: sorted(phrases) for name, phrases in zip(matcher.names, matcher._phrases)}
    texts = [new_text(t) for t in corpus] + corpus
    hits = 0
    for text in texts:
        want = reference_find(categories, text, matcher.negation, matcher.plural)
        got = [(h.category, h.text, h.start) for h in matcher.find(text, word_set(text))]
        assert got == want, text
        hits += len(got)
    assert hits > 100  # the corpus exercises the matcher, not only its fast "no candidate" path


def test_plural_and_punctuated_phrases():
    m = PhraseMatcher({"a": ["data breach", "c++", "outage", "can't log in"], "b": ["log"]})
    text = "Two data breaches, one OUTAGES report, C++es and c++ code; we can't   log in. Logs!"
    want = reference_find({"a": ["data breach", "c++", "outage", "can't log in"], "b": ["log"]}, text, True, True)
    assert [(h.category, h.text, h.start) for h in m.find(text)] == want
    assert {h.text for h in m.find(text)} >= {"data breaches", "OUTAGES", "can't log in", "Logs"}
