"""Bank repository: banks, entries, their variant hashes and the change feed (only SQL here)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bastion.clock import utc
from bastion.errors import Conflict, NotFound
from bastion.hashing.model import Bank, Entry, EntryInput
from bastion.hashing.signals import SignalType
from bastion.storage.bank_rows import (
    Change,
    IndexRow,
    _bank,
    _bank_values,
    _change,
    _entry,
    _new_id,
)
from bastion.storage.db import Database
from bastion.storage.tables import (
    bank_changes,
    bank_entries,
    bank_entry_variants,
    banks,
    wf_decisions,
)

__all__ = ["BankRepository", "Change", "IndexRow"]

BATCH = 2000


class BankRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- banks --------------------------------------------------------------------------------

    def create_bank(self, bank: Bank, now: datetime) -> Bank:
        values = _bank_values(bank, now)
        try:
            with self.db.begin() as connection:
                bank_id = _new_id(connection.execute(insert(banks).values(**values)))
                self._log(connection, "bank", int(bank_id), None, now)
        except IntegrityError:
            raise Conflict(f"a bank named {bank.name!r} already exists", field="name") from None
        return self.get_bank(bank.name)

    def bank_in(self, connection: Connection, name: str) -> Bank | None:
        """The bank named ``name`` as the caller's transaction sees it."""
        found = connection.execute(select(banks).where(banks.c.name == name)).one_or_none()
        return None if found is None else _bank(found)

    def ensure_bank_in(self, connection: Connection, bank: Bank, now: datetime) -> Bank:
        """The bank named ``bank.name``, created inside the caller's transaction if missing."""
        found = self.bank_in(connection, bank.name)
        if found is not None:
            return found
        values = _bank_values(bank, now)
        if connection.dialect.name == "sqlite":
            # SQLite has one writer: the caller's transaction holds the lock, nobody can race.
            bank_id = _new_id(connection.execute(insert(banks).values(**values)))
            self._log(connection, "bank", bank_id, None, now)
        else:
            try:
                with connection.begin_nested():  # a concurrent creator wins; keep the outer tx
                    bank_id = _new_id(connection.execute(insert(banks).values(**values)))
                    self._log(connection, "bank", bank_id, None, now)
            except IntegrityError:
                pass
        created = self.bank_in(connection, bank.name)
        assert created is not None
        return created

    def update_bank(self, name: str, now: datetime, **values: Any) -> Bank:
        current = self.get_bank(name)
        with self.db.begin() as connection:
            connection.execute(
                update(banks).where(banks.c.id == current.id).values(**values, updated_at=now)
            )
            self._log(connection, "bank", current.id, None, now)
        return self.get_bank(name)

    def get_bank(self, name: str) -> Bank:
        with self.db.connect() as connection:
            row = connection.execute(select(banks).where(banks.c.name == name)).one_or_none()
        if row is None:
            raise NotFound(f"no bank named {name!r}", field="bank")
        return _bank(row)

    def list_banks(self) -> list[Bank]:
        with self.db.connect() as connection:
            rows = connection.execute(select(banks).order_by(banks.c.name)).all()
        return [_bank(row) for row in rows]

    def entry_counts(self) -> dict[int, tuple[int, int]]:
        """Per bank id: (entries, enabled entries)."""
        enabled = func.sum(case((bank_entries.c.enabled.is_(True), 1), else_=0))
        with self.db.connect() as connection:
            rows = connection.execute(
                select(bank_entries.c.bank_id, func.count(), enabled).group_by(
                    bank_entries.c.bank_id
                )
            ).all()
        return {int(b): (int(n), int(e or 0)) for b, n, e in rows}

    # -- entries ------------------------------------------------------------------------------

    def add_entries(
        self, bank: Bank, items: Sequence[EntryInput], added_by: str, now: datetime
    ) -> list[int]:
        """Insert entries (and their variants) in one transaction; returns their ids."""
        with self.db.begin() as connection:
            return self.insert_entries(connection, bank, items, added_by, now)

    def insert_entries(
        self,
        connection: Connection,
        bank: Bank,
        items: Sequence[EntryInput],
        added_by: str,
        now: datetime,
    ) -> list[int]:
        """Insert entries (and their variants) inside the caller's transaction: one
        multi-row INSERT … RETURNING per table (ids come back in the order of ``items``)."""
        if not items:
            return []
        rows = [
            {
                "bank_id": bank.id,
                "signal_type": item.signal_type.value,
                "hash": item.hash,
                "quality": item.quality,
                "source": item.source,
                "labels": list(item.labels),
                "added_at": now,
                "added_by": added_by,
                "case_id": item.case_id,
                "decision_id": item.decision_id,
                "note": item.note,
                "enabled": item.enabled,
                "disabled_at": None if item.enabled else now,
            }
            for item in items
        ]
        result = connection.execute(
            insert(bank_entries).returning(bank_entries.c.id, sort_by_parameter_order=True), rows
        )
        ids = [int(i) for i in result.scalars().all()]
        if len(ids) != len(items):
            raise RuntimeError("the database returned no id for a new row")
        variants = [
            {"entry_id": entry_id, "variant": v, "hash": h}
            for entry_id, item in zip(ids, items, strict=True)
            for v, h in item.variants
        ]
        if variants:
            connection.execute(insert(bank_entry_variants), variants)
        changes = [
            {"op": "add", "bank_id": bank.id, "entry_id": entry_id, "at": now}
            for entry_id, item in zip(ids, items, strict=True)
            if item.enabled
        ]
        if changes:
            connection.execute(insert(bank_changes), changes)
        return ids

    def set_entry_enabled(self, entry_id: int, enabled: bool, now: datetime) -> Entry:
        entry = self.get_entry(entry_id)
        if entry.enabled != enabled:
            with self.db.begin() as connection:
                connection.execute(
                    update(bank_entries)
                    .where(bank_entries.c.id == entry_id)
                    .values(enabled=enabled, disabled_at=None if enabled else now)
                )
                bank_id = connection.execute(
                    select(bank_entries.c.bank_id).where(bank_entries.c.id == entry_id)
                ).scalar_one()
                self._log(connection, "enable" if enabled else "disable", bank_id, entry_id, now)
        return self.get_entry(entry_id)

    def disable_decision_entries(
        self,
        connection: Connection,
        bank: Bank,
        decision_id: str,
        now: datetime,
        *,
        case_id: str | None = None,
    ) -> list[int]:
        """Disable (never delete) the enabled entries a decision added to ``bank``, inside the
        caller's transaction; ``case_id`` (indexed) narrows the search. Returns their ids."""
        query = select(bank_entries.c.id).where(
            bank_entries.c.bank_id == bank.id,
            bank_entries.c.decision_id == decision_id,
            bank_entries.c.enabled.is_(True),
        )
        if case_id is not None:
            query = query.where(bank_entries.c.case_id == case_id)
        ids = [int(i) for i in connection.execute(query).scalars()]
        if ids:
            connection.execute(
                update(bank_entries)
                .where(bank_entries.c.id.in_(ids))
                .values(enabled=False, disabled_at=now)
            )
            for entry_id in ids:
                self._log(connection, "disable", bank.id, entry_id, now)
        return ids

    def get_entry(self, entry_id: int) -> Entry:
        found = self.get_entries([entry_id])
        if not found:
            raise NotFound(f"no bank entry with id {entry_id}", field="entry_id")
        return found[entry_id]

    def get_entries(self, entry_ids: Sequence[int]) -> dict[int, Entry]:
        if not entry_ids:
            return {}
        wanted = sorted(set(int(i) for i in entry_ids))
        query = (
            select(bank_entries, banks.c.name.label("bank_name"))
            .join(banks, banks.c.id == bank_entries.c.bank_id)
            .where(bank_entries.c.id.in_(wanted))
        )
        with self.db.connect() as connection:
            rows = connection.execute(query).all()
            variants = self._variants(connection, wanted)
        return {int(r.id): _entry(r, variants.get(int(r.id), ())) for r in rows}

    def iter_entries(self, bank: Bank, *, enabled_only: bool = False) -> Iterator[Entry]:
        """Every entry of a bank in id order, read in batches (for exports of any size)."""
        last = 0
        while True:
            query = (
                select(bank_entries, banks.c.name.label("bank_name"))
                .join(banks, banks.c.id == bank_entries.c.bank_id)
                .where(bank_entries.c.bank_id == bank.id, bank_entries.c.id > last)
                .order_by(bank_entries.c.id)
                .limit(BATCH)
            )
            if enabled_only:
                query = query.where(bank_entries.c.enabled.is_(True))
            with self.db.connect() as connection:
                rows = connection.execute(query).all()
                variants = self._variants(connection, [int(r.id) for r in rows])
            if not rows:
                return
            for row in rows:
                yield _entry(row, variants.get(int(row.id), ()))
            last = int(rows[-1].id)

    def _variants(
        self, connection: Connection, entry_ids: Sequence[int]
    ) -> dict[int, tuple[tuple[str, str], ...]]:
        out: dict[int, list[tuple[str, str]]] = {}
        for start in range(0, len(entry_ids), 900):
            chunk = list(entry_ids[start : start + 900])
            rows = connection.execute(
                select(bank_entry_variants)
                .where(bank_entry_variants.c.entry_id.in_(chunk))
                .order_by(bank_entry_variants.c.id)
            ).all()
            for row in rows:
                out.setdefault(int(row.entry_id), []).append((row.variant, row.hash))
        return {k: tuple(v) for k, v in out.items()}

    # -- the index feed -----------------------------------------------------------------------

    def index_rows(self, entry_ids: Sequence[int] | None = None) -> Iterator[IndexRow]:
        """Every hash (plain and variants) of enabled entries, or of the given entries."""
        pdq = bank_entries.c.signal_type == SignalType.PDQ.value  # SHA-256 is looked up exactly
        plain = select(bank_entries.c.id, bank_entries.c.bank_id, bank_entries.c.hash).where(
            bank_entries.c.enabled.is_(True), pdq
        )
        extra = (
            select(bank_entries.c.id, bank_entries.c.bank_id, bank_entry_variants.c.hash)
            .join(bank_entry_variants, bank_entry_variants.c.entry_id == bank_entries.c.id)
            .where(bank_entries.c.enabled.is_(True), pdq)
        )
        chunks: list[list[int] | None] = [None]
        if entry_ids is not None:
            ids = sorted(set(entry_ids))
            chunks = [ids[i : i + 900] for i in range(0, len(ids), 900)]
        with self.db.connect() as connection:
            for chunk in chunks:
                for query in (plain, extra):
                    if chunk is not None:
                        query = query.where(bank_entries.c.id.in_(chunk))
                    result = connection.execution_options(yield_per=50_000).execute(query)
                    for row in result:
                        yield IndexRow(int(row[0]), int(row[1]), row[2])

    def exact_in(
        self, connection: Connection, bank_names: Sequence[str], sha256: str
    ) -> dict[str, Any] | None:
        """The oldest enabled SHA-256 entry with this value in one of ``bank_names``, with the
        item its removing decision was about (None for an automatic block)."""
        row = connection.execute(
            select(
                bank_entries.c.id,
                bank_entries.c.decision_id,
                bank_entries.c.labels,
                bank_entries.c.added_at,
                wf_decisions.c.item_id,
                wf_decisions.c.category,
            )
            .join(banks, banks.c.id == bank_entries.c.bank_id)
            .outerjoin(wf_decisions, wf_decisions.c.id == bank_entries.c.decision_id)
            .where(
                banks.c.name.in_(list(bank_names)),
                bank_entries.c.signal_type == SignalType.SHA256.value,
                bank_entries.c.hash == sha256.lower(),
                bank_entries.c.enabled.is_(True),
            )
            .order_by(bank_entries.c.added_at, bank_entries.c.id)
            .limit(1)
        ).one_or_none()
        if row is None:
            return None
        labels = list(row.labels or ())
        return {
            "entry_id": int(row.id),
            "decision_id": row.decision_id,
            "item_id": row.item_id,
            "category": row.category or (labels[0] if labels else None),
            "added_at": utc(row.added_at),
        }

    def last_seq(self) -> int:
        with self.db.connect() as connection:
            value = connection.execute(select(func.max(bank_changes.c.seq))).scalar_one()
        return int(value or 0)

    def changes_since(self, seq: int, limit: int = 10_000) -> list[Change]:
        with self.db.connect() as connection:
            rows = connection.execute(
                select(bank_changes)
                .where(bank_changes.c.seq > seq)
                .order_by(bank_changes.c.seq)
                .limit(limit)
            ).all()
        return [_change(r) for r in rows]

    def changes_in(self, seqs: Sequence[int]) -> list[Change]:
        """The feed entries with these sequence numbers (late commits filling a gap)."""
        out: list[Change] = []
        wanted = sorted(set(seqs))
        with self.db.connect() as connection:
            for start in range(0, len(wanted), 900):
                rows = connection.execute(
                    select(bank_changes)
                    .where(bank_changes.c.seq.in_(wanted[start : start + 900]))
                    .order_by(bank_changes.c.seq)
                ).all()
                out += [_change(r) for r in rows]
        return out

    def seqs_between(self, low: int, high: int) -> set[int]:
        """Sequence numbers present in ``low..high`` (to find gaps after a full load)."""
        with self.db.connect() as connection:
            return {
                int(s)
                for s in connection.execute(
                    select(bank_changes.c.seq).where(
                        bank_changes.c.seq >= low, bank_changes.c.seq <= high
                    )
                ).scalars()
            }

    @staticmethod
    def _log(
        connection: Connection, op: str, bank_id: int, entry_id: int | None, now: datetime
    ) -> None:
        connection.execute(
            insert(bank_changes).values(op=op, bank_id=bank_id, entry_id=entry_id, at=now)
        )
