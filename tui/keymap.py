"""Keys from the config: ``[tui.keys]`` maps an action's id to the keys that run it.

    [tui.keys]
    "ticket.escalate" = "E"            # several keys: "E,ctrl+e"
    "app.quit" = "ctrl+q"

The ids are the bindings' own (``deskwatch tui`` lists them under F1 / ``?``). Every screen is
checked as a whole, so a remapped key cannot silently shadow another action on a screen where
both are live; the help screen shows the keys in use. Textual applies the map
(``App.set_keymap``).
"""

from __future__ import annotations

import difflib
from typing import Iterable, Mapping, Sequence

from textual.binding import Binding

from deskwatch.core.model.settings import ConfigError

Sections = Sequence[tuple[str, Sequence[Binding]]]  # (screen title, its bindings); "Everywhere" first


def own(bindings: Iterable[object]) -> list[Binding]:
    """The ``Binding`` objects of a BINDINGS list (Textual also accepts plain tuples)."""
    return [b for b in bindings if isinstance(b, Binding)]


def keys_of(binding: Binding, keymap: Mapping[str, str]) -> str:
    """The keys that run ``binding`` under ``keymap`` ("escape,q" form)."""
    return keymap.get(binding.id or "", binding.key)


def check(keymap: Mapping[str, str], sections: Sections, file: str = "") -> dict[str, str]:
    """Validate ``[tui.keys]`` against ``sections`` (every screen's bindings, the app's own first
    as "Everywhere": ``deskwatch.tui.app.screen_sections()``); returns it as a dict. Raises
    ConfigError naming the entry for an unknown action id, or a key that another action on the
    same screen already uses."""
    all_sections = list(sections)
    ids = sorted({b.id for _, bindings in all_sections for b in bindings if b.id})
    for action in keymap:
        if action not in ids:
            hint = difflib.get_close_matches(action, ids, n=1)
            fix = f"did you mean {hint[0]!r}?" if hint else f"known actions: {', '.join(ids)}"
            raise ConfigError(file, f"tui.keys.{action}", f"unknown action; {fix}")
    everywhere = all_sections[0][1]
    for title, bindings in all_sections:
        # The app's keys are live on every screen but the modal ones.
        live = bindings if title in ("Everywhere", "Forms", "Help") else [*bindings, *everywhere]
        owner: dict[str, Binding] = {}
        for b in live:
            for key in (k.strip() for k in keys_of(b, keymap).split(",")):
                other = owner.setdefault(key, b)
                if other.id != b.id and (b.id in keymap or other.id in keymap):
                    changed = b if b.id in keymap else other
                    clash = other if changed is b else b
                    raise ConfigError(
                        file, f"tui.keys.{changed.id}",
                        f'"{key}" already runs {clash.description} ({clash.id}) on the {title.lower()} screen; '
                        f"choose another key, or move {clash.id} too",
                    )
    return dict(keymap)
