"""What a Guard is made of, and the effect contract: built by :mod:`bastion.composition`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bastion.detectors.base import Detector
    from bastion.detectors.context import DetectorContext
    from bastion.detectors.runner import Item
    from bastion.hashing.banks import BankService
    from bastion.policy.model import Decision
    from bastion.policy.rules import Policy
    from bastion.settings import Settings
    from bastion.storage.db import Database


class Effect(Protocol):
    """Something done after a decision is stored (bank a hash, open a case).

    An effect gets its dependencies when it is built and must not change the decision. If it
    raises, the check raises: the caller sees an error instead of a decision whose
    consequences silently did not happen.
    """

    name: str

    def after(self, decision: Decision, items: Sequence[Item]) -> None: ...


@dataclass
class Components:
    """Everything a Guard uses, built once per process by the composition root."""

    settings: Settings
    db: Database
    policy: Policy
    detectors: Sequence[Detector]
    secret: bytes
    banks: BankService
    context: DetectorContext
    # Every label any registered detector can emit (enabled or not): the policy's vocabulary.
    known_labels: frozenset[str] = frozenset()
    effects: Sequence[Effect] = ()
