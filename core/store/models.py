"""Learned model versions: saved with what they were trained on and their test figures; one
active version per kind, with a history of activations so ``rollback`` knows where to go."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from deskwatch.core.store.base import StoreBase, dumps, from_ts, ts


class ModelNotFound(LookupError):
    """No such model version, or nothing to roll back to; the message says what exists."""


@dataclass(frozen=True)
class ModelVersion:
    version: int
    kind: str
    created_at: datetime
    trained_on: Mapping[str, Any]
    figures: Mapping[str, Any]
    active: bool
    activated_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "kind": self.kind, "created_at": ts(self.created_at),
                "trained_on": dict(self.trained_on), "figures": dict(self.figures), "active": self.active,
                "activated_at": ts(self.activated_at)}


_COLS = "version, kind, created_at, trained_on, figures, active, activated_at"


def _row(r: Any) -> ModelVersion:
    return ModelVersion(version=r["version"], kind=r["kind"], created_at=from_ts(r["created_at"]),  # type: ignore[arg-type]
                        trained_on=json.loads(r["trained_on"]), figures=json.loads(r["figures"]),
                        active=bool(r["active"]), activated_at=from_ts(r["activated_at"]))


class ModelsMixin(StoreBase):
    def save_model(self, kind: str, data: bytes, *, trained_on: Mapping[str, Any], figures: Mapping[str, Any],
                   now: datetime, activate: bool = False, actor: str = "deskwatch learn") -> ModelVersion:
        with self._tx() as c:
            version = int(c.execute(
                "INSERT INTO models (kind, created_at, trained_on, figures, data) VALUES (?, ?, ?, ?, ?) RETURNING version",
                (kind, ts(now), dumps(dict(trained_on)), dumps(dict(figures)), data)).fetchone()[0])
            if activate:
                self._activate(c, kind, version, now, actor)
        return self.model(version)

    def _activate(self, c: Any, kind: str, version: int, now: datetime, actor: str, how: str = "activate") -> None:
        c.execute("UPDATE models SET active = 0 WHERE kind = ? AND active = 1", (kind,))
        if version:
            c.execute("UPDATE models SET active = 1, activated_at = ? WHERE version = ?", (ts(now), version))
        c.execute("INSERT INTO model_activations (kind, version, at, actor, how) VALUES (?, ?, ?, ?, ?)",
                  (kind, version, ts(now), actor, how))

    def model(self, version: int) -> ModelVersion:
        r = self._conn.execute(f"SELECT {_COLS} FROM models WHERE version = ?", (version,)).fetchone()
        if r is None:
            raise ModelNotFound(f"no model version {version}; `deskwatch models` lists them")
        return _row(r)

    def models(self, kind: str | None = None) -> list[ModelVersion]:
        q = f"SELECT {_COLS} FROM models" + (" WHERE kind = ?" if kind else "") + " ORDER BY version DESC"
        return [_row(r) for r in self._conn.execute(q, (kind,) if kind else ())]

    def active_models(self) -> dict[str, tuple[ModelVersion, bytes]]:
        """kind -> (version, fitted data) for every active model."""
        out = {}
        for r in self._conn.execute(f"SELECT {_COLS}, data FROM models WHERE active = 1"):
            out[r["kind"]] = (_row(r), bytes(r["data"]))
        return out

    def model_data(self, version: int) -> bytes:
        r = self._conn.execute("SELECT data FROM models WHERE version = ?", (version,)).fetchone()
        if r is None:
            raise ModelNotFound(f"no model version {version}; `deskwatch models` lists them")
        return bytes(r["data"])

    def activate_model(self, version: int, *, now: datetime, actor: str = "deskwatch models activate") -> ModelVersion:
        m = self.model(version)
        with self._tx() as c:
            self._activate(c, m.kind, version, now, actor)
        return self.model(version)

    def rollback_model(self, kind: str, *, now: datetime, actor: str = "deskwatch models rollback") -> ModelVersion | None:
        """Go back to the version of ``kind`` that was active before the current one (each
        rollback steps one further back); with none before it, the engine goes back to the
        rules. Returns the new active version, or None."""
        stack: list[int] = []
        for r in self._conn.execute("SELECT version, how FROM model_activations WHERE kind = ? ORDER BY rowid", (kind,)):
            if r["how"] == "rollback":
                if stack:
                    stack.pop()
            else:
                stack.append(r["version"])
        if not stack or not any(m.active for m in self.models(kind)):
            raise ModelNotFound(f"no active {kind} model to roll back")
        stack.pop()
        earlier = stack[-1] if stack else 0
        with self._tx() as c:
            self._activate(c, kind, earlier, now, actor, how="rollback")
        return self.model(earlier) if earlier else None
