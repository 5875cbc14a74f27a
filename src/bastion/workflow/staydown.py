"""Stay-down: what was removed stays down.

:class:`StayDown` is the seam between the workflow and the hash banks. The workflow calls it
inside the decision's transaction (``conn``), so a failure rolls the whole decision back:

* ``add_removed(conn, entry)`` — a removal was decided: bank the item's hashes;
* ``lift(conn, entry)`` — the removal was reversed on appeal: unbank them;
* ``find_copies(conn, entry)`` — other known items that are copies of the removed one
  (TAKE IT DOWN: "known identical copies"), each with the basis of the match;
* ``lookup(conn, sha256)`` — is this exact content removed? (for upload scanning).

:class:`SqlStayDown` keeps exact SHA-256 identity in the ``wf_stay_down`` table and works
without hash banks. :class:`BankStayDown` (what ``Guard.workflow`` uses) wraps it and adds
the item's PDQ hash to the ``removed_content`` bank, so re-encoded, resized or slightly cropped
re-uploads are blocked by ``guard.scan_upload``; a reversal disables that entry (never deletes
it), and the TAKE IT DOWN sweep also finds known items whose PDQ is within ``copy_distance``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from sqlalchemy import Connection

from bastion.policy.model import new_id
from bastion.storage.workflow import items as item_repo

if TYPE_CHECKING:
    from bastion.hashing.banks import BankService
    from bastion.settings import Settings
    from bastion.storage.db import Database

# Two items whose PDQ hashes are this close show the same picture (re-encoded, resized):
# the TAKE IT DOWN sweep removes them as copies. Tighter than the upload-matching distance
# (31) because it removes other people's content without a notice about it.
COPY_DISTANCE = 12
SCAN_PAGE = 50_000


@dataclass(frozen=True, slots=True)
class RemovedContent:
    item_id: str
    decision_id: str
    sha256: str
    category: str
    at: datetime
    pdq: str | None = None
    case_id: str | None = None


@dataclass(frozen=True, slots=True)
class Copy:
    """A known item that is a copy of a removed one: ``sha256`` (the same bytes) or ``pdq``
    (the same picture: perceptual hashes ``distance`` bits apart)."""

    item_id: str
    basis: str = "sha256"
    distance: int = 0


class StayDown(Protocol):
    def add_removed(self, conn: Connection, entry: RemovedContent) -> None: ...

    def lift(self, conn: Connection, entry: RemovedContent) -> None: ...

    def find_copies(self, conn: Connection, entry: RemovedContent) -> list[Copy]: ...

    def lookup(self, conn: Connection, sha256: str) -> dict[str, Any] | None: ...


class SqlStayDown:
    """Exact-copy stay-down in Bastion's own database (works without hash banks)."""

    def add_removed(self, conn: Connection, entry: RemovedContent) -> None:
        item_repo.add_removed(
            conn,
            {
                "id": new_id(),
                "sha256": entry.sha256,
                "pdq": entry.pdq,
                "item_id": entry.item_id,
                "decision_id": entry.decision_id,
                "category": entry.category,
                "added_at": entry.at,
            },
        )

    def lift(self, conn: Connection, entry: RemovedContent) -> None:
        item_repo.lift_removed(conn, entry.decision_id, entry.at)

    def find_copies(self, conn: Connection, entry: RemovedContent) -> list[Copy]:
        return [
            Copy(i.id) for i in item_repo.by_sha256(conn, entry.sha256) if i.id != entry.item_id
        ]

    def lookup(self, conn: Connection, sha256: str) -> dict[str, Any] | None:
        return item_repo.removed_entry(conn, sha256)


class BankStayDown:
    """Stay-down backed by the hash banks: the SHA-256 records of :class:`SqlStayDown`, plus
    the item's PDQ hash in the ``removed_content`` bank, in the decision's transaction."""

    def __init__(
        self,
        banks: BankService,
        *,
        exact: SqlStayDown | None = None,
        copy_distance: int = COPY_DISTANCE,
    ) -> None:
        self.banks = banks
        self.exact = exact or SqlStayDown()
        self.copy_distance = copy_distance

    def add_removed(self, conn: Connection, entry: RemovedContent) -> None:
        self.exact.add_removed(conn, entry)
        if entry.pdq:
            self.banks.add_removed_in(
                conn,
                entry.pdq,
                decision_id=entry.decision_id,
                case_id=entry.case_id,
                labels=(entry.category,),
            )

    def lift(self, conn: Connection, entry: RemovedContent) -> None:
        self.exact.lift(conn, entry)
        self.banks.lift_removed_in(conn, entry.decision_id, case_id=entry.case_id)

    def find_copies(self, conn: Connection, entry: RemovedContent) -> list[Copy]:
        found = {c.item_id: c for c in self.exact.find_copies(conn, entry)}
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

    def lookup(self, conn: Connection, sha256: str) -> dict[str, Any] | None:
        return self.exact.lookup(conn, sha256)

    def after_commit(self) -> None:
        """Make this process match (or stop matching) what the committed decision banked."""
        self.banks.refresh()


def bank_stay_down(db: Database, settings: Settings) -> BankStayDown:
    """A bank-backed stay-down for processes without a Guard (the CLI)."""
    from bastion.hashing.banks import BankService

    banks = BankService(
        db,
        min_quality=settings.hash_min_quality,
        sync_interval_s=settings.bank_sync_interval_ms / 1000,
    )
    return BankStayDown(banks)
