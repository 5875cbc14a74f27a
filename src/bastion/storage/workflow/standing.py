"""Strikes (Art. 23 evidence) and the standing of accounts and notifiers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from bastion.storage.tables import wf_standings, wf_strikes
from bastion.storage.workflow._rows import values
from bastion.workflow.records import Standing


def add_strike(conn: Connection, **row: Any) -> None:
    conn.execute(insert(wf_strikes).values(**row))


def revoke_strikes(conn: Connection, source_id: str, at: datetime) -> int:
    result = conn.execute(
        update(wf_strikes)
        .where(wf_strikes.c.source_id == source_id, wf_strikes.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return result.rowcount or 0


def strike_totals(
    conn: Connection, subject_kind: str, subject_ref: str, since: datetime
) -> tuple[int, int]:
    """(number of strikes, gravity-weighted score) in the window."""
    count, score = conn.execute(
        select(func.count(), func.coalesce(func.sum(wf_strikes.c.gravity), 0)).where(
            wf_strikes.c.subject_kind == subject_kind,
            wf_strikes.c.subject_ref == subject_ref,
            wf_strikes.c.at >= since,
            wf_strikes.c.revoked_at.is_(None),
        )
    ).one()
    return int(count), int(score)


def get(conn: Connection, subject_kind: str, subject_ref: str) -> Standing | None:
    row = conn.execute(
        select(wf_standings).where(
            wf_standings.c.subject_kind == subject_kind, wf_standings.c.subject_ref == subject_ref
        )
    ).one_or_none()
    return Standing(**values(row)) if row else None


def put(conn: Connection, standing: Standing) -> None:
    row = {f: getattr(standing, f) for f in Standing.__slots__}
    exists = get(conn, standing.subject_kind, standing.subject_ref) is not None
    if exists:
        conn.execute(
            update(wf_standings)
            .where(
                wf_standings.c.subject_kind == standing.subject_kind,
                wf_standings.c.subject_ref == standing.subject_ref,
            )
            .values(**row)
        )
    else:
        conn.execute(insert(wf_standings).values(**row))
