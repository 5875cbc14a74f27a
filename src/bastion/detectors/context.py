"""What a detector may use of its process: a narrow context, given once before warm-up.

Detectors never see the Guard. The composition root (:mod:`bastion.composition`) builds one
context per process and every detector's :meth:`~bastion.detectors.base.Detector.bind`
receives it: the settings (model thread counts, limits), the database (the removed-content
list), the hash banks (lookups), the clock, and the provenance services, built on first use
(they load OpenCV and c2pa).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bastion.clock import Clock
    from bastion.hashing.banks import BankService
    from bastion.provenance.service import Provenance
    from bastion.settings import Settings
    from bastion.storage.db import Database


@dataclass(frozen=True)
class DetectorContext:
    settings: Settings
    db: Database
    banks: BankService
    clock: Clock
    provenance: Callable[[], Provenance]
