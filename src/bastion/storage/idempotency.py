"""Idempotency-Key records: the first request's hash and, once it finished, its response.

A key is *taken* by inserting its row (status NULL, locked until a lease runs out); the
primary key (scope, key) makes two racing requests with one key collide in the database, so
only one of them runs. The winner stores its response; the others replay it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bastion.storage.tables import idempotency_keys as table
from bastion.storage.workflow._rows import values


@dataclass(frozen=True, slots=True)
class Stored:
    """A key's record. ``status`` is None while the first request is still running."""

    scope: str
    key: str
    request_hash: str
    created_at: datetime
    expires_at: datetime
    locked_until: datetime | None
    status: int | None
    content_type: str | None
    body: str | None


def _stored(row: Any) -> Stored:
    return Stored(**values(row))


def get(conn: Connection, scope: str, key: str) -> Stored | None:
    row = conn.execute(
        select(table).where(table.c.scope == scope, table.c.key == key)
    ).one_or_none()
    return _stored(row) if row else None


def take(
    conn: Connection,
    *,
    scope: str,
    key: str,
    request_hash: str,
    now: datetime,
    expires_at: datetime,
    locked_until: datetime,
) -> Stored | None:
    """Take the key (None) or return the record that holds it. An expired record, or one whose
    first request died without finishing (lease over), is replaced."""
    fresh = {
        "request_hash": request_hash,
        "created_at": now,
        "expires_at": expires_at,
        "locked_until": locked_until,
    }
    existing = get(conn, scope, key)
    if existing is not None:
        abandoned = existing.status is None and (
            existing.locked_until is None or existing.locked_until < now
        )
        if existing.expires_at > now and not abandoned:
            return existing
        # Replace only the very row we looked at: a racing taker changes it first.
        result = conn.execute(
            update(table)
            .where(
                table.c.scope == scope,
                table.c.key == key,
                table.c.created_at == existing.created_at,
                table.c.request_hash == existing.request_hash,
            )
            .values(**fresh, status=None, content_type=None, body=None)
        )
        return None if result.rowcount else get(conn, scope, key)
    try:
        with conn.begin_nested():
            conn.execute(insert(table).values(scope=scope, key=key, **fresh))
    except IntegrityError:
        return get(conn, scope, key)
    return None


def finish(
    conn: Connection, scope: str, key: str, *, status: int, content_type: str, body: str
) -> None:
    conn.execute(
        update(table)
        .where(table.c.scope == scope, table.c.key == key)
        .values(status=status, content_type=content_type, body=body, locked_until=None)
    )


def release(conn: Connection, scope: str, key: str, request_hash: str) -> None:
    """Forget an unfinished key (its request failed): the client may retry with it."""
    conn.execute(
        delete(table).where(
            table.c.scope == scope,
            table.c.key == key,
            table.c.request_hash == request_hash,
            table.c.status.is_(None),
        )
    )


def purge_expired(conn: Connection, now: datetime) -> int:
    return int(conn.execute(delete(table).where(table.c.expires_at < now)).rowcount)
