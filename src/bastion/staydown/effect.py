"""The guard's stay-down effect: banks the images of blocked outputs and uploads (hashes only).

Runs after every decision (``Components.effects``), through the one stay-down service
(:class:`bastion.staydown.StayDown`). For a blocked decision on the output
surface it adds each image to ``blocked_generations``; on the upload surface to
``removed_content`` — unless the upload already matched a bank entry almost exactly, so
repeated re-uploads of one image do not flood the bank, or matched stay-down content at all
(a blocked copy of removed content is not banked again: its entry would outlive the removal's
reversal on appeal). Each entry carries the decision id and the rules that fired; a reviewer
who finds no violation in the case lifts it (:meth:`StayDown.release`). Removals decided
later (notices, reviews) are recorded by the same service in the decision's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bastion.content import Image
from bastion.detectors.runner import Item
from bastion.errors import InvalidInput
from bastion.hashing.decode import luma_of
from bastion.hashing.detector import HASH_MATCH, REMOVED_IDENTICAL
from bastion.hashing.model import BankKind
from bastion.policy.model import Action, Decision, Surface

if TYPE_CHECKING:
    from bastion.staydown.service import StayDown

log = logging.getLogger("bastion.hashing")

# An upload this close to a banked entry is the same image; banking it again adds nothing.
SAME_IMAGE_DISTANCE = 4


class StayDownEffect:
    name = "stay_down"

    def __init__(self, stay_down: StayDown) -> None:
        self.stay_down = stay_down

    def after(self, decision: Decision, items: Sequence[Item]) -> None:
        # Only a block about the content stays down: one that a detector failure alone
        # caused (an outage, a timeout) says nothing about the image and is never banked.
        if decision.content_action is not Action.BLOCK or decision.surface not in (
            Surface.OUTPUT,
            Surface.UPLOAD,
        ):
            return
        labels = [r.rule for r in decision.reasons if r.about_content]
        for item in items:
            if not isinstance(item.content, Image):
                continue
            if decision.surface is Surface.UPLOAD and _already_banked(decision, item.subject):
                continue
            try:
                self.stay_down.bank_block(
                    luma_of(item.content),
                    output=decision.surface is Surface.OUTPUT,
                    decision_id=decision.id,
                    labels=labels,
                    sha256=item.content.sha256,
                )
            except InvalidInput as exc:  # undecodable: nothing to hash, nothing to bank
                log.info("stay-down skipped %s of decision %s: %s", item.subject, decision.id, exc)


STAY_DOWN_KINDS = frozenset({BankKind.REMOVED_CONTENT.value, BankKind.BLOCKED_GENERATIONS.value})


def _already_banked(decision: Decision, subject: str) -> bool:
    """The upload is (nearly) a banked image, or a copy of stay-down content."""
    return any(
        f.subject == subject
        and (
            f.label == REMOVED_IDENTICAL
            or (
                f.label == HASH_MATCH
                and (
                    int(f.evidence.get("distance", 99)) <= SAME_IMAGE_DISTANCE
                    or f.evidence.get("bank_kind") in STAY_DOWN_KINDS
                )
            )
        )
        for f in decision.findings
    )
