"""The append-only audit log: an HMAC-SHA256 chain with a signed head.

Each event's MAC is HMAC-SHA256, keyed with :func:`chain_key` (a sub-key derived from the
instance secret), over its canonical JSON: its position ``seq``, time, actor, event, subject,
data and the previous event's MAC. ``wf_audit_head`` holds one row: how many events exist,
the last position and MAC, and a MAC over those, rewritten in the same transaction as every
append. Deleting the tail is caught because the head counts more events; forging or
recomputing events fails without the key; editing the head fails its own MAC.

Writers take the head row first (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite a no-op
``UPDATE`` takes the database's single write lock), then assign the next position under that
lock, so concurrent appends never fork the chain. ``seq`` is the primary key and
``prev_hash`` is unique as a second guard.

Events written before migration 0011 keep their unkeyed SHA-256 chain (:func:`legacy_digest`);
the migration records where the keyed chain starts (``since_seq``) and leaves the head
unsealed (no MAC: migrations never see the secret). The first keyed append seals it: its
first MAC covers the last legacy hash, so the older rows are bound into the keyed chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from bastion.clock import utc
from bastion.errors import BastionError
from bastion.storage.tables import wf_audit, wf_audit_head
from bastion.storage.workflow._rows import values

GENESIS = "0" * 64
HEAD_ID = 1
_KEY_LABEL = b"bastion audit chain v1"


class AuditLogBroken(BastionError):
    """The audit head is missing or fails its MAC: no event is appended to a broken log."""

    code = "audit_log_broken"
    status = 500


def chain_key(secret: bytes) -> bytes:
    """The audit chain's own key, derived from the instance secret (never the secret itself)."""
    return hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()


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
    hash: str  # the event's MAC (its SHA-256 for events before the keyed chain)

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


@dataclass(frozen=True, slots=True)
class Head:
    """The signed head: ``count`` events, the last at ``last_seq`` with MAC ``last_mac``.

    ``mac`` is None only while no keyed event exists yet (right after migration 0011)."""

    since_seq: int
    count: int
    last_seq: int
    last_mac: str
    mac: str | None

    @property
    def keyed_events(self) -> int:
        return max(0, self.last_seq - self.since_seq + 1)

    def signed_by(self, key: bytes) -> bool:
        return self.mac is not None and hmac.compare_digest(self.mac, head_mac(key, self))

    def public(self) -> dict[str, Any]:
        return {
            "since_seq": self.since_seq,
            "count": self.count,
            "last_seq": self.last_seq,
            "last_mac": self.last_mac,
            "mac": self.mac,
        }


def _canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _content(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": utc(event.at).isoformat(timespec="microseconds"),
        "actor": event.actor,
        "event": event.event,
        "subject_kind": event.subject_kind,
        "subject_id": event.subject_id,
        "data": event.data,
    }


def legacy_digest(event: AuditEvent) -> str:
    """The unkeyed SHA-256 of an event written before the keyed chain (migration 0011)."""
    return hashlib.sha256(_canonical({"prev": event.prev_hash, **_content(event)})).hexdigest()


def event_mac(key: bytes, event: AuditEvent, *, seq: int | None = None) -> str:
    """The MAC ``event`` should carry at position ``seq`` (default: where it is)."""
    body = {"type": "event", "seq": event.seq if seq is None else seq, "prev": event.prev_hash}
    return hmac.new(key, _canonical({**body, **_content(event)}), hashlib.sha256).hexdigest()


def head_mac(key: bytes, head: Head) -> str:
    body = {
        "type": "head",
        "since_seq": head.since_seq,
        "count": head.count,
        "last_seq": head.last_seq,
        "last_mac": head.last_mac,
    }
    return hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()


def read_head(conn: Connection, *, lock: bool = False) -> Head | None:
    query = select(wf_audit_head).where(wf_audit_head.c.id == HEAD_ID)
    if lock:
        if conn.dialect.name == "sqlite":  # take the write lock before reading
            conn.execute(
                update(wf_audit_head)
                .where(wf_audit_head.c.id == HEAD_ID)
                .values(id=wf_audit_head.c.id)
            )
        else:
            query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        return None
    fields = dict(row._mapping)
    del fields["id"]
    return Head(**fields)


def _start(conn: Connection) -> Head:
    """The head of an empty log (a database emptied by hand has no head row at all)."""
    fresh = {"id": HEAD_ID, "since_seq": 1, "count": 0, "last_seq": 0, "last_mac": GENESIS}
    if conn.dialect.name == "postgresql":  # a concurrent first writer may be making it too
        made = conn.execute(pg_insert(wf_audit_head).values(fresh).on_conflict_do_nothing())
    else:  # the write lock is already held
        made = conn.execute(insert(wf_audit_head).values(fresh))
    if made.rowcount == 1 and conn.execute(select(wf_audit.c.seq).limit(1)).first():
        raise AuditLogBroken("the audit head row is missing; run `bastion audit verify`")
    head = read_head(conn, lock=True)
    if head is None:  # pragma: no cover - inserted just above
        raise AuditLogBroken("the audit head row could not be created")
    return head


def append(
    conn: Connection,
    key: bytes,
    *,
    at: datetime,
    actor: str,
    event: str,
    subject_kind: str,
    subject_id: str,
    data: Mapping[str, Any] | None = None,
) -> Head:
    """Append one event and re-sign the head, in ``conn``'s transaction; the new head."""
    head = read_head(conn, lock=True) or _start(conn)
    if not head.signed_by(key) and (head.mac is not None or head.keyed_events):
        raise AuditLogBroken("the audit head fails its MAC; run `bastion audit verify`")
    payload = json.loads(json.dumps(dict(data or {}), default=str))
    new = AuditEvent(
        seq=head.last_seq + 1,
        at=at,
        actor=actor,
        event=event,
        subject_kind=subject_kind,
        subject_id=subject_id,
        data=payload,
        prev_hash=head.last_mac,
        hash="",
    )
    mac = event_mac(key, new)
    conn.execute(insert(wf_audit).values({**new.public(), "at": at, "hash": mac}))
    unsigned = Head(head.since_seq, head.count + 1, new.seq, mac, None)
    signed = Head(head.since_seq, unsigned.count, new.seq, mac, head_mac(key, unsigned))
    moved = conn.execute(
        update(wf_audit_head)
        .where(wf_audit_head.c.id == HEAD_ID, wf_audit_head.c.last_seq == head.last_seq)
        .values(count=signed.count, last_seq=signed.last_seq, last_mac=mac, mac=signed.mac)
    )
    if moved.rowcount != 1:  # cannot happen under the lock; never fork the chain silently
        raise AuditLogBroken("the audit head moved while it was locked")
    return signed


def events(conn: Connection, *, subject_id: str | None = None) -> Iterator[AuditEvent]:
    query = select(wf_audit).order_by(wf_audit.c.seq)
    if subject_id is not None:
        query = query.where(wf_audit.c.subject_id == subject_id)
    for row in conn.execute(query):
        yield AuditEvent(**values(row))
