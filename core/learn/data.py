"""Labelled examples: from a CSV or JSON Lines file a team brings, checked before anything trains.

Every refusal names the file, the line and the fix, and nothing is activated.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable, Sequence

from deskwatch.core.model.timeutil import parse_time

KINDS = ("router", "tone", "escalation")
TONE_LABELS = ("negative", "neutral", "positive")


class LabelError(ValueError):
    """Labelled data that cannot be trained on; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    at: datetime | None = None  # when it happened; None: the file's order stands for time
    where: str = ""  # "file:line" or "ticket id", for messages


def read_file(path: str | Path, *, text: str, label: str, time: str | None = None) -> list[Example]:
    """Examples from a ``.csv`` (header row) or ``.jsonl`` file, in the file's order."""
    p = Path(path)
    if not p.exists():
        raise LabelError(f"{p}: no such file (give the path of a CSV or JSON Lines file)")
    suffix = p.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson", ".json"):
            rows = list(_jsonl(p))
        else:
            rows = list(_csv(p))
    except UnicodeDecodeError as e:
        raise LabelError(f"{p}: not UTF-8 text ({e.reason} at byte {e.start}); save it as UTF-8") from None
    if not rows:
        raise LabelError(f"{p}: no rows (the file is empty, or holds a header only)")
    out = []
    for line, row in rows:
        for col in (text, label) + ((time,) if time else ()):
            if col not in row:
                cols = ", ".join(sorted(row)) or "(none)"
                raise LabelError(f'{p}:{line}: no column "{col}"; the columns are: {cols} '
                                 f"(fix: pass the right name with --text/--label{'/--time' if time else ''})")
        lab = row[label]
        lab = "" if lab is None else str(lab).strip()
        if not lab:
            raise LabelError(f'{p}:{line}: empty label in column "{label}" (fix: fill it in or remove the line)')
        body = row[text]
        body = "" if body is None else str(body)
        at = None
        if time:
            try:
                at = parse_time(str(row[time]))
            except (ValueError, TypeError):
                raise LabelError(f'{p}:{line}: "{row[time]}" in column "{time}" is not a time '
                                 "(fix: use ISO 8601, e.g. 2026-11-23T10:00:00Z)") from None
        out.append(Example(text=body, label=lab, at=at, where=f"{p}:{line}"))
    return out


def _csv(p: Path) -> Iterable[tuple[int, dict]]:
    with p.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        for row in reader:
            yield reader.line_num, {k: v for k, v in row.items() if k is not None}


def _jsonl(p: Path) -> Iterable[tuple[int, dict]]:
    with p.open(encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as e:
                raise LabelError(f"{p}:{n}: not valid JSON ({e.msg}, column {e.colno}); each line must be one JSON object") from None
            if not isinstance(row, dict):
                raise LabelError(f"{p}:{n}: expected a JSON object, got {type(row).__name__}")
            yield n, row


def check_examples(examples: Sequence[Example], *, source: str, min_per_label: int) -> None:
    """Refuse data a classifier cannot learn from: one class only, or too few examples of a label."""
    counts = Counter(e.label for e in examples)
    if len(counts) < 2:
        only = next(iter(counts), "(none)")
        raise LabelError(f'{source}: every example has the label "{only}"; a classifier needs at least two labels '
                         "(fix: add examples of the other labels)")
    thin = sorted((n, lab) for lab, n in counts.items() if n < min_per_label)
    if thin:
        listed = ", ".join(f'"{lab}" ({n})' for n, lab in thin[:8]) + (" ..." if len(thin) > 8 else "")
        first = next(e for e in examples if e.label == thin[0][1])
        raise LabelError(f"{source}: fewer than {min_per_label} examples of {listed}; first at {first.where} "
                         f"(fix: add examples, merge those labels, or lower [learn] min_per_label)")


def normalize_tone(label: str) -> str | None:
    """Tone labels as people write them (ratings, sentiments) mapped to negative/neutral/positive."""
    v = label.strip().lower()
    if v in ("negative", "neg", "bad", "frustrated", "frustration", "angry"):
        return "negative"
    if v in ("neutral", "neu"):
        return "neutral"
    if v in ("positive", "pos", "good", "happy"):
        return "positive"
    return None
