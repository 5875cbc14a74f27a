"""Alembic environment: runs on the connection that ``Database.migrate`` passes in."""

from __future__ import annotations

from alembic import context

from bastion.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable when alembic is run by hand
    raise RuntimeError("run migrations with `bastion db upgrade`, not the alembic command")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
