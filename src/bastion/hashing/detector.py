"""The ``hash_match`` detector: the image's PDQ hash and every bank it matches, as findings.

It reports ``pdq_hash`` (score 1.0; the hash and its quality, so a decision records which
image it was about without keeping the image) and one ``hash_match`` per matching bank entry,
with the bank, its kind, the distance and the entry's metadata as evidence. Rules in the
policy decide what a match means (``bank_kind``: csam and ncii block, …).

Every screened frame of an animated image is hashed and matched (a match's evidence names its
``frame``); ``pdq_hash`` describes the first frame.

It needs the process's banks (``DetectorContext``, given to :meth:`bind`). Unbound, it
raises, and the
guard fails closed. It is not ready while its bank index has not caught up with the database
for longer than ``bank_max_staleness_ms`` (a replica matching against an old snapshot would
miss hashes banked elsewhere).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from bastion.content import Image
from bastion.detectors.base import Detector
from bastion.findings import Finding

if TYPE_CHECKING:
    from bastion.detectors.context import DetectorContext
    from bastion.hashing.banks import BankService

log = logging.getLogger("bastion.hashing")

HASH_MATCH = "hash_match"
PDQ_HASH = "pdq_hash"
# Emitted by bastion.workflow.detector (an exact copy of removed content); named here so the
# stay-down effect can read it without depending on the workflow.
REMOVED_IDENTICAL = "removed_identical"


class HashMatchDetector(Detector):
    name: ClassVar[str] = "hash_match"
    accepts: ClassVar[type] = Image
    labels: ClassVar[frozenset[str]] = frozenset({HASH_MATCH, PDQ_HASH})
    # Hashes its own luma decode (reference-compatible: no EXIF turn, reduced JPEG decode),
    # never Image.decoded(): an upload scan with no other image detector skips that decode.
    reads_pixels: ClassVar[bool] = False

    banks: BankService | None = None
    max_staleness_s: float = 60.0

    def bind(self, context: DetectorContext) -> None:
        self.banks = context.banks
        self.max_staleness_s = context.settings.bank_max_staleness_ms / 1000

    def warm_up(self) -> None:
        if self.banks is not None:
            self.banks.matcher.ensure_current()  # load once; the refresher keeps it fresh

    def ready(self) -> Sequence[str]:
        if self.banks is None:
            return ["no banks bound"]
        matcher = self.banks.matcher
        try:
            matcher.ensure_current()  # the refresher applies the feed; interval 0: here
        except Exception as exc:  # judged by the staleness below; the database check says why
            log.warning("bank index refresh failed: %s", exc)
        age = matcher.staleness_s
        if age is None:
            return ["the bank index has not been loaded"]
        if age > self.max_staleness_s:
            why = f"; last refresh error: {matcher.last_error}" if matcher.last_error else ""
            return [
                f"the bank index last caught up {age:.0f} s ago "
                f"(bank_max_staleness_ms allows {self.max_staleness_s:g} s){why}"
            ]
        return ()

    def detect(self, item: Any, *, subject: str) -> Sequence[Finding]:
        if self.banks is None:
            raise RuntimeError("the hash_match detector has no banks bound")
        banks = self.banks
        found = banks.lookup_image(item)
        low = found.quality is not None and found.quality < banks.min_quality
        evidence: dict[str, Any] = {
            "signal_type": "pdq",
            "hash": found.hash,
            "quality": found.quality,
        }
        frames = len(item.frames())
        if frames > 1:
            evidence["frames_screened"] = frames
        if found.suppressed:
            evidence["suppressed"] = [m.to_dict() for m in found.suppressed]
        note = " (quality below the matching threshold; not matched)" if low else ""
        findings = [
            Finding(
                detector=self.name,
                label=PDQ_HASH,
                score=1.0,
                subject=subject,
                evidence=evidence,
                explanation=f"PDQ hash {str(found.hash)[:16]}… quality {found.quality}{note}",
            )
        ]
        for match in found.matches:
            mirrored = "" if match.query_variant == "original" else f", {match.query_variant}"
            where = f" (frame {match.extra['frame']})" if "frame" in match.extra else ""
            findings.append(
                Finding(
                    detector=self.name,
                    label=HASH_MATCH,
                    score=max(0.5, 1.0 - match.distance / 64),
                    subject=subject,
                    evidence=match.to_dict(),
                    explanation=(
                        f"matches entry {match.entry.id} of bank {match.bank.name} "
                        f"({match.bank.kind.value}) at distance {match.distance}{mirrored}"
                        f"{where}"
                    ),
                )
            )
        return findings
