"""Loading the active models from the store for the engine; a model that does not load is
reported and left out, so the engine runs on the rules rather than crashing."""

from __future__ import annotations

from typing import Any

from deskwatch.core.engine.learned import LearnedModels
from deskwatch.core.learn.textmodel import ModelFormatError, TextModel


def active_versions(store: Any) -> dict[str, int]:
    return {kind: mv.version for kind, (mv, _) in store.active_models().items()}


def load_active(store: Any) -> tuple[LearnedModels | None, list[str]]:
    """(models, problems): the active models that load, and one line per model that does not."""
    found, versions, problems = {}, {}, []
    for kind, (mv, data) in sorted(store.active_models().items()):
        try:
            found[kind] = TextModel.from_bytes(data).prepare(lean=True)
            versions[kind] = mv.version
        except ModelFormatError as e:
            problems.append(f"{kind} model version {mv.version}: {e}")
    if not found:
        return None, problems
    return LearnedModels(router=found.get("router"), tone=found.get("tone"), escalation=found.get("escalation"),
                         versions=versions), problems


class ActiveModels:
    """The daemon's view of the active models: re-read when a version changes (after
    ``deskwatch learn`` or ``models activate`` in another process), cheaply checked per page."""

    def __init__(self, store: Any, enabled: bool = True):
        self.store, self.enabled = store, enabled
        self._versions: dict[str, int] | None = None
        self.models: LearnedModels | None = None
        self.problems: list[str] = []

    def current(self) -> LearnedModels | None:
        if not self.enabled:
            return None
        versions = active_versions(self.store)
        if versions != self._versions:
            self._versions = versions
            self.models, self.problems = load_active(self.store)
        return self.models
