"""Training with a gate: keep out the most recent part of the data, measure the new model, the
active one and the rules on that same part, and activate the new one only if it does better."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Sequence

from deskwatch.core.learn.data import Example, check_examples
from deskwatch.core.learn.textmodel import TextModel

Predict = Callable[[Sequence[str]], list[str]]


@dataclass(frozen=True)
class Figures:
    accuracy: float
    macro_f1: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        return {"accuracy": round(self.accuracy, 4), "macro_f1": round(self.macro_f1, 4), "n": self.n}


@dataclass
class TrainResult:
    kind: str
    model: TextModel
    trained_on: dict[str, Any]
    new: Figures
    active: Figures | None = None
    rules: Figures | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def better(self) -> bool:
        """Better than what runs now: the active model if there is one, else the rules."""
        incumbent = self.active or self.rules
        return incumbent is None or self.new.accuracy > incumbent.accuracy

    def figures(self) -> dict[str, Any]:
        return {"test": self.new.to_dict(), "active": self.active.to_dict() if self.active else None,
                "rules": self.rules.to_dict() if self.rules else None}


def split_recent(examples: Sequence[Example], holdout: float, notes: list[str] | None = None) -> tuple[list[Example], list[Example]]:
    """(train, test): the test part is the most recent ``holdout`` share, by time when every
    example has one, else by order (later lines are newer), so the figures say how the model
    does on what comes next rather than on a shuffle of the past.

    A file without times whose lines are grouped by label (sorted exports are) has no order
    that means time; its "recent part" would hold labels never trained on. Such a file is split
    per label instead (a seeded share of each label), and the note says so."""
    ordered = list(examples)
    if ordered and all(e.at is not None for e in ordered):
        ordered.sort(key=lambda e: e.at)  # type: ignore[arg-type,return-value]
    elif _grouped_by_label(ordered):
        if notes is not None:
            notes.append("the file has no times and is sorted by label, so the test split takes a share of each label")
        return _per_label_split(ordered, holdout)
    cut = max(1, min(len(ordered) - 1, round(len(ordered) * (1 - holdout))))
    return ordered[:cut], ordered[cut:]


def _grouped_by_label(examples: Sequence[Example]) -> bool:
    runs = 1 + sum(1 for a, b in zip(examples, examples[1:]) if a.label != b.label)
    return len(examples) > 1 and runs <= len({e.label for e in examples}) * 2


def _per_label_split(examples: Sequence[Example], holdout: float) -> tuple[list[Example], list[Example]]:
    import random

    rng = random.Random(0)  # the same split every run, so figures compare across runs
    by: dict[str, list[Example]] = {}
    for e in examples:
        by.setdefault(e.label, []).append(e)
    train_part, test_part = [], []
    for label in sorted(by):
        group = by[label][:]
        rng.shuffle(group)
        k = max(1, round(len(group) * holdout)) if len(group) > 1 else 0
        test_part += group[:k]
        train_part += group[k:]
    rng.shuffle(train_part)
    return train_part, test_part


def score(truth: Sequence[str], predicted: Sequence[str]) -> Figures:
    from sklearn.metrics import accuracy_score, f1_score

    if not truth:
        return Figures(0.0, 0.0, 0)
    return Figures(float(accuracy_score(truth, predicted)),
                   float(f1_score(truth, predicted, average="macro", zero_division=0)), len(truth))


def train(
    kind: str,
    examples: Sequence[Example],
    *,
    source: str,
    holdout: float = 0.2,
    min_per_label: int = 5,
    active: TextModel | None = None,
    rules: Predict | None = None,
    test: Sequence[Example] | None = None,
    now: datetime | None = None,
    c: float = 1.0,
    progress: Callable[[str], None] = lambda _: None,
) -> TrainResult:
    """Fit a ``kind`` model on ``examples``; ``test`` replaces the recent-part split when a
    separate held-out set is given."""
    check_examples(examples, source=source, min_per_label=min_per_label)
    notes: list[str] = []
    if test is None:
        fit_part, test = split_recent(examples, holdout, notes)
    else:
        fit_part = list(examples)
    # A slice of the training part (not the test part) sets the probability scale.
    cal_cut = max(1, int(len(fit_part) * 0.9))
    progress(f"fitting on {len(fit_part):,} examples")
    model = TextModel.fit([e.text for e in fit_part], [e.label for e in fit_part], c=c)
    if cal_cut < len(fit_part):
        model.calibrate([e.text for e in fit_part[cal_cut:]], [e.label for e in fit_part[cal_cut:]])
    progress(f"testing on {len(test):,} held-out examples")
    texts, truth = [e.text for e in test], [e.label for e in test]
    result = TrainResult(kind=kind, model=model, trained_on={}, new=score(truth, model.predict(texts)), notes=notes)
    if active is not None:
        result.active = score(truth, active.predict(texts))
    if rules is not None:
        predicted = rules(texts)
        if set(predicted) & set(truth):
            result.rules = score(truth, predicted)
        else:
            result.notes.append("the rules' answers share no label with this data, so they are not compared")
    times = [e.at for e in examples if e.at is not None]
    labels: dict[str, int] = {}
    for e in fit_part:
        labels[e.label] = labels.get(e.label, 0) + 1
    result.trained_on = {
        "source": source,
        "examples": len(fit_part),
        "test_examples": len(test),
        "labels": dict(sorted(labels.items())),
        "from": min(times).isoformat() if times else None,
        "until": max(times).isoformat() if times else None,
        "trained_at": now.isoformat() if now else None,
    }
    model.meta = {"kind": kind, "labels": len(labels)}
    return result
