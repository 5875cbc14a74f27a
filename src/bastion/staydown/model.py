"""What stay-down records: a removed item and the copies a removal sweeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Two items whose PDQ hashes are this close show the same picture (re-encoded, resized):
# the TAKE IT DOWN sweep removes them as copies. Tighter than the upload-matching distance
# (31) because it removes other people's content without a notice about it.
COPY_DISTANCE = 12


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
