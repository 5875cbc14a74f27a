"""Shared fixtures. Storage tests run on SQLite and, when BASTION_TEST_POSTGRES_URL is set
(``make test`` sets it when the local server answers), on PostgreSQL in a throw-away schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bastion.guard import Guard
from bastion.settings import Settings
from bastion.storage.db import Database

POSTGRES_URL = os.environ.get("BASTION_TEST_POSTGRES_URL")
TEST_SECRET = "test-secret-key-0123456789abcdef"
DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No BASTION_* setting from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("BASTION_") and not name.startswith("BASTION_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(data_dir=tmp_path / "data", secret_key=TEST_SECRET)


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str | None]:
    """A fresh schema for this test session, dropped at the end (None without Postgres)."""
    if not POSTGRES_URL:
        yield None
        return
    schema = f"bastion_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def database(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_schema: str | None
) -> Iterator[Database]:
    """A migrated, empty database on each backend."""
    if request.param == "postgres":
        if not POSTGRES_URL or postgres_schema is None:
            pytest.skip("BASTION_TEST_POSTGRES_URL is not set (make test sets it when reachable)")
        db = Database(POSTGRES_URL, schema=postgres_schema)
        db.migrate()
        yield db
        with db.begin() as connection:  # empty every table for the next test
            tables = connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = :s "
                    "AND tablename <> 'alembic_version'"
                ),
                {"s": postgres_schema},
            ).scalars()
            for table in tables:
                connection.execute(text(f'TRUNCATE "{postgres_schema}"."{table}" CASCADE'))
        db.dispose()
    else:
        db = Database(f"sqlite:///{tmp_path / 'test.db'}")
        db.migrate()
        yield db
        db.dispose()


@pytest.fixture
def guard(settings: Settings) -> Iterator[Guard]:
    guard = Guard.from_settings(settings)
    yield guard
    guard.close()


@pytest.fixture(scope="session")
def shared_guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guard]:
    """One guard for read-only tests that screen many prompts (saves start-up time)."""
    data_dir = tmp_path_factory.mktemp("shared")
    guard = Guard.from_settings(Settings.load(data_dir=data_dir, secret_key=TEST_SECRET))
    yield guard
    guard.close()
