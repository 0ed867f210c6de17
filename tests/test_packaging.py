"""Folders map to import packages; the explicit package list in pyproject.toml must cover them."""

from __future__ import annotations

import tomllib

from .conftest import ROOT


def test_every_package_folder_is_listed_in_pyproject():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setup = py["tool"]["setuptools"]
    dirs = {v: k for k, v in setup["package-dir"].items()}
    listed = set(setup["packages"])
    found = set()
    for top, pkg in dirs.items():
        base = ROOT / top
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            found.add(".".join([pkg, *rel.parts]) if rel.parts else pkg)
    assert found - listed == set(), "add these to [tool.setuptools] packages"
