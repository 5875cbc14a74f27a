"""Output marks: which decision each watermarked output belongs to (the only SQL for it).

An output id is reserved before the watermark is embedded (it is part of the payload) and
completed once the marked image exists; a failed marking releases its reservation.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bastion.clock import utc
from bastion.errors import Conflict
from bastion.storage.db import Database
from bastion.storage.tables import output_marks

_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class OutputMark:
    issuer: int
    output_id: str  # 8 hex digits
    decision_id: str | None
    created_at: datetime
    source_sha256: str
    media_type: str | None = None
    marked_sha256: str | None = None
    manifest: str | None = None
    signer: str | None = None
    development_signer: bool = False

    @property
    def complete(self) -> bool:
        return self.marked_sha256 is not None


def _mark(row: Row[tuple[object, ...]]) -> OutputMark:
    data = row._mapping
    return OutputMark(
        issuer=int(data["issuer"]),
        output_id=str(data["output_id"]),
        decision_id=data["decision_id"],
        created_at=utc(data["created_at"]),
        source_sha256=str(data["source_sha256"]),
        media_type=data["media_type"],
        marked_sha256=data["marked_sha256"],
        manifest=data["manifest"],
        signer=data["signer"],
        development_signer=bool(data["development_signer"]),
    )


class MarkRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def reserve(
        self, *, issuer: int, decision_id: str | None, source_sha256: str, now: datetime
    ) -> OutputMark:
        """A fresh random output id for ``issuer``, unique among all stored marks."""
        for _ in range(_ATTEMPTS):
            mark = OutputMark(
                issuer=issuer,
                output_id=f"{secrets.randbits(32):08x}",
                decision_id=decision_id,
                created_at=now,
                source_sha256=source_sha256,
            )
            try:
                with self.db.begin() as connection:
                    connection.execute(
                        insert(output_marks).values(
                            issuer=mark.issuer,
                            output_id=mark.output_id,
                            decision_id=mark.decision_id,
                            created_at=mark.created_at,
                            source_sha256=mark.source_sha256,
                            development_signer=False,
                        )
                    )
            except IntegrityError:
                continue
            return mark
        raise Conflict("could not allocate a free watermark output id; try again")

    def complete(
        self,
        mark: OutputMark,
        *,
        media_type: str,
        marked_sha256: str,
        manifest: str | None,
        signer: str | None,
        development_signer: bool,
    ) -> OutputMark:
        values = {
            "media_type": media_type,
            "marked_sha256": marked_sha256,
            "manifest": manifest,
            "signer": signer,
            "development_signer": development_signer,
        }
        with self.db.begin() as connection:
            connection.execute(
                update(output_marks)
                .where(
                    output_marks.c.issuer == mark.issuer,
                    output_marks.c.output_id == mark.output_id,
                )
                .values(**values)
            )
        return OutputMark(
            issuer=mark.issuer,
            output_id=mark.output_id,
            decision_id=mark.decision_id,
            created_at=mark.created_at,
            source_sha256=mark.source_sha256,
            media_type=media_type,
            marked_sha256=marked_sha256,
            manifest=manifest,
            signer=signer,
            development_signer=development_signer,
        )

    def release(self, mark: OutputMark) -> None:
        with self.db.begin() as connection:
            connection.execute(
                delete(output_marks).where(
                    output_marks.c.issuer == mark.issuer,
                    output_marks.c.output_id == mark.output_id,
                    output_marks.c.marked_sha256.is_(None),
                )
            )

    def get(self, issuer: int, output_id: str) -> OutputMark | None:
        """The completed mark with this issuer and output id, if any."""
        with self.db.connect() as connection:
            row = connection.execute(
                select(output_marks).where(
                    output_marks.c.issuer == issuer,
                    output_marks.c.output_id == output_id.lower(),
                    output_marks.c.marked_sha256.is_not(None),
                )
            ).one_or_none()
        return _mark(row) if row is not None else None

    def for_decision(self, decision_id: str) -> list[OutputMark]:
        with self.db.connect() as connection:
            rows = connection.execute(
                select(output_marks)
                .where(output_marks.c.decision_id == decision_id)
                .order_by(output_marks.c.created_at)
            ).all()
        return [_mark(row) for row in rows]
