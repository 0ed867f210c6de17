"""The layout stays true: pure folders import no I/O folder, the console imports no connector or
HTTP code, and no module imports itself back through others (docs/architecture.md)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

# folder -> import package, as pyproject's package-dir maps them
PACKAGES = {
    "core": "deskwatch.core",
    "tui": "deskwatch.tui",
    "testing": "deskwatch.testing",
    "plugins/zendesk": "deskwatch.plugins.zendesk",
    "plugins/freshdesk": "deskwatch.plugins.freshdesk",
    "plugins/salesforce": "deskwatch.plugins.salesforce",
}

# The pure layers, each with the deskwatch packages it may import (itself included).
PURE = {
    "deskwatch.core.model": ("deskwatch.core.model",),
    "deskwatch.core.policy": ("deskwatch.core.model", "deskwatch.core.policy"),
    "deskwatch.core.engine": ("deskwatch.core.model", "deskwatch.core.policy", "deskwatch.core.engine"),
}
# Libraries that do I/O (network, disk databases, terminals, plugin loading); pure code needs none.
IO_LIBRARIES = {"httpx", "sqlite3", "socket", "asyncio", "textual", "pluggy", "tenacity", "asyncssh", "subprocess",
                "urllib.request", "http.client", "psycopg", "apprise"}
# What the console may not reach: the helpdesks are the daemon's business.
# The console shows and acts; advice it shares with the CLI lives below the CLI (core/daemon).
TUI_FORBIDDEN = ("deskwatch.core.connect", "deskwatch.plugins", "deskwatch.core.cli", "httpx")


def _modules() -> dict[str, Path]:
    found = {}
    for folder, pkg in PACKAGES.items():
        base = ROOT / folder
        for path in base.rglob("*.py"):
            rel = path.relative_to(base).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([pkg, *parts])] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _imports(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports, function-level imports included, TYPE_CHECKING-only ones not."""
    tree = ast.parse(path.read_text(), str(path))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                out.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = name if is_pkg else name.rpartition(".")[0]
                    for _ in range(child.level - 1):
                        base = base.rpartition(".")[0]
                    mod = f"{base}.{child.module}" if child.module else base
                else:
                    mod = child.module or ""
                for a in child.names:
                    # `from pkg import submodule` imports the submodule
                    out.add(f"{mod}.{a.name}" if f"{mod}.{a.name}" in MODULES else mod)
            visit(child)

    visit(tree)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("layer", sorted(PURE))
def test_pure_folders_import_no_io_folder_or_library(layer):
    allowed = PURE[layer]
    bad = []
    for mod, imports in GRAPH.items():
        if not _within(mod, layer):
            continue
        for imp in imports:
            if imp.startswith("deskwatch") and imp != "deskwatch.core" and not any(_within(imp, a) for a in allowed):
                bad.append(f"{mod} imports {imp}")
            if any(_within(imp, lib) for lib in IO_LIBRARIES):
                bad.append(f"{mod} imports {imp} (an I/O library)")
    assert not bad, "pure code reaches I/O:\n" + "\n".join(sorted(bad))


def test_root_package_imports_from_pure_layers_stay_pure():
    """`from deskwatch.core import X` inside a pure folder must name a pure package."""
    bad = []
    for mod, path in MODULES.items():
        layer = next((p for p in PURE if _within(mod, p)), None)
        if layer is None:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "deskwatch.core" and not node.level:
                for a in node.names:
                    target = f"deskwatch.core.{a.name}"
                    if not any(_within(target, ok) for ok in PURE[layer]):
                        bad.append(f"{mod}: from deskwatch.core import {a.name}")
    assert not bad, "\n".join(bad)


def test_the_console_imports_no_connector_or_http_code():
    bad = [f"{mod} imports {imp}" for mod, imports in GRAPH.items() if _within(mod, "deskwatch.tui")
           for imp in imports if any(_within(imp, f) for f in TUI_FORBIDDEN)]
    assert not bad, "\n".join(sorted(bad))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comps: list[list[str]] = []
    counter = 0
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))

    def strong(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return comps


def test_no_import_circles():
    # A package's __init__ re-exporting its own submodules is not a circle between modules.
    packages = {m for m, p in MODULES.items() if p.name == "__init__.py"}
    graph = {m: {i for i in imps if not (m in packages and _within(i, m))} for m, imps in GRAPH.items()}
    cycles = _cycles(graph)
    assert not cycles, "import circles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_is_far_over_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in MODULES.values() if (n := len(p.read_text().splitlines())) > 560}
    assert not long, f"split these by what they hold: {long}"
