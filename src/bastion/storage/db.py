"""The database handle: one engine per process, SQLite (WAL, synchronous=FULL) or Postgres.

Schema changes go through Alembic migrations (``bastion db upgrade``); ``Database.migrate()``
runs them on start, so a fresh data directory is ready without a separate step.

A database that cannot be reached or fails underneath a statement (SQLAlchemy's
``OperationalError``, ``InterfaceError``, a pool timeout) surfaces from :meth:`Database.begin`
and :meth:`Database.connect` as :class:`~bastion.errors.StorageUnavailable` (503): callers fail
closed with a typed error and can never mistake an outage for a result. Errors in what was
asked (an integrity violation) keep their own type.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bastion.errors import ConfigError, StorageUnavailable

log = logging.getLogger("bastion.storage")
# Seconds a new Postgres connection may take before the attempt fails (an unreachable host
# must not hold a check, or a readiness probe, for the TCP timeout).
CONNECT_TIMEOUT_S = 5
OUTAGE = (OperationalError, InterfaceError, PoolTimeout)
_ON_COMMIT = "bastion.on_commit"


def on_commit(connection: Connection, name: str, callback: Callable[[], None]) -> None:
    """Run ``callback`` once ``connection``'s :meth:`Database.begin` transaction commits;
    a later callback with the same ``name`` in that transaction replaces the earlier one."""
    connection.info.setdefault(_ON_COMMIT, {})[name] = callback


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Database:
    def __init__(self, url: str, *, schema: str | None = None) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise ConfigError(f"invalid database URL: {exc}") from exc
        self.url = parsed
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"future": True}
        if self.dialect == "sqlite":
            kwargs["connect_args"] = {"check_same_thread": False}
        elif self.dialect == "postgresql":
            kwargs["pool_pre_ping"] = True
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
            if schema:
                kwargs["connect_args"]["options"] = f"-csearch_path={schema}"
        try:
            self.engine: Engine = create_engine(parsed, **kwargs)
        except (NoSuchModuleError, ImportError) as exc:
            raise ConfigError(
                f"no driver for {parsed.drivername}: {exc} (for Postgres install bastion[postgres])"
            ) from exc
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction: committed on success, rolled back on any error. Callbacks
        registered with :func:`on_commit` run after the commit, and only then."""
        try:
            with self.engine.begin() as connection:
                try:
                    yield connection
                finally:
                    callbacks: dict[str, Callable[[], None]] = connection.info.pop(_ON_COMMIT, {})
        except OUTAGE as exc:
            raise _unavailable(exc) from exc
        for callback in callbacks.values():
            callback()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as connection:
                yield connection
        except OUTAGE as exc:
            raise _unavailable(exc) from exc

    def ping(self) -> None:
        """Raise StorageUnavailable unless the database answers. On SQLite this reads the
        file's header page (``SELECT 1`` would not touch the file at all)."""
        probe = "PRAGMA schema_version" if self.dialect == "sqlite" else "SELECT 1"
        with self.connect() as connection:
            connection.execute(text(probe))

    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option(
            "script_location", str(resources.files("bastion.storage").joinpath("migrations"))
        )
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()


def _unavailable(exc: Exception) -> StorageUnavailable:
    log.warning("database unavailable: %s", exc)
    return StorageUnavailable("the database is unavailable")
