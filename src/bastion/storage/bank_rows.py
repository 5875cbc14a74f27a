"""Rows of the bank tables as typed values (the bank repository's mapping, only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from bastion.clock import as_utc, utc
from bastion.hashing.model import Bank, BankKind, Entry
from bastion.hashing.signals import SignalType


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    op: str  # bank | add | disable | enable
    bank_id: int
    entry_id: int | None


@dataclass(frozen=True, slots=True)
class IndexRow:
    """What the in-memory index needs about one enabled hash."""

    entry_id: int
    bank_id: int
    hash: str


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the database returned no id for a new row")
    return int(key[0])


def _change(row: Row[Any]) -> Change:
    entry_id = None if row.entry_id is None else int(row.entry_id)
    return Change(int(row.seq), row.op, int(row.bank_id), entry_id)


def _bank_values(bank: Bank, now: datetime) -> dict[str, Any]:
    return {
        "name": bank.name,
        "kind": bank.kind.value,
        "description": bank.description,
        "match_distance": bank.match_distance,
        "enabled": bank.enabled,
        "negative": bank.negative,
        "created_at": now,
        "updated_at": now,
    }


def _bank(row: Row[Any]) -> Bank:
    return Bank(
        id=int(row.id),
        name=row.name,
        kind=BankKind(row.kind),
        match_distance=int(row.match_distance),
        enabled=bool(row.enabled),
        negative=bool(row.negative),
        description=row.description or "",
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


def _entry(row: Row[Any], variants: tuple[tuple[str, str], ...]) -> Entry:
    return Entry(
        id=int(row.id),
        bank=row.bank_name,
        signal_type=SignalType(row.signal_type),
        hash=row.hash,
        quality=row.quality,
        source=row.source,
        labels=tuple(row.labels or ()),
        added_at=utc(row.added_at),
        added_by=row.added_by,
        case_id=row.case_id,
        decision_id=row.decision_id,
        note=row.note,
        enabled=bool(row.enabled),
        disabled_at=as_utc(row.disabled_at),
        variants=variants,
    )
