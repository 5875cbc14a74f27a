"""Items (content known to Bastion) and the stay-down list of removed hashes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from bastion.errors import NotFound
from bastion.storage.tables import wf_items
from bastion.storage.workflow._rows import values
from bastion.workflow.model import ItemState
from bastion.workflow.records import Item


def _item(row: Row[Any]) -> Item:
    data = values(row)
    data["state"] = ItemState(data["state"])
    data["content_types"] = tuple(data["content_types"])
    return Item(**data)


def add(conn: Connection, item: Item) -> None:
    row = {f: getattr(item, f) for f in Item.__slots__}
    row["state"] = item.state.value
    row["content_types"] = list(item.content_types)
    conn.execute(insert(wf_items).values(**row))


def get(conn: Connection, item_id: str) -> Item:
    row = conn.execute(select(wf_items).where(wf_items.c.id == item_id)).one_or_none()
    if row is None:
        raise NotFound(f"no item with id {item_id!r}", field="item_id")
    return _item(row)


def by_content_id(conn: Connection, content_id: str) -> Item | None:
    row = conn.execute(select(wf_items).where(wf_items.c.content_id == content_id)).one_or_none()
    return _item(row) if row else None


def by_url(conn: Connection, url: str) -> Item | None:
    row = conn.execute(
        select(wf_items).where(wf_items.c.url == url).order_by(wf_items.c.created_at).limit(1)
    ).one_or_none()
    return _item(row) if row else None


def by_sha256(conn: Connection, sha256: str) -> list[Item]:
    rows = conn.execute(
        select(wf_items).where(wf_items.c.sha256 == sha256).order_by(wf_items.c.created_at)
    ).all()
    return [_item(r) for r in rows]


def set_state(conn: Connection, item_id: str, state: ItemState, at: datetime) -> None:
    conn.execute(
        update(wf_items)
        .where(wf_items.c.id == item_id)
        .values(state=state.value, state_changed_at=at)
    )


def count_for_account(conn: Connection, account_id: str) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(wf_items).where(wf_items.c.account_id == account_id)
        ).scalar_one()
    )


# -- stay-down ----------------------------------------------------------------------------------


def pdq_page(conn: Connection, after: str, limit: int) -> list[tuple[str, str]]:
    """(id, pdq) of items with a PDQ hash, in id order after ``after`` (a scan in pages)."""
    rows = conn.execute(
        select(wf_items.c.id, wf_items.c.pdq)
        .where(wf_items.c.pdq.is_not(None), wf_items.c.id > after)
        .order_by(wf_items.c.id)
        .limit(limit)
    ).all()
    return [(str(r[0]), str(r[1])) for r in rows]
