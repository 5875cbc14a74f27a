"""``image_exposure``: NudeNet 320n body regions grouped into policy labels.

Every class NudeNet reports (at score ≥ 0.25) goes into the evidence with its box and score, in
original-image pixels; the finding's score is the strongest region of its group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from bastion.detectors.base import DetectorConfig
from bastion.detectors.image import nudenet
from bastion.detectors.image.common import ImageDetector, ModelConfig, image_evidence
from bastion.findings import Finding

# Label → the NudeNet classes it groups. Face classes belong to the face detector.
GROUPS: dict[str, frozenset[str]] = {
    "exposure_explicit": frozenset(
        {
            "female_genitalia_exposed",
            "male_genitalia_exposed",
            "anus_exposed",
            "female_breast_exposed",
            "buttocks_exposed",
        }
    ),
    "exposure_suggestive": frozenset(
        {
            "female_genitalia_covered",
            "female_breast_covered",
            "buttocks_covered",
            "anus_covered",
        }
    ),
    "exposure_partial": frozenset(
        {"belly_exposed", "male_breast_exposed", "armpits_exposed", "feet_exposed"}
    ),
    "body_covered": frozenset({"belly_covered", "feet_covered", "armpits_covered"}),
}
GROUP_OF = {cls: label for label, classes in GROUPS.items() for cls in classes}
WORDS = {
    "exposure_explicit": "explicit nudity",
    "exposure_suggestive": "covered intimate regions",
    "exposure_partial": "exposed skin",
    "body_covered": "covered body regions",
}


class ExposureDetector(ImageDetector):
    name: ClassVar[str] = "image_exposure"
    labels: ClassVar[frozenset[str]] = frozenset(GROUPS)
    Config: ClassVar[type[DetectorConfig]] = ModelConfig

    def load(self) -> Any:
        assert isinstance(self.config, ModelConfig)
        return nudenet.session(self.config.model_path, self.threads)

    def detect_frame(self, item: Any, *, subject: str) -> Sequence[Finding]:
        image = self.image_of(item, self.name)
        found = nudenet.regions(image, self.model())
        scale = image.decoded().scale
        findings = []
        for label, classes in GROUPS.items():
            group = [r for r in found if r.cls in classes]
            if not group:
                continue
            listed = "; ".join(f"{r.cls} {r.score:.2f}" for r in group[:6])
            more = f" and {len(group) - 6} more" if len(group) > 6 else ""
            findings.append(
                Finding(
                    detector=self.name,
                    label=label,
                    score=group[0].score,
                    subject=subject,
                    evidence={
                        "regions": [r.to_evidence(scale) for r in group],
                        "image": image_evidence(image),
                        "model": "nudenet-320n",
                    },
                    explanation=f"{WORDS[label]}: {listed}{more}",
                )
            )
        return findings
