"""PostgreSQL for tests: a fresh schema per test in the database at ``DESKWATCH_TEST_PG``
(default postgresql://postgres@127.0.0.1:5432/test), dropped afterwards. Without a reachable
server the tests are skipped with the reason, except when ``CI`` is set: then they fail.

Test modules outside tests/store import the fixtures they need from here.
"""

from __future__ import annotations

import functools
import os
import secrets

import pytest

from deskwatch.core.store import Store

PG_URL = os.environ.get("DESKWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@functools.cache
def _pg_unavailable() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary,pool]')"
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as e:
        from deskwatch.core.store.pg import redact_url

        return f"no PostgreSQL server reachable at {redact_url(PG_URL)} ({' '.join(str(e).split())[:120]})"
    return None


def with_schema(url: str, schema: str) -> str:
    """``url`` with its search_path set to ``schema`` (libpq ``options``)."""
    return url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_url():
    """A PostgreSQL store URL on a fresh, empty schema of its own."""
    reason = _pg_unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the PostgreSQL store tests (set DESKWATCH_TEST_PG)")
        pytest.skip(f"{reason}; set DESKWATCH_TEST_PG to a server's test database to run these")
    import psycopg

    schema = "t_" + secrets.token_hex(6)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(PG_URL, schema)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


STORE_KINDS = ["sqlite", "postgresql"]


def open_test_store(kind: str, request, tmp_path) -> Store:
    """A fresh store of ``kind``: a SQLite file under ``tmp_path``, or a PostgreSQL schema."""
    if kind == "postgresql":
        return Store(url=request.getfixturevalue("pg_url"))
    return Store(tmp_path / "data" / "deskwatch.db")


@pytest.fixture(params=STORE_KINDS)
def store_kind(request) -> str:
    """"sqlite" or "postgresql": a test taking it runs once on each."""
    return request.param
