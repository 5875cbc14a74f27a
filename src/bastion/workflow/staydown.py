"""Stay-down: what was removed stays down.

:class:`StayDown` is the seam between the workflow and the hash banks. The workflow calls it
inside the decision's transaction (``conn``), so a failure rolls the whole decision back:

* ``add_removed(conn, entry)`` — a removal was decided: bank the item's hashes;
* ``lift(conn, entry)`` — the removal was reversed on appeal: unbank them;
* ``find_copies(conn, entry)`` — ids of other known items that are copies of the removed one
  (TAKE IT DOWN: "known identical copies");
* ``lookup(conn, sha256)`` — is this exact content removed? (for upload scanning).

:class:`SqlStayDown` is the built-in implementation: exact SHA-256 identity, kept in the
``wf_stay_down`` table. A bank-backed implementation (PDQ near-duplicates in the
``removed_content`` bank) can wrap it and add perceptual matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection

from bastion.policy.model import new_id
from bastion.storage.workflow import items as item_repo


@dataclass(frozen=True, slots=True)
class RemovedContent:
    item_id: str
    decision_id: str
    sha256: str
    category: str
    at: datetime
    pdq: str | None = None


class StayDown(Protocol):
    def add_removed(self, conn: Connection, entry: RemovedContent) -> None: ...

    def lift(self, conn: Connection, entry: RemovedContent) -> None: ...

    def find_copies(self, conn: Connection, entry: RemovedContent) -> list[str]: ...

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

    def find_copies(self, conn: Connection, entry: RemovedContent) -> list[str]:
        return [i.id for i in item_repo.by_sha256(conn, entry.sha256) if i.id != entry.item_id]

    def lookup(self, conn: Connection, sha256: str) -> dict[str, Any] | None:
        return item_repo.removed_entry(conn, sha256)
