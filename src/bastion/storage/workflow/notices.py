"""Notices and the trusted-flagger registry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from bastion.errors import NotFound
from bastion.storage.tables import wf_case_notices, wf_notices, wf_trusted_flaggers
from bastion.storage.workflow._rows import values
from bastion.workflow.model import NoticeStatus, NoticeType
from bastion.workflow.records import Notice, TrustedFlagger


def _notice(row: Row[Any]) -> Notice:
    data = values(row)
    data["type"] = NoticeType(data["type"])
    data["status"] = NoticeStatus(data["status"])
    data["keywords"] = tuple(data["keywords"])
    data["locations"] = tuple(data["locations"])
    return Notice(**data)


def add(conn: Connection, notice: Notice) -> None:
    row = {f: getattr(notice, f) for f in Notice.__slots__}
    row.update(
        type=notice.type.value,
        status=notice.status.value,
        keywords=list(notice.keywords),
        locations=list(notice.locations),
        details=dict(notice.details),
    )
    conn.execute(insert(wf_notices).values(**row))


def get(conn: Connection, notice_id: str) -> Notice:
    row = conn.execute(select(wf_notices).where(wf_notices.c.id == notice_id)).one_or_none()
    if row is None:
        raise NotFound(f"no notice with id {notice_id!r}", field="notice_id")
    return _notice(row)


def for_case(conn: Connection, case_id: str) -> list[Notice]:
    rows = conn.execute(
        select(wf_notices)
        .join(wf_case_notices, wf_case_notices.c.notice_id == wf_notices.c.id)
        .where(wf_case_notices.c.case_id == case_id)
        .order_by(wf_notices.c.received_at)
    ).all()
    return [_notice(r) for r in rows]


def case_ids(conn: Connection, notice_id: str) -> list[str]:
    return list(
        conn.execute(
            select(wf_case_notices.c.case_id).where(wf_case_notices.c.notice_id == notice_id)
        ).scalars()
    )


def mark_decided(conn: Connection, notice_ids: list[str], *, outcome: str, at: datetime) -> None:
    if notice_ids:
        conn.execute(
            update(wf_notices)
            .where(wf_notices.c.id.in_(notice_ids))
            .values(status=NoticeStatus.DECIDED.value, outcome=outcome, decided_at=at)
        )


def mark_informed(conn: Connection, notice_id: str, at: datetime) -> None:
    conn.execute(
        update(wf_notices).where(wf_notices.c.id == notice_id).values(notifier_informed_at=at)
    )


def count_from(conn: Connection, notifier_ref: str, since: datetime) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(wf_notices)
            .where(wf_notices.c.notifier_ref == notifier_ref, wf_notices.c.received_at >= since)
        ).scalar_one()
    )


# -- trusted flaggers ---------------------------------------------------------------------------


def _flagger(row: Row[Any]) -> TrustedFlagger:
    data = values(row)
    data["areas"] = tuple(data["areas"])
    return TrustedFlagger(**data)


def add_flagger(conn: Connection, flagger: TrustedFlagger) -> None:
    row = {f: getattr(flagger, f) for f in TrustedFlagger.__slots__}
    row["areas"] = list(flagger.areas)
    conn.execute(insert(wf_trusted_flaggers).values(**row))


def flagger_for_key(conn: Connection, api_key_id: str) -> TrustedFlagger | None:
    row = conn.execute(
        select(wf_trusted_flaggers).where(
            wf_trusted_flaggers.c.api_key_id == api_key_id,
            wf_trusted_flaggers.c.revoked_at.is_(None),
        )
    ).one_or_none()
    return _flagger(row) if row else None


def list_flaggers(conn: Connection) -> list[TrustedFlagger]:
    rows = conn.execute(select(wf_trusted_flaggers).order_by(wf_trusted_flaggers.c.created_at))
    return [_flagger(r) for r in rows]
