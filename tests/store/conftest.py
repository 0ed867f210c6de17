"""Store fixtures: every test that takes ``store`` runs on SQLite and on PostgreSQL (tests/store/pg.py)."""

from __future__ import annotations

import pytest

from deskwatch.core.store import Store
from tests.store.pg import STORE_KINDS, open_test_store, pg_url  # noqa: F401  (pg_url: a fixture)


@pytest.fixture(params=STORE_KINDS)
def store(request, tmp_path):
    s = open_test_store(request.param, request, tmp_path)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path):
    """A SQLite store only: for tests of SQLite itself (its query planner, its file)."""
    s = Store(tmp_path / "data" / "deskwatch.db")
    yield s
    s.close()
