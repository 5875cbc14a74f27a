"""Cases, their notices, detections and deadlines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, exists, insert, select, update

from bastion.errors import NotFound
from bastion.storage.tables import wf_case_notices, wf_cases, wf_deadlines, wf_detections
from bastion.storage.workflow._rows import values
from bastion.workflow.model import CaseState
from bastion.workflow.records import Case, Deadline, Detection


def _case(row: Row[Any]) -> Case:
    data = values(row)
    data["state"] = CaseState(data["state"])
    data["keywords"] = tuple(data["keywords"])
    return Case(**data)


def add(conn: Connection, case: Case) -> None:
    row = {f: getattr(case, f) for f in Case.__slots__}
    row.update(state=case.state.value, keywords=list(case.keywords))
    conn.execute(insert(wf_cases).values(**row))


def get(conn: Connection, case_id: str, *, lock: bool = False) -> Case:
    query = select(wf_cases).where(wf_cases.c.id == case_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        raise NotFound(f"no case with id {case_id!r}", field="case_id")
    return _case(row)


def open_for_item(conn: Connection, item_id: str) -> Case | None:
    row = conn.execute(
        select(wf_cases)
        .where(
            wf_cases.c.item_id == item_id,
            wf_cases.c.state.in_([CaseState.OPEN.value, CaseState.IN_REVIEW.value]),
        )
        .limit(1)
    ).one_or_none()
    return _case(row) if row else None


def update_case(conn: Connection, case_id: str, **changes: Any) -> None:
    for key, value in list(changes.items()):
        if isinstance(value, CaseState):
            changes[key] = value.value
        elif isinstance(value, tuple):
            changes[key] = list(value)
    conn.execute(update(wf_cases).where(wf_cases.c.id == case_id).values(**changes))


def link_notice(conn: Connection, case_id: str, notice_id: str) -> None:
    conn.execute(insert(wf_case_notices).values(case_id=case_id, notice_id=notice_id))


def listing(
    conn: Connection,
    *,
    now: datetime,
    states: list[CaseState] | None = None,
    overdue: bool = False,
    child_safety: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Case]:
    """The queue: priority first, then the earliest deadline, then the oldest."""
    query = select(wf_cases)
    if states:
        query = query.where(wf_cases.c.state.in_([s.value for s in states]))
    if child_safety is not None:
        query = query.where(wf_cases.c.child_safety == child_safety)
    if overdue:
        query = query.where(
            exists().where(
                and_(
                    wf_deadlines.c.case_id == wf_cases.c.id,
                    wf_deadlines.c.met_at.is_(None),
                    wf_deadlines.c.due_at < now,
                )
            )
        )
    query = query.order_by(
        wf_cases.c.priority, wf_cases.c.due_at, wf_cases.c.opened_at, wf_cases.c.id
    )
    rows = conn.execute(query.limit(limit).offset(offset)).all()
    return [_case(r) for r in rows]


# -- detections ---------------------------------------------------------------------------------


def add_detection(conn: Connection, detection: Detection) -> None:
    row = {f: getattr(detection, f) for f in Detection.__slots__}
    row["keywords"] = list(detection.keywords)
    conn.execute(insert(wf_detections).values(**row))


def detections(conn: Connection, case_id: str) -> list[Detection]:
    rows = conn.execute(
        select(wf_detections)
        .where(wf_detections.c.case_id == case_id)
        .order_by(wf_detections.c.detected_at)
    ).all()
    out = []
    for row in rows:
        data = values(row)
        data["keywords"] = tuple(data["keywords"])
        out.append(Detection(**data))
    return out


# -- deadlines ----------------------------------------------------------------------------------


def add_deadline(conn: Connection, deadline: Deadline) -> None:
    conn.execute(
        insert(wf_deadlines).values(**{f: getattr(deadline, f) for f in Deadline.__slots__})
    )


def deadlines(conn: Connection, case_id: str) -> list[Deadline]:
    rows = conn.execute(
        select(wf_deadlines)
        .where(wf_deadlines.c.case_id == case_id)
        .order_by(wf_deadlines.c.due_at, wf_deadlines.c.regime)
    ).all()
    return [Deadline(**values(r)) for r in rows]


def meet_deadlines(conn: Connection, case_id: str, at: datetime) -> None:
    conn.execute(
        update(wf_deadlines)
        .where(wf_deadlines.c.case_id == case_id, wf_deadlines.c.met_at.is_(None))
        .values(met_at=at)
    )
