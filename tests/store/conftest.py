from __future__ import annotations

import pytest

from deskwatch.core.store import Store


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "data" / "deskwatch.db")
    yield s
    s.close()
