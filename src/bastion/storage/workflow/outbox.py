"""Outgoing messages, written in the same transaction as the change they report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from bastion.storage.tables import wf_outbox
from bastion.storage.workflow._rows import values


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    created_at: datetime
    kind: str
    to_address: str
    subject: str
    body: str
    ref_id: str
    status: str
    attempts: int
    sent_at: datetime | None = None
    error: str | None = None


def add(conn: Connection, message: Message) -> None:
    conn.execute(insert(wf_outbox).values(**{f: getattr(message, f) for f in Message.__slots__}))


def pending(conn: Connection, limit: int = 100, max_attempts: int = 5) -> list[Message]:
    rows = conn.execute(
        select(wf_outbox)
        .where(wf_outbox.c.status == "pending", wf_outbox.c.attempts < max_attempts)
        .order_by(wf_outbox.c.created_at, wf_outbox.c.id)
        .limit(limit)
    ).all()
    return [Message(**values(r)) for r in rows]


def mark(conn: Connection, message_id: str, **changes: Any) -> None:
    conn.execute(update(wf_outbox).where(wf_outbox.c.id == message_id).values(**changes))


def counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(wf_outbox.c.status, func.count()).group_by(wf_outbox.c.status))
    return {status: int(count) for status, count in rows}
