"""Shared fixtures. Tests never reach the network and never read the real clock for decisions."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DESKWATCH_SHARED", ROOT.parent / "shared"))
API_SAMPLES = SHARED / "api-samples"
DATASETS = SHARED / "datasets"

# A Monday, mid-morning in UTC: most tests pin the clock here.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True, scope="session")
def _private_home(tmp_path_factory):
    """Tests never read or write the real ~/.local/share/deskwatch store (the default
    store.path): a store left there by a demo or another version must not change results."""
    home = tmp_path_factory.mktemp("home")
    old = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("HOME", None)
    else:
        os.environ["HOME"] = old


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def api_samples() -> Path:
    if not API_SAMPLES.is_dir():
        pytest.fail(f"recorded API samples not found at {API_SAMPLES}; set DESKWATCH_SHARED to the shared/ folder")
    return API_SAMPLES
