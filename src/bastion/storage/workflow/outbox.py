"""Outgoing messages, written in the same transaction as the change they report.

Senders *claim* rows before sending them: one statement stamps a claim token and a lease on
up to ``limit`` claimable rows (pending, under the attempt limit, not leased to someone
else). On PostgreSQL the candidate rows are picked with ``FOR UPDATE SKIP LOCKED``, so
concurrent senders take disjoint batches without waiting on each other; SQLite serialises
writers, so the claiming UPDATE is atomic there by itself. Only the holder of the claim
token can mark a row sent or failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from bastion.storage.tables import wf_outbox
from bastion.storage.workflow._rows import values

_MESSAGE_COLUMNS = (
    "id",
    "created_at",
    "kind",
    "to_address",
    "subject",
    "body",
    "ref_id",
    "status",
    "attempts",
    "sent_at",
    "error",
)


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


def _message(row: Any) -> Message:
    data = values(row)
    return Message(**{name: data[name] for name in _MESSAGE_COLUMNS})


def add(conn: Connection, message: Message) -> None:
    conn.execute(insert(wf_outbox).values(**{f: getattr(message, f) for f in Message.__slots__}))


def _claimable(now: datetime, max_attempts: int) -> Any:
    return and_(
        wf_outbox.c.status == "pending",
        wf_outbox.c.attempts < max_attempts,
        or_(wf_outbox.c.claimed_until.is_(None), wf_outbox.c.claimed_until < now),
    )


def claim(
    conn: Connection,
    *,
    token: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
    max_attempts: int,
) -> list[Message]:
    """Claim up to ``limit`` messages for the sender holding ``token``; the caller commits."""
    candidates = (
        select(wf_outbox.c.id)
        .where(_claimable(now, max_attempts))
        .order_by(wf_outbox.c.created_at, wf_outbox.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    conn.execute(
        update(wf_outbox)
        .where(wf_outbox.c.id.in_(candidates.scalar_subquery()), _claimable(now, max_attempts))
        .values(claim_token=token, claimed_until=lease_until)
        .execution_options(synchronize_session=False)
    )
    rows = conn.execute(
        select(wf_outbox)
        .where(wf_outbox.c.claim_token == token, wf_outbox.c.status == "pending")
        .order_by(wf_outbox.c.created_at, wf_outbox.c.id)
    ).all()
    return [_message(r) for r in rows]


def settle(conn: Connection, message_id: str, token: str, **changes: Any) -> bool:
    """Record a send's outcome and release the claim; False when the claim was lost."""
    result = conn.execute(
        update(wf_outbox)
        .where(wf_outbox.c.id == message_id, wf_outbox.c.claim_token == token)
        .values(claim_token=None, claimed_until=None, **changes)
    )
    return bool(result.rowcount)


def mark(conn: Connection, message_id: str, **changes: Any) -> None:
    conn.execute(update(wf_outbox).where(wf_outbox.c.id == message_id).values(**changes))


def counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(wf_outbox.c.status, func.count()).group_by(wf_outbox.c.status))
    return {status: int(count) for status, count in rows}


def finished_before(conn: Connection, before: datetime, limit: int) -> list[str]:
    """Ids of sent or failed messages created before ``before`` (retention)."""
    return list(
        conn.execute(
            select(wf_outbox.c.id)
            .where(wf_outbox.c.status.in_(("sent", "failed")), wf_outbox.c.created_at < before)
            .order_by(wf_outbox.c.created_at)
            .limit(limit)
        ).scalars()
    )


def delete_ids(conn: Connection, ids: list[str]) -> int:
    if not ids:
        return 0
    return int(conn.execute(delete(wf_outbox).where(wf_outbox.c.id.in_(ids))).rowcount)
