"""Name tables: deskwatch team and agent names <-> a helpdesk's group and agent ids.

Routing speaks names ("Tier 2", "Dana Agent"); a helpdesk's API speaks ids. A connector keeps
one table per kind, built from the source's settings (``[sources.<name>.groups]``) and, where
the API can list them, the account's directory; the settings win.

    groups = NameTable.build(listed_groups, settings.groups)
    gid = groups.id_for(update.group)       # exact name, then case-insensitive, then a number
    name = groups.name_for(ticket["group_id"])   # the name, or the id as text
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Hashable, Mapping, TypeVar


Id = TypeVar("Id", bound=Hashable)


@dataclass(frozen=True)
class NameTable(Generic[Id]):
    """Names to ids, read both ways. Later tables given to ``build`` win over earlier ones."""

    ids: Mapping[str, Id] = field(default_factory=dict)

    @classmethod
    def build(cls, *tables: Mapping[str, Id]) -> "NameTable[Id]":
        merged: dict[str, Id] = {}
        for t in tables:
            merged.update(t)
        return cls(merged)

    def id_for(self, name: str, *, numeric: bool = True) -> Id | int | None:
        """The id of ``name``: an exact match, then a case-insensitive one, then (``numeric``)
        a name that is all digits taken as the id itself; None when unknown."""
        if name in self.ids:
            return self.ids[name]
        folded = name.casefold()
        for k, v in self.ids.items():
            if k.casefold() == folded:
                return v
        if numeric and name.isdigit():
            return int(name)
        return None

    def knows(self, name: str | None) -> bool:
        """True when ``name`` resolves without the directory (None: nothing to resolve)."""
        return name is None or self.id_for(name) is not None

    def name_for(self, value: Id | None) -> str | None:
        """The name of id ``value``, else the id as text (None for no id)."""
        if value is None:
            return None
        for k, v in self.ids.items():
            if v == value:
                return k
        return str(value)

    def by_id(self) -> dict[Id, str]:
        """The inverse table (id -> name); where two names share an id, the last one wins."""
        return {v: k for k, v in self.ids.items()}
