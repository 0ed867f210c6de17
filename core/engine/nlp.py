"""Sentiment analysis behind a small interface, plus a support-specific layer.

``Analyzer`` is what the engine needs: a ``name`` and ``score(text) -> float`` in -1..1 (with
``score_many`` for batches). ``VaderAnalyzer`` (vaderSentiment, offline, MIT) is the default.
Lexicons miss how complaints are phrased ("still waiting on my refund" reads neutral), so
``SupportLayer`` adds complaint cues on top: phrases, ALL-CAPS words, repeated "!!"; every hit
is kept as evidence. ``analyzer = "stanza"`` uses a stanza classifier instead (the stanza
extra, core/engine/nlp_stanza.py). Other backends register a factory under a name with
``register_analyzer``; config picks one with ``[nlp] analyzer = "..."``.

Config section ``nlp`` (owned here)::

    [nlp]
    analyzer = "vader"        # a registered analyzer name
    support_layer = true      # add complaint cues on top of the analyzer's score
    caps_min_words = 2        # ALL-CAPS words (4+ letters) needed before shouting counts
    [nlp.cues]                # phrase = how much it lowers the -1..1 score
    "still waiting" = 0.35
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Callable, Iterable, Mapping, Protocol, Sequence, runtime_checkable

from deskwatch.core.engine import nlp_stanza
from deskwatch.core.engine.nlp_stanza import StanzaSettings
from deskwatch.core.model.settings import ConfigError, Section
from deskwatch.core.engine.text import PhraseMatcher

DEFAULT_CUES: dict[str, float] = {
    "still waiting": 0.35,
    "still not": 0.25,
    "still no": 0.25,
    "third time": 0.4,
    "fourth time": 0.45,
    "fifth time": 0.5,
    "3rd time": 0.4,
    "yet again": 0.3,
    "again": 0.1,
    "how many times": 0.4,
    "unacceptable": 0.45,
    "ridiculous": 0.35,
    "waste of time": 0.35,
    "fed up": 0.35,
    "cancel": 0.3,
    "escalate": 0.3,
    "no response": 0.35,
    "no reply": 0.35,
    "no answer": 0.3,
    "nobody has replied": 0.35,
    "ignored": 0.3,
    "for days": 0.2,
    "for weeks": 0.3,
    "speak to a manager": 0.4,
    "your manager": 0.3,
}

DEFAULTS: dict = {
    "analyzer": "vader",
    "support_layer": True,
    "caps_min_words": 2,
    "exclaim_penalty": 0.15,
    "caps_penalty": 0.2,
    "cues": dict(DEFAULT_CUES),
    "stanza": nlp_stanza.DEFAULTS,
}

# Capitalised words that are names, not shouting.
ACRONYMS = frozenset(
    "API SSO SAML GDPR CCPA HIPAA SOC ISO URL CSV PDF HTTP HTTPS JSON XML SLA VPN DNS SMTP IMAP LDAP "
    "OAUTH AWS GCP EMEA APAC USA UTC CET CEST PST EST CEO CTO CFO COO VAT IBAN SWIFT ASAP FYI SAAS "
    "CRM ERP HTML REST SFTP IOS MFA OTP TLS SSL IDs".split()
)


@dataclass(frozen=True)
class NlpConfig:
    analyzer: str = "vader"
    support_layer: bool = True
    caps_min_words: int = 2
    exclaim_penalty: float = 0.15
    caps_penalty: float = 0.2
    cues: tuple[tuple[str, float], ...] = tuple(sorted(DEFAULT_CUES.items()))
    stanza: StanzaSettings = field(default_factory=StanzaSettings)  # [nlp.stanza], for analyzer = "stanza"


def parse(section: Section) -> NlpConfig:
    """Read the ``nlp`` section; unknown keys are errors."""
    d = DEFAULTS
    cues_section = section.section("cues", d["cues"])
    cues = dict(DEFAULT_CUES)
    for k in cues_section.keys():
        cues[k] = cues_section.number(k, min=0, max=2)
    analyzer = section.string("analyzer", d["analyzer"])
    cfg = NlpConfig(
        analyzer=analyzer,
        support_layer=section.boolean("support_layer", d["support_layer"]),
        caps_min_words=section.integer("caps_min_words", d["caps_min_words"], min=1),
        exclaim_penalty=section.number("exclaim_penalty", d["exclaim_penalty"], min=0, max=1),
        caps_penalty=section.number("caps_penalty", d["caps_penalty"], min=0, max=1),
        cues=tuple(sorted((k, v) for k, v in cues.items() if v > 0)),
        stanza=nlp_stanza.parse(section.section("stanza", d["stanza"]), required=analyzer == "stanza"),
    )
    section.check_unknown(d)
    return cfg


# -- analyzers --------------------------------------------------------------------------------


@runtime_checkable
class Analyzer(Protocol):
    """A sentiment backend: -1 (furious) .. 0 (neutral) .. 1 (delighted)."""

    name: str

    def score(self, text: str) -> float: ...

    def score_many(self, texts: Sequence[str]) -> list[float]: ...


class VaderAnalyzer:
    """vaderSentiment's compound score, computed by ``deskwatch.core.engine.vader.FastVader`` (the same
    value as ``polarity_scores(text)["compound"]``, several times faster). The lexicon loads
    once per process, on first use."""

    name = "vader"

    def __init__(self) -> None:
        from deskwatch.core.engine.vader import FastVader

        self._fast = FastVader()

    def score(self, text: str) -> float:
        if not text:
            return 0.0
        return self._fast.compound(text)

    def score_many(self, texts: Sequence[str]) -> list[float]:
        compound = self._fast.compound
        return [compound(t) if t else 0.0 for t in texts]

    def negative_words(self, text: str, limit: int = 5) -> tuple[str, ...]:
        """The words of ``text`` the lexicon rates clearly negative, for evidence."""
        return self._fast.negative_words(text, limit)


AnalyzerFactory = Callable[[NlpConfig], Analyzer]
_REGISTRY: dict[str, AnalyzerFactory] = {
    "vader": lambda cfg: VaderAnalyzer(),
    # The stanza extra: imports stanza (and torch) only when a text is first scored.
    "stanza": lambda cfg: nlp_stanza.StanzaAnalyzer(cfg.stanza),
}


def register_analyzer(name: str, factory: AnalyzerFactory) -> None:
    """Make an analyzer available as ``[nlp] analyzer = name``; ``factory(nlp_config)`` builds it."""
    if not name or not isinstance(name, str):
        raise ValueError("an analyzer needs a non-empty name")
    _REGISTRY[name] = factory
    analyzer_for.cache_clear()


def available_analyzers() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


@lru_cache(maxsize=8)
def analyzer_for(cfg: NlpConfig) -> Analyzer:
    """The analyzer the config names, built once per configuration."""
    factory = _REGISTRY.get(cfg.analyzer) or _plugin_factory(cfg.analyzer)
    if factory is None:
        raise ConfigError(
            "", "nlp.analyzer", f'unknown analyzer "{cfg.analyzer}"; available: {", ".join(available_analyzers())}'
        )
    return factory(cfg)


# Set by deskwatch.core.connect.plugins when it is imported (the CLI, the daemon and the console
# import it at start): the engine is pure and must not load plugins itself.
plugin_analyzers: Callable[[], Mapping[str, Callable[[], object]]] | None = None


def _plugin_factory(name: str) -> AnalyzerFactory | None:
    """An analyzer a plugin contributes (hook ``deskwatch_register_analyzers``, zero-argument
    factories). Asked only when the configured name is not registered here, so choosing the
    built-in analyzer never loads plugins."""
    if plugin_analyzers is None:
        return None
    factory = plugin_analyzers().get(name)
    if factory is None:
        return None
    return lambda cfg: _complete(factory(), name)


class _OneByOne:
    """A plugin analyzer that has only ``score(text)`` (all the hook asks for), with
    ``score_many`` calling it per text. Other attributes pass through."""

    def __init__(self, analyzer: object):
        self._analyzer = analyzer
        self.name = getattr(analyzer, "name", "")

    def score(self, text: str) -> float:
        return self._analyzer.score(text)  # type: ignore[attr-defined]

    def score_many(self, texts: Sequence[str]) -> list[float]:
        return [self._analyzer.score(t) for t in texts]  # type: ignore[attr-defined]

    def __getattr__(self, attr: str) -> object:
        return getattr(self._analyzer, attr)


def _complete(analyzer: object, name: str) -> Analyzer:
    if not callable(getattr(analyzer, "score", None)):
        raise ConfigError(
            "", "nlp.analyzer",
            f'the plugin analyzer "{name}" has no score(text) method; its factory returned {type(analyzer).__name__} '
            f"(fix the plugin, or choose another analyzer)",
        )
    if callable(getattr(analyzer, "score_many", None)):
        return analyzer  # type: ignore[return-value]
    return _OneByOne(analyzer)  # type: ignore[return-value]


# -- the support-specific layer ---------------------------------------------------------------

# \b[A-Z][A-Z']{3,}\b, with the word-start check after the first letter so the regex engine
# can skip straight to capitals instead of trying every position.
_CAPS = re.compile(r"[A-Z](?<=\b[A-Z])[A-Z']{3,}\b")
_EXCLAIM = re.compile(r"[!?]*![!?]*!+[!?]*")


@dataclass(frozen=True)
class Reading:
    """Sentiment of one message: the analyzer's score, the adjusted score, the cues that moved it."""

    base: float
    score: float
    cues: tuple[str, ...] = ()


@dataclass(frozen=True)
class SupportLayer:
    """Complaint cues lexicons miss; each lowers the score and is kept as evidence."""

    config: NlpConfig = field(default_factory=NlpConfig)

    # Cached per layer: looking them up by the cues tuple would hash all of it on every message.
    @cached_property
    def matcher(self) -> PhraseMatcher:
        return _cue_matcher(self.config.cues)

    @cached_property
    def _weights(self) -> dict[str, float]:
        return dict(self.config.cues)

    def cues(self, text: str, words: frozenset[str] | None = None) -> tuple[tuple[str, float], ...]:
        """(evidence, penalty) for every cue in ``text``; ``words`` is ``word_set(text)`` if known."""
        if not self.config.support_layer or not text:
            return ()
        weights = self._weights
        out: list[tuple[str, float]] = []
        seen: set[str] = set()
        for hit in self.matcher.find(text, words):
            key = hit.text.lower()
            base = key[:-2] if key not in weights and key.endswith("es") and key[:-2] in weights else key
            base = base[:-1] if base not in weights and base.endswith("s") else base
            if key in seen or base not in weights:
                continue
            seen.add(key)
            out.append((f'"{hit.text}"', weights[base]))
        if self.config.caps_penalty:
            caps = [w for w in _CAPS.findall(text) if w.upper() not in ACRONYMS]
            if len(caps) >= self.config.caps_min_words:
                out.append((f"all caps: {' '.join(caps[:4])}", self.config.caps_penalty))
        if self.config.exclaim_penalty and "!!" in text:
            marks = max(_EXCLAIM.findall(text), key=len, default="!!")
            out.append((f'"{marks}"', self.config.exclaim_penalty))
        return tuple(out)

    def read(self, base: float, text: str, words: frozenset[str] | None = None) -> Reading:
        """Adjust an analyzer score with the cues found in ``text``."""
        cues = self.cues(text, words)
        if not cues:
            return Reading(base, base)
        score = max(-1.0, base - sum(p for _, p in cues))
        return Reading(base, score, tuple(c for c, _ in cues))


@lru_cache(maxsize=8)
def _cue_matcher(cues: tuple[tuple[str, float], ...]) -> PhraseMatcher:
    # No negation here: "not" inside "still not" is the cue itself.
    return PhraseMatcher({"cue": [c for c, _ in cues]}, negation=False)


def read_messages(
    texts: Iterable[str],
    analyzer: Analyzer,
    layer: SupportLayer,
    words: Sequence[frozenset[str]] | None = None,
    bases: Sequence[float] | None = None,
) -> tuple[Reading, ...]:
    """One Reading per text; each text is analyzed exactly once. ``words``: each text's
    ``word_set``, when the caller already has them; ``bases``: the analyzer's scores, when
    they were computed ahead (TextCache.read_ahead)."""
    texts = list(texts)
    if words is None:
        words = [None] * len(texts)  # type: ignore[list-item]
    if bases is None:
        bases = analyzer.score_many(texts)
    return tuple(layer.read(b, t, w) for b, t, w in zip(bases, texts, words))
