"""Output pairings: which output (by SHA-256) was checked against which generation request.

A pairing is *claimed* before the output check runs, by inserting its row: the primary key
(request_id, output_sha256) makes a second pairing of the same output collide in the
database, so an output is paired with its request once, however many clients race.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from bastion.storage.db import Database
from bastion.storage.tables import output_pairings as table


@dataclass(frozen=True, slots=True)
class Pairing:
    request_id: str
    output_sha256: str
    decision_id: str
    principal: str | None
    created_at: datetime


class PairingRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def claim(self, pairing: Pairing, *, max_outputs: int) -> Pairing | None:
        """Record the pairing (None), or return the one that already holds this output.

        Raises ``LookupError`` when the request already has ``max_outputs`` outputs."""
        with self.db.begin() as conn:
            count = conn.execute(
                select(func.count()).where(table.c.request_id == pairing.request_id)
            ).scalar_one()
            if count >= max_outputs:
                raise LookupError(pairing.request_id)
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(table).values(
                            request_id=pairing.request_id,
                            output_sha256=pairing.output_sha256,
                            decision_id=pairing.decision_id,
                            principal=pairing.principal,
                            created_at=pairing.created_at,
                        )
                    )
            except IntegrityError:
                row = conn.execute(
                    select(table).where(
                        table.c.request_id == pairing.request_id,
                        table.c.output_sha256 == pairing.output_sha256,
                    )
                ).one()
                return Pairing(
                    row.request_id,
                    row.output_sha256,
                    row.decision_id,
                    row.principal,
                    row.created_at,
                )
        return None

    def release(self, pairing: Pairing) -> None:
        """Undo a claim whose check raised before it reached a decision."""
        with self.db.begin() as conn:
            conn.execute(
                delete(table).where(
                    table.c.request_id == pairing.request_id,
                    table.c.output_sha256 == pairing.output_sha256,
                    table.c.decision_id == pairing.decision_id,
                )
            )
