"""The console's modules import each other in one direction: no circle, even through imports
inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import deskwatch.tui as tui_pkg

ROOT = Path(tui_pkg.__file__).parent


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(["deskwatch.tui", *parts])


def tui_imports(path: Path) -> set[str]:
    """Every deskwatch.tui module ``path`` imports, at the top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("deskwatch.tui"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                out.add(candidate if (ROOT / Path(*candidate.split(".")[2:])).with_suffix(".py").exists() else node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("deskwatch.tui"))
    return out - {"deskwatch.tui"}


def graph() -> dict[str, set[str]]:
    return {module_name(p): tui_imports(p) for p in ROOT.rglob("*.py")}


def test_keymap_imports_no_other_console_module_and_context_not_the_app():
    g = graph()
    assert g["deskwatch.tui.keymap"] == set()
    assert "deskwatch.tui.app" not in g["deskwatch.tui.context"]
    assert not any("deskwatch.tui.app" in deps for mod, deps in g.items() if mod != "deskwatch.tui.app")


def test_no_import_circle():
    g = graph()
    state: dict[str, int] = {}

    def visit(mod: str, path: list[str]) -> None:
        state[mod] = 1
        for dep in g.get(mod, ()):
            assert state.get(dep) != 1, "import circle: " + " -> ".join([*path, mod, dep])
            if dep not in state:
                visit(dep, [*path, mod])
        state[mod] = 2

    for mod in g:
        if mod not in state:
            visit(mod, [])
