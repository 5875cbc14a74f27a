"""The one stay-down service: automatic blocks and human removals, lookups and lifts.

One table holds it all: the entries of the stay-down banks (``removed_content``,
``blocked_generations``), each a ``pdq`` hash (matched by distance on every upload scan) or a
``sha256`` (the exact bytes, looked up by equality, so even an image too flat for PDQ stays
down), with the decision that put it there. The workflow calls it inside the decision's
transaction (``conn``), so a failure rolls the whole decision back; the guard's effect calls
it after an automatic block. Lifting disables entries, never deletes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection

from bastion.hashing.banks import BankService
from bastion.hashing.decode import Luma, decode_luma
from bastion.hashing.model import (
    BLOCKED_GENERATIONS,
    REMOVED_CONTENT,
    BankKind,
    Entry,
    EntryInput,
    check_actor,
    check_entry_input,
    stay_down_bank,
)
from bastion.hashing.signals import Hash, SignalType
from bastion.staydown.model import COPY_DISTANCE, Copy, RemovedContent
from bastion.storage.workflow import items as item_repo

SCAN_PAGE = 50_000
STAY_DOWN_BANKS = (REMOVED_CONTENT, BLOCKED_GENERATIONS)


class StayDown:
    def __init__(self, banks: BankService, *, copy_distance: int = COPY_DISTANCE) -> None:
        self.banks = banks
        self.copy_distance = copy_distance

    # -- automatic blocks (the guard's effect; outside any transaction) -----------------------

    def bank_block(
        self,
        image: bytes | Luma,
        *,
        output: bool,
        decision_id: str,
        labels: Sequence[str] = (),
        sha256: str | None = None,
    ) -> Entry | None:
        """Bank an automatically blocked image (an output into ``blocked_generations``, an
        upload into ``removed_content``): its exact SHA-256, and its PDQ hash with centred
        crops unless the image is too flat for PDQ. Returns the PDQ entry (None if flat)."""
        name, kind = (
            (BLOCKED_GENERATIONS, BankKind.BLOCKED_GENERATIONS)
            if output
            else (REMOVED_CONTENT, BankKind.REMOVED_CONTENT)
        )
        source = "guard:blocked_output" if output else "guard:blocked_upload"
        return self._bank(
            name,
            kind,
            image,
            sha256=sha256,
            added_by="guard",
            source=source,
            decision_id=decision_id,
            labels=tuple(labels),
        )

    def add_removed_hash(
        self,
        image_or_hash: bytes | Luma | Hash | str,
        *,
        case_id: str | None = None,
        decision_id: str | None = None,
        labels: Sequence[str] = (),
        added_by: str = "workflow",
        source: str = "decision:removal",
    ) -> Entry | None:
        """Bank an item a decision removed by its image or PDQ hash (outside a transaction)."""
        return self._bank(
            REMOVED_CONTENT,
            BankKind.REMOVED_CONTENT,
            image_or_hash,
            added_by=added_by,
            source=source,
            case_id=case_id,
            decision_id=decision_id,
            labels=tuple(labels),
        )

    def _bank(
        self,
        name: str,
        kind: BankKind,
        content: bytes | Luma | Hash | str,
        *,
        added_by: str,
        sha256: str | None = None,
        **meta: Any,
    ) -> Entry | None:
        """One add of the item's signals: the exact SHA-256 (when given) and the PDQ hash (of
        a hash, or of the image with centred crops unless it is too flat). Returns the PDQ
        entry, or None when the image was too flat to hash."""
        banks = self.banks
        banks.ensure_bank(name, kind, stay_down_bank(name, kind).description)
        items = (
            []
            if sha256 is None
            else [EntryInput(hash=sha256, signal_type=SignalType.SHA256, **meta)]
        )
        if isinstance(content, Hash | str):
            parsed = content if isinstance(content, Hash) else Hash.parse(content)
            pdq: EntryInput | None = EntryInput(hash=parsed.hex, **meta)
        else:
            luma = (
                content if isinstance(content, Luma) else decode_luma(content, limits=banks.limits)
            )
            pdq = banks.image_entry(luma, True, **meta)
            if pdq.quality is not None and pdq.quality < banks.min_quality:
                pdq = None
        if pdq is not None:
            items.append(pdq)
        added = banks.add(name, items, added_by=added_by) if items else []
        return added[-1] if pdq is not None else None

    # -- human removals (the workflow's decisions, inside their transaction) ------------------

    def add_removed(self, conn: Connection, entry: RemovedContent) -> None:
        """A removal was decided: bank the exact SHA-256, and the PDQ hash when known."""
        bank = self.banks.repository.ensure_bank_in(
            conn, stay_down_bank(REMOVED_CONTENT, BankKind.REMOVED_CONTENT), entry.at
        )
        signals = [(entry.sha256, SignalType.SHA256)]
        if entry.pdq:
            signals.append((entry.pdq, SignalType.PDQ))
        items = [
            check_entry_input(
                EntryInput(
                    hash=value,
                    signal_type=kind,
                    source="decision:removal",
                    labels=(entry.category,),
                    case_id=entry.case_id,
                    decision_id=entry.decision_id,
                )
            )
            for value, kind in signals
        ]
        self.banks.repository.insert_entries(conn, bank, items, check_actor("workflow"), entry.at)

    def lift(self, conn: Connection, entry: RemovedContent) -> None:
        """The removal was reversed on appeal: unbank both signals (disabled, never deleted)."""
        self._disable(
            conn, [entry.decision_id], entry.at, case_id=entry.case_id, names=(REMOVED_CONTENT,)
        )

    def release(self, conn: Connection, decision_ids: Sequence[str], at: datetime) -> int:
        """A reviewer found no violation in a case: lift the automatic blocks that the guard
        banked for those of its decisions (``decision_ids``). Returns how many entries."""
        return len(self._disable(conn, decision_ids, at))

    def _disable(
        self,
        conn: Connection,
        decision_ids: Sequence[str],
        at: datetime,
        *,
        case_id: str | None = None,
        names: Sequence[str] = STAY_DOWN_BANKS,
    ) -> list[int]:
        disabled: list[int] = []
        for name in names:
            bank = self.banks.repository.bank_in(conn, name)
            if bank is None:
                continue
            for decision_id in decision_ids:
                disabled += self.banks.repository.disable_decision_entries(
                    conn, bank, decision_id, at, case_id=case_id
                )
        return disabled

    # -- lookups ------------------------------------------------------------------------------

    def lookup(self, conn: Connection, sha256: str) -> dict[str, Any] | None:
        """Is this exact content removed or blocked (and not lifted)? The oldest entry, with
        its decision, the removed item (None for an automatic block) and the category."""
        return self.banks.repository.exact_in(conn, STAY_DOWN_BANKS, sha256)

    def find_copies(self, conn: Connection, entry: RemovedContent) -> list[Copy]:
        """Other known items that are copies of the removed one (TAKE IT DOWN: "known
        identical copies"): the same bytes, or a PDQ within ``copy_distance``."""
        found = {
            i.id: Copy(i.id)
            for i in item_repo.by_sha256(conn, entry.sha256)
            if i.id != entry.item_id
        }
        if entry.pdq:
            for copy in self._near(conn, entry):
                found.setdefault(copy.item_id, copy)
        return sorted(found.values(), key=lambda c: (c.basis != "sha256", c.distance, c.item_id))

    def _near(self, conn: Connection, entry: RemovedContent) -> list[Copy]:
        """Known items whose PDQ is within ``copy_distance`` (a vectorised scan in pages)."""
        assert entry.pdq is not None
        query = np.frombuffer(bytes.fromhex(entry.pdq), dtype=np.uint64)
        out: list[Copy] = []
        after = ""
        while True:
            page = item_repo.pdq_page(conn, after, SCAN_PAGE)
            if not page:
                return out
            codes = np.frombuffer(b"".join(bytes.fromhex(h) for _, h in page), dtype=np.uint64)
            distances = np.bitwise_count(codes.reshape(-1, 4) ^ query).sum(axis=1)
            for row in np.flatnonzero(distances <= self.copy_distance).tolist():
                item_id = page[row][0]
                if item_id != entry.item_id:
                    out.append(Copy(item_id, "pdq", int(distances[row])))
            after = page[-1][0]

    def after_commit(self) -> None:
        """Make this process match (or stop matching) what a committed decision banked."""
        self.banks.refresh()
