"""Moderation decisions (the one record) and the statements rendered from them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from bastion.errors import NotFound
from bastion.storage.tables import wf_decisions, wf_statements
from bastion.storage.workflow._rows import values
from bastion.workflow.model import DecisionStatus, ModerationDecision
from bastion.workflow.records import Statement


def add(conn: Connection, decision: ModerationDecision) -> None:
    conn.execute(
        insert(wf_decisions).values(
            id=decision.id,
            case_id=decision.case_id,
            item_id=decision.item_id,
            decided_at=decision.decided_at,
            reviewer=decision.reviewer,
            visibility=decision.visibility.value,
            account_measure=decision.account_measure.value,
            ground=decision.ground.value,
            category=decision.category,
            automated_decision=decision.automated_decision.value,
            supersedes=decision.supersedes,
            status=DecisionStatus.IN_FORCE.value,
            record=decision.to_dict(),
        )
    )


def get(conn: Connection, decision_id: str) -> ModerationDecision:
    record = conn.execute(
        select(wf_decisions.c.record).where(wf_decisions.c.id == decision_id)
    ).scalar_one_or_none()
    if record is None:
        raise NotFound(f"no decision with id {decision_id!r}", field="decision_id")
    return ModerationDecision.from_dict(record)


def status(conn: Connection, decision_id: str) -> DecisionStatus:
    value = conn.execute(
        select(wf_decisions.c.status).where(wf_decisions.c.id == decision_id)
    ).scalar_one_or_none()
    if value is None:
        raise NotFound(f"no decision with id {decision_id!r}", field="decision_id")
    return DecisionStatus(value)


def set_status(conn: Connection, decision_id: str, value: DecisionStatus) -> None:
    conn.execute(
        update(wf_decisions).where(wf_decisions.c.id == decision_id).values(status=value.value)
    )


def for_case(conn: Connection, case_id: str) -> list[ModerationDecision]:
    rows = conn.execute(
        select(wf_decisions.c.record)
        .where(wf_decisions.c.case_id == case_id)
        .order_by(wf_decisions.c.decided_at, wf_decisions.c.id)
    ).scalars()
    return [ModerationDecision.from_dict(r) for r in rows]


# -- statements ---------------------------------------------------------------------------------


def _statement(row: Row[Any]) -> Statement:
    return Statement(**values(row))


def add_statement(conn: Connection, statement: Statement) -> None:
    row = {f: getattr(statement, f) for f in Statement.__slots__}
    row["payload"] = dict(statement.payload) if statement.payload is not None else None
    conn.execute(insert(wf_statements).values(**row))


def get_statement(conn: Connection, statement_id: str) -> Statement:
    row = conn.execute(
        select(wf_statements).where(wf_statements.c.id == statement_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no statement with id {statement_id!r}", field="statement_id")
    return _statement(row)


def statements_for(conn: Connection, decision_id: str) -> list[Statement]:
    rows = conn.execute(
        select(wf_statements)
        .where(wf_statements.c.decision_id == decision_id)
        .order_by(wf_statements.c.created_at, wf_statements.c.kind, wf_statements.c.id)
    ).all()
    return [_statement(r) for r in rows]


def tdb_statements(conn: Connection, *, status: str | None = None) -> Iterator[Statement]:
    query = select(wf_statements).where(wf_statements.c.kind == "tdb")
    if status is not None:
        query = query.where(wf_statements.c.tdb_status == status)
    for row in conn.execute(query.order_by(wf_statements.c.created_at, wf_statements.c.id)):
        yield _statement(row)
