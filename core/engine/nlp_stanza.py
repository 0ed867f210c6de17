"""A stanza sentiment backend: ``[nlp] analyzer = "stanza"`` (``pip install 'deskwatch[stanza]'``).

Why a second backend: lexicons such as VADER miss complaints phrased neutrally ("still
waiting on my refund"); a classifier trained on support text catches more of them. stanza
brings torch (about 1 GB), so it is an extra, and nothing here is imported unless the config
asks for it.

No model hub is used, ever: stanza's pretrained models are normally downloaded at run time,
which an offline install cannot do. The config points at model files the operator has (a
model set downloaded on another machine, or one trained on their own tickets; docs/nlp.md
shows how). ``download_method=None`` keeps stanza from reaching for the network.

The score of a text is the mean, over its sentences, of the value configured for each
sentence's label (by default stanza's English labels 0, 1, 2 are -1, 0 and 1). Texts are
scored in bulk, which is several times faster than one at a time.

Config section ``nlp.stanza``::

    [nlp.stanza]
    sentiment_model = "models/en_tickets_sentiment.pt"   # required with analyzer = "stanza"
    pretrain = "models/en_vectors.pretrain.pt"           # the word vectors it was trained with
    tokenize_model = ""        # a tokenizer .pt; "" splits words, punctuation and lines by rule (faster)
    dir = ""                   # stanza resources dir; "" uses an empty one
    batch_size = 32            # texts per bulk call
    [nlp.stanza.labels]        # label = score in -1..1
    "0" = -1.0
    "1" = 0.0
    "2" = 1.0

Relative paths are read from the config file's folder.
"""

from __future__ import annotations

import importlib.util
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from deskwatch.core.model.settings import ConfigError, Section

DEFAULT_LABELS: dict[str, float] = {"0": -1.0, "1": 0.0, "2": 1.0}

DEFAULTS: dict[str, Any] = {
    "sentiment_model": "",
    "pretrain": "",
    "tokenize_model": "",
    "dir": "",
    "batch_size": 32,
    "labels": dict(DEFAULT_LABELS),
}

INSTALL_HINT = "install the extra: pip install 'deskwatch[stanza]' (with torch's CPU build first, docs/nlp.md)"


@dataclass(frozen=True)
class StanzaSettings:
    sentiment_model: str = ""
    pretrain: str = ""
    tokenize_model: str = ""
    dir: str = ""
    batch_size: int = 32
    labels: tuple[tuple[str, float], ...] = tuple(DEFAULT_LABELS.items())


def parse(section: Section, *, required: bool) -> StanzaSettings:
    """Read ``nlp.stanza``. With ``required`` (the analyzer is "stanza"), check that stanza is
    installed and the model files exist, so ``deskwatch config check`` finds the problem
    before the daemon does."""
    d = DEFAULTS
    base = Path(section.file).parent if section.file else Path.cwd()
    labels_section = section.section("labels", d["labels"])
    labels = {k: labels_section.number(k, min=-1, max=1) for k in labels_section.keys()}
    if not labels:
        raise section.error("labels", 'is empty; give every sentiment label its score, e.g. "0" = -1.0')
    settings = StanzaSettings(
        sentiment_model=_path(base, section.string("sentiment_model", d["sentiment_model"])),
        pretrain=_path(base, section.string("pretrain", d["pretrain"])),
        tokenize_model=_path(base, section.string("tokenize_model", d["tokenize_model"])),
        dir=_path(base, section.string("dir", d["dir"])),
        batch_size=section.integer("batch_size", d["batch_size"], min=1, max=4096),
        labels=tuple(sorted(labels.items())),
    )
    section.check_unknown(d)
    if required:
        if importlib.util.find_spec("stanza") is None:
            raise ConfigError(section.file, "nlp.analyzer", f'"stanza" needs the stanza package; {INSTALL_HINT}')
        for key in ("sentiment_model", "pretrain"):
            if not getattr(settings, key):
                raise section.error(key, 'is required with analyzer = "stanza"; give the path of the model file (docs/nlp.md)')
        for key in ("sentiment_model", "pretrain", "tokenize_model"):
            path = getattr(settings, key)
            if path and not Path(path).is_file():
                raise section.error(key, f"file not found: {path}; train or copy the model there (docs/nlp.md)")
        if settings.dir and not Path(settings.dir).is_dir():
            raise section.error("dir", f"folder not found: {settings.dir}; leave it empty to use none")
    return settings


def _path(base: Path, value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else base / p)


class StanzaAnalyzer:
    """Sentence-level stanza sentiment, averaged per text. The pipeline (2 s to import stanza,
    about 1.5 s to load the models) is built on first use, once per analyzer."""

    name = "stanza"
    bulk = True  # one large batch is several times faster: TextCache.read_ahead uses it

    def __init__(self, settings: StanzaSettings, pipeline: Any = None):
        self.settings = settings
        self._values = dict(settings.labels)
        self._pipeline = pipeline  # tests pass a stand-in

    def score(self, text: str) -> float:
        return self.score_many([text])[0]

    def score_many(self, texts: Sequence[str]) -> list[float]:
        out = [0.0] * len(texts)
        todo = [(i, t) for i, t in enumerate(texts) if t and t.strip()]
        if not todo:
            return out
        pipeline = self._load()
        prepare = _pretokenize if not self.settings.tokenize_model else str
        size = self.settings.batch_size
        for start in range(0, len(todo), size):
            chunk = todo[start : start + size]
            docs = pipeline.bulk_process([prepare(t) for _, t in chunk])
            for (i, _), doc in zip(chunk, docs):
                out[i] = self._doc_score(doc)
        return out

    def _doc_score(self, doc: Any) -> float:
        values = []
        for sentence in doc.sentences:
            label = str(sentence.sentiment)
            if label not in self._values:
                known = ", ".join(repr(k) for k in self._values)
                raise ValueError(
                    f"the stanza model gave sentiment label {label!r}, which nlp.stanza.labels does not score "
                    f"(it has {known}); add {label!r} = <score in -1..1> to [nlp.stanza.labels]"
                )
            values.append(self._values[label])
        return sum(values) / len(values) if values else 0.0

    def _load(self) -> Any:
        if self._pipeline is None:
            self._pipeline = build_pipeline(self.settings)
        return self._pipeline


_TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")


def tokens(text: str) -> list[str]:
    """The words and punctuation marks of ``text`` as the analyzer splits them without a
    tokenizer model; training data made with this matches what the model will see."""
    return _TOKEN.findall(text)


def _pretokenize(text: str) -> str:
    """Without a tokenizer model stanza splits on whitespace (tokens) and lines (sentences);
    splitting punctuation off first ("broken!!" -> "broken ! !") lets words meet their vectors."""
    lines = (" ".join(tokens(line)) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def build_pipeline(s: StanzaSettings) -> Any:
    try:
        import stanza
    except ImportError:
        raise ConfigError("", "nlp.analyzer", f'"stanza" needs the stanza package; {INSTALL_HINT}') from None
    folder = s.dir
    if not folder:
        # stanza wants a resources.json; an empty one means "nothing Stanford-specific".
        folder = tempfile.mkdtemp(prefix="deskwatch-stanza-")
        Path(folder, "resources.json").write_text(json.dumps({}))
    kwargs: dict[str, Any] = {
        "lang": "en",
        "processors": "tokenize,sentiment",
        "dir": folder,
        "download_method": None,
        # An empty resources.json lists no languages; the models are given by path anyway.
        "allow_unknown_language": True,
        "use_gpu": False,
        "logging_level": "ERROR",  # its "unsupported language" warning is expected here
        "sentiment_model_path": s.sentiment_model,
        "sentiment_pretrain_path": s.pretrain,
    }
    if s.tokenize_model:
        kwargs["tokenize_model_path"] = s.tokenize_model
    else:
        kwargs["tokenize_pretokenized"] = True
    return stanza.Pipeline(**kwargs)
