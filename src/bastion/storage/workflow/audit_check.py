"""Verify the audit chain against its signed head and, optionally, witnessed heads.

The walk stops at the first bad position and names what happened there:

- ``edited``: an event's content no longer matches its MAC, and the next event (or the
  head) still vouches for that MAC;
- ``deleted``: a genuine event whose predecessor is missing;
- ``reordered``: a genuine event at the wrong position (its MAC fits another position, or
  its predecessor is elsewhere in the log);
- ``forged``: a MAC not made with this instance's key (an appended event, or an edit with
  every later hash recomputed), or an event beyond the signed head;
- ``truncated``: the head (or a witness) counts more events than the log holds;
- ``head_mismatch``: the head is missing while events exist, fails its MAC, or disagrees
  with the chain or a witness.

An empty log without a head row is a fresh log: deleting every event and the head (or
resetting the head to the unsigned state) looks like one, which only a witness can tell.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, func, select

from bastion.storage.tables import wf_audit
from bastion.storage.workflow._rows import values
from bastion.storage.workflow.audit import (
    GENESIS,
    AuditEvent,
    Head,
    event_mac,
    events,
    legacy_digest,
    read_head,
)


class Break(StrEnum):
    EDITED = "edited"
    DELETED = "deleted"
    REORDERED = "reordered"
    TRUNCATED = "truncated"
    FORGED = "forged"
    HEAD_MISMATCH = "head_mismatch"


@dataclass(frozen=True, slots=True)
class AuditCheck:
    """What ``verify`` found: ``events`` checked, and the first break (if any)."""

    events: int
    head: Head | None
    kind: Break | None = None
    position: int | None = None  # the seq of the first bad position
    detail: str = ""
    witnessed: int = 0  # witnessed heads checked

    @property
    def intact(self) -> bool:
        return self.kind is None

    def public(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "intact": self.intact,
            "kind": None if self.kind is None else self.kind.value,
            "first_broken_seq": self.position,
            "detail": self.detail,
            "head": None if self.head is None else self.head.public(),
            "witnessed": self.witnessed,
        }


def verify(conn: Connection, key: bytes, witnessed: Sequence[Head] = ()) -> AuditCheck:
    head = read_head(conn)
    if head is None:  # an empty log has no head until its first event
        total = conn.execute(select(func.count()).select_from(wf_audit)).scalar_one()
        if total:
            return AuditCheck(0, None, Break.HEAD_MISMATCH, None, "the head row is missing")
        head = Head(since_seq=1, count=0, last_seq=0, last_mac=GENESIS, mac=None)
    if (head.mac is not None or head.keyed_events) and not head.signed_by(key):
        return AuditCheck(0, head, Break.HEAD_MISMATCH, None, "the head fails its MAC")
    wanted = {w.count for w in witnessed}
    mac_at: dict[int, str] = {0: GENESIS}
    prev, next_seq, last_seen, count = GENESIS, head.since_seq, 0, 0
    for event in events(conn):
        keyed = event.seq >= head.since_seq
        if keyed and event.seq > head.last_seq:
            return _broken(count, head, Break.FORGED, event.seq, "an event beyond the signed head")
        fits = event.hash == (event_mac(key, event) if keyed else legacy_digest(event))
        if not fits or event.prev_hash != prev or (keyed and event.seq != next_seq):
            expected = next_seq if keyed else last_seen + 1
            kind, position, detail = _classify(conn, key, head, event, fits, expected, last_seen)
            return _broken(count, head, kind, position, detail)
        count += 1
        prev, last_seen = event.hash, event.seq
        next_seq = event.seq + 1 if keyed else next_seq
        if count in wanted:
            mac_at[count] = event.hash
    missing_at = next_seq if head.keyed_events else last_seen + 1
    if count < head.count:
        detail = f"the head counts {head.count} event(s), the log holds {count}"
        return _broken(count, head, Break.TRUNCATED, missing_at, detail)
    if count != head.count or prev != head.last_mac:
        return _broken(count, head, Break.HEAD_MISMATCH, None, "the head disagrees with the log")
    most = max((w.count for w in witnessed), default=0)
    if most > count:
        detail = f"a witness saw {most} event(s), the log holds {count}"
        return _broken(count, head, Break.TRUNCATED, missing_at, detail, len(witnessed))
    for seen in sorted(witnessed, key=lambda w: w.count):
        if not hmac.compare_digest(mac_at[seen.count], seen.last_mac):
            detail = f"a witness saw another chain at event {seen.last_seq}"
            return _broken(count, head, Break.HEAD_MISMATCH, seen.last_seq, detail, len(witnessed))
    return AuditCheck(count, head, witnessed=len(witnessed))


def _broken(
    count: int,
    head: Head,
    kind: Break,
    position: int | None,
    detail: str,
    witnessed: int = 0,
) -> AuditCheck:
    return AuditCheck(count, head, kind, position, detail, witnessed)


def _classify(
    conn: Connection,
    key: bytes,
    head: Head,
    event: AuditEvent,
    fits: bool,
    expected: int,
    previous: int,
) -> tuple[Break, int, str]:
    """Why ``event`` breaks the chain; ``expected`` is its position, ``previous`` the last
    good one."""
    keyed = event.seq >= head.since_seq
    if fits:  # a genuine event whose predecessor is not the event before it
        if _hash_elsewhere(conn, event.prev_hash, event.seq):
            return Break.REORDERED, event.seq, "an event's predecessor is elsewhere in the log"
        if event.seq == expected and previous:  # in place: the one before was rewritten
            return Break.EDITED, previous, "the next event's MAC vouches for another event"
        return Break.DELETED, expected, "an event's predecessor is missing"
    if keyed and any(
        hmac.compare_digest(event.hash, event_mac(key, event, seq=seq))
        for seq in range(head.since_seq, head.last_seq + 1)
        if seq != event.seq
    ):
        return Break.REORDERED, event.seq, "an event's MAC belongs to another position"
    if not keyed or _vouched(conn, key, head, event):
        return Break.EDITED, event.seq, "an event's content does not match its hash"
    return Break.FORGED, event.seq, "an event's MAC was not made with this instance's key"


def _hash_elsewhere(conn: Connection, value: str, seq: int) -> bool:
    query = select(wf_audit.c.seq).where(wf_audit.c.hash == value, wf_audit.c.seq != seq)
    return conn.execute(query.limit(1)).first() is not None


def _vouched(conn: Connection, key: bytes, head: Head, event: AuditEvent) -> bool:
    """Whether the next event (or the head) still links to ``event``'s stored MAC."""
    after = next(iter(_events_after(conn, event.seq)), None)
    if after is None:
        return head.last_seq == event.seq and hmac.compare_digest(head.last_mac, event.hash)
    return after.prev_hash == event.hash and hmac.compare_digest(after.hash, event_mac(key, after))


def _events_after(conn: Connection, seq: int) -> list[AuditEvent]:
    query = select(wf_audit).where(wf_audit.c.seq > seq).order_by(wf_audit.c.seq).limit(1)
    return [AuditEvent(**values(row)) for row in conn.execute(query)]
