"""Appeal tokens (who may appeal which decision, and until when) and appeals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from bastion.clock import utc
from bastion.errors import NotFound
from bastion.storage.tables import wf_appeal_tokens, wf_appeals
from bastion.storage.workflow._rows import values
from bastion.workflow.model import AppealOutcome, AppealState, Complainant
from bastion.workflow.records import Appeal, AppealToken


def add_token(conn: Connection, token: AppealToken) -> None:
    row = {f: getattr(token, f) for f in AppealToken.__slots__}
    row["role"] = token.role.value
    conn.execute(insert(wf_appeal_tokens).values(**row))


def token(conn: Connection, token_hash: str) -> AppealToken | None:
    row = conn.execute(
        select(wf_appeal_tokens).where(wf_appeal_tokens.c.token_hash == token_hash)
    ).one_or_none()
    if row is None:
        return None
    data = values(row)
    data["role"] = Complainant(data["role"])
    return AppealToken(**data)


def inform_tokens(conn: Connection, message_id: str, at: datetime, expires: datetime) -> None:
    conn.execute(
        update(wf_appeal_tokens)
        .where(
            wf_appeal_tokens.c.message_id == message_id, wf_appeal_tokens.c.informed_at.is_(None)
        )
        .values(informed_at=at, expires_at=expires)
    )


def _appeal(row: Row[Any]) -> Appeal:
    data = values(row)
    data["role"] = Complainant(data["role"])
    data["state"] = AppealState(data["state"])
    data["outcome"] = AppealOutcome(data["outcome"]) if data["outcome"] else None
    return Appeal(**data)


def add(conn: Connection, appeal: Appeal) -> None:
    row = {f: getattr(appeal, f) for f in Appeal.__slots__}
    row.update(
        role=appeal.role.value,
        state=appeal.state.value,
        outcome=appeal.outcome.value if appeal.outcome else None,
    )
    conn.execute(insert(wf_appeals).values(**row))


def get(conn: Connection, appeal_id: str) -> Appeal:
    row = conn.execute(select(wf_appeals).where(wf_appeals.c.id == appeal_id)).one_or_none()
    if row is None:
        raise NotFound(f"no appeal with id {appeal_id!r}", field="appeal_id")
    return _appeal(row)


def open_for_token(conn: Connection, token_hash: str) -> Appeal | None:
    row = conn.execute(
        select(wf_appeals).where(
            wf_appeals.c.token_hash == token_hash, wf_appeals.c.state == AppealState.OPEN.value
        )
    ).first()
    return _appeal(row) if row else None


def decide(conn: Connection, appeal_id: str, **changes: Any) -> None:
    for key, value in list(changes.items()):
        if isinstance(value, AppealState | AppealOutcome):
            changes[key] = value.value
    conn.execute(update(wf_appeals).where(wf_appeals.c.id == appeal_id).values(**changes))


def listing(
    conn: Connection, *, state: AppealState | None = None, limit: int = 100
) -> list[Appeal]:
    query = select(wf_appeals)
    if state is not None:
        query = query.where(wf_appeals.c.state == state.value)
    rows = conn.execute(query.order_by(wf_appeals.c.lodged_at).limit(limit)).all()
    return [_appeal(r) for r in rows]


def outcome_counts(
    conn: Connection, since: datetime | None = None, until: datetime | None = None
) -> list[tuple[str, str | None, bool, int]]:
    """(basis, outcome, new_restriction, count) over appeals lodged in the period."""
    query = select(
        wf_appeals.c.basis, wf_appeals.c.outcome, wf_appeals.c.new_restriction, func.count()
    ).group_by(wf_appeals.c.basis, wf_appeals.c.outcome, wf_appeals.c.new_restriction)
    if since is not None:
        query = query.where(wf_appeals.c.lodged_at >= since)
    if until is not None:
        query = query.where(wf_appeals.c.lodged_at < until)
    return [(b, o, bool(n), int(c)) for b, o, n, c in conn.execute(query).all()]


def decided_times(conn: Connection) -> list[tuple[datetime, datetime]]:
    rows = conn.execute(
        select(wf_appeals.c.lodged_at, wf_appeals.c.decided_at).where(
            wf_appeals.c.decided_at.is_not(None),
            wf_appeals.c.outcome != AppealOutcome.OMITTED.value,
        )
    ).all()
    return [(utc(lodged), utc(decided)) for lodged, decided in rows]
