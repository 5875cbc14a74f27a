"""The append-only, hash-chained audit log.

Each event's hash is SHA-256 over its canonical JSON (time, actor, event, subject, data) and
the previous event's hash. ``prev_hash`` is unique, so the chain cannot fork: of two writers
racing for the same tail, one fails and its whole transaction rolls back. On PostgreSQL an
advisory lock serialises writers so that the race does not happen in the first place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text

from bastion.clock import utc
from bastion.storage.tables import wf_audit
from bastion.storage.workflow._rows import values

GENESIS = "0" * 64
_LOCK_KEY = 5_000_005


@dataclass(frozen=True, slots=True)
class AuditEvent:
    seq: int
    at: datetime
    actor: str
    event: str
    subject_kind: str
    subject_id: str
    data: Mapping[str, Any]
    prev_hash: str
    hash: str

    def public(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "event": self.event,
            "subject_kind": self.subject_kind,
            "subject_id": self.subject_id,
            "data": dict(self.data),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def digest(
    prev_hash: str,
    at: datetime,
    actor: str,
    event: str,
    subject_kind: str,
    subject_id: str,
    data: Mapping[str, Any],
) -> str:
    body = json.dumps(
        {
            "prev": prev_hash,
            "at": utc(at).isoformat(timespec="microseconds"),
            "actor": actor,
            "event": event,
            "subject_kind": subject_kind,
            "subject_id": subject_id,
            "data": data,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def append(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    event: str,
    subject_kind: str,
    subject_id: str,
    data: Mapping[str, Any] | None = None,
) -> str:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    prev = conn.execute(
        select(wf_audit.c.hash).order_by(wf_audit.c.seq.desc()).limit(1)
    ).scalar_one_or_none()
    prev_hash = prev or GENESIS
    payload = json.loads(json.dumps(dict(data or {}), default=str))
    value = digest(prev_hash, at, actor, event, subject_kind, subject_id, payload)
    conn.execute(
        insert(wf_audit).values(
            at=at,
            actor=actor,
            event=event,
            subject_kind=subject_kind,
            subject_id=subject_id,
            data=payload,
            prev_hash=prev_hash,
            hash=value,
        )
    )
    return value


def events(conn: Connection, *, subject_id: str | None = None) -> Iterator[AuditEvent]:
    query = select(wf_audit).order_by(wf_audit.c.seq)
    if subject_id is not None:
        query = query.where(wf_audit.c.subject_id == subject_id)
    for row in conn.execute(query):
        yield AuditEvent(**values(row))


def verify(conn: Connection) -> tuple[int, int | None]:
    """(events checked, seq of the first broken link or None when the chain is intact)."""
    prev_hash = GENESIS
    count = 0
    for event in events(conn):
        count += 1
        expected = digest(
            prev_hash,
            event.at,
            event.actor,
            event.event,
            event.subject_kind,
            event.subject_id,
            event.data,
        )
        if event.prev_hash != prev_hash or event.hash != expected:
            return count, event.seq
        prev_hash = event.hash
    return count, None
