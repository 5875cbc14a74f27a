"""The ``removed_content`` detector: is this image byte-identical to content a decision removed?

Removals and automatic blocks keep the item's SHA-256 in the stay-down banks (a ``sha256``
entry, see :mod:`bastion.staydown`); this detector looks every checked image up there and emits
``removed_identical`` (score 1.0) with the removing decision, the item and the category as
evidence. It catches exact re-uploads even when no PDQ hash of the item is known or the image
is too flat for PDQ; near-duplicates are the ``hash_match`` detector's ``removed_content``
bank matches. The policy decides what a finding means (default: ``removed_content_identical``
blocks).

It needs the process's banks (``DetectorContext``, given to :meth:`bind`). Unbound, it
raises, and the guard fails closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from bastion.content import Image
from bastion.detectors.base import Detector
from bastion.findings import Finding
from bastion.hashing.detector import REMOVED_IDENTICAL
from bastion.staydown import StayDown

if TYPE_CHECKING:
    from bastion.detectors.context import DetectorContext

__all__ = ["REMOVED_IDENTICAL", "RemovedContentDetector"]


class RemovedContentDetector(Detector):
    name: ClassVar[str] = "removed_content"
    accepts: ClassVar[type] = Image
    labels: ClassVar[frozenset[str]] = frozenset({REMOVED_IDENTICAL})
    reads_pixels: ClassVar[bool] = False  # the SHA-256 of the bytes is enough

    stay_down: StayDown | None = None

    def bind(self, context: DetectorContext) -> None:
        self.stay_down = StayDown(context.banks)

    def detect(self, item: Any, *, subject: str) -> Sequence[Finding]:
        if self.stay_down is None:
            raise RuntimeError("the removed_content detector has no banks bound")
        with self.stay_down.banks.repository.db.connect() as conn:
            removed = self.stay_down.lookup(conn, item.sha256)
        if removed is None:
            return []
        added = removed.get("added_at")
        evidence = {
            "sha256": item.sha256,
            "decision_id": removed["decision_id"],
            "item_id": removed["item_id"],
            "category": removed["category"],
            "removed_at": added.isoformat() if isinstance(added, datetime) else added,
        }
        return [
            Finding(
                detector=self.name,
                label=REMOVED_IDENTICAL,
                score=1.0,
                subject=subject,
                evidence=evidence,
                explanation=(
                    f"identical (same SHA-256) to content removed by decision "
                    f"{removed['decision_id']}"
                ),
            )
        ]
