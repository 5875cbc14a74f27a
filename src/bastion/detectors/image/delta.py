"""The edit-delta: does an output show more of a real person's body than the photo it came from?

Not a detector of its own: a derived finding computed from two sets of findings, the input
photos' (kept on the stored generation decision) and the output's (just detected). It is only
derived when an input photo showed a face, i.e. a real person was edited. The output *adds
exposure* when a counted body region is present in it (NudeNet score ≥ ``min_region_score``)
and scores at least ``region_margin`` more than in any input photo (absent = 0), or when its
whole-image ``nsfw_score`` exceeds the inputs' by at least ``nsfw_margin``. The margins keep
a region that was already half-visible in the photo from flipping the verdict on a restyle.
A neutral prompt ("summer version", "make the outfit smaller") therefore does not help: the
pixels are compared, not the words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bastion.detectors.image.exposure import GROUP_OF, GROUPS
from bastion.findings import SUBJECT_OUTPUT, Finding
from bastion.policy.model import Decision

DETECTOR = "edit_delta"
LABEL = "exposure_increase"
# Regions whose appearance makes an edit more revealing. Feet, armpits and covered
# belly/feet/armpits are left out: adding them is what ordinary outfit edits do.
COUNTED: frozenset[str] = (
    GROUPS["exposure_explicit"]
    | GROUPS["exposure_suggestive"]
    | frozenset({"belly_exposed", "male_breast_exposed"})
)


@dataclass(frozen=True, slots=True)
class DeltaConfig:
    nsfw_margin: float = 0.3
    min_region_score: float = 0.45
    region_margin: float = 0.25
    face_min_score: float = 0.5


def is_input(subject: str) -> bool:
    return subject.startswith("input_image:")


def _regions(
    findings: Sequence[Finding], wanted: Callable[[str], bool]
) -> dict[str, tuple[float, str]]:
    """Strongest score (and its subject) of every body-region class in matching findings."""
    best: dict[str, tuple[float, str]] = {}
    for finding in findings:
        if finding.label not in GROUPS or not wanted(finding.subject):
            continue
        for region in finding.evidence.get("regions", ()):
            if not isinstance(region, Mapping) or region.get("class") not in GROUP_OF:
                continue
            score = float(region.get("score", 0.0))
            if score > best.get(region["class"], (-1.0, ""))[0]:
                best[str(region["class"])] = (score, finding.subject)
    return best


def _nsfw(findings: Sequence[Finding], wanted: Callable[[str], bool]) -> float | None:
    scores = [f.score for f in findings if f.label == "nsfw_score" and wanted(f.subject)]
    return max(scores) if scores else None


def exposure_delta(
    request: Decision, output: Sequence[Finding], config: DeltaConfig
) -> list[Finding]:
    """The ``exposure_increase`` finding for ``output`` against ``request``, or nothing."""
    faces = [
        f
        for f in request.findings
        if f.label == "face" and is_input(f.subject) and f.score >= config.face_min_score
    ]
    if not faces:
        return []
    before = _regions(request.findings, is_input)
    after = _regions(output, lambda s: s == SUBJECT_OUTPUT)
    added = sorted(
        (
            (cls, score, before.get(cls, (0.0, ""))[0])
            for cls, (score, _) in after.items()
            if cls in COUNTED
            and score >= config.min_region_score
            and score - before.get(cls, (0.0, ""))[0] >= config.region_margin
        ),
        key=lambda entry: -entry[1],
    )
    nsfw_in = _nsfw(request.findings, is_input)
    nsfw_out = _nsfw(output, lambda s: s == SUBJECT_OUTPUT)
    rise = nsfw_out is not None and nsfw_out - (nsfw_in or 0.0) >= config.nsfw_margin
    if not added and not rise:
        return []
    score = max([s for _, s, _ in added] + ([nsfw_out] if rise and nsfw_out is not None else []))
    evidence: dict[str, Any] = {
        "request_id": request.id,
        "input": {
            "faces": [{"subject": f.subject, "score": round(f.score, 4)} for f in faces],
            "regions": {c: round(s, 4) for c, (s, _) in sorted(before.items())},
            "nsfw_score": None if nsfw_in is None else round(nsfw_in, 4),
        },
        "output": {
            "regions": {c: round(s, 4) for c, (s, _) in sorted(after.items())},
            "nsfw_score": None if nsfw_out is None else round(nsfw_out, 4),
        },
        "added_regions": [
            {"class": c, "output_score": round(s, 4), "input_score": round(i, 4)}
            for c, s, i in added
        ],
        "nsfw_rise": rise,
        "nsfw_margin": config.nsfw_margin,
        "min_region_score": config.min_region_score,
        "region_margin": config.region_margin,
    }
    return [
        Finding(
            detector=DETECTOR,
            label=LABEL,
            score=score,
            subject=SUBJECT_OUTPUT,
            evidence=evidence,
            explanation=_explain(faces, before, added, nsfw_in, nsfw_out, rise, config),
        )
    ]


def _explain(
    faces: Sequence[Finding],
    before: Mapping[str, tuple[float, str]],
    added: Sequence[tuple[str, float, float]],
    nsfw_in: float | None,
    nsfw_out: float | None,
    rise: bool,
    config: DeltaConfig,
) -> str:
    face = max(faces, key=lambda f: f.score)
    parts = []
    if added:
        shown = ", ".join(f"{c} {s:.2f}" for c, s, _ in added[:4])
        counted = sorted(c for c in before if c in COUNTED and before[c][0] >= 0.25)
        had = ", ".join(f"{c} {before[c][0]:.2f}" for c in counted) or "none"
        parts.append(f"the output shows {shown}; the input's intimate regions: {had}")
    if rise:
        parts.append(
            f"nsfw_score rose from {0.0 if nsfw_in is None else nsfw_in:.2f} (input) to "
            f"{nsfw_out or 0.0:.2f} (output), margin {config.nsfw_margin:.2f}"
        )
    return f"edit of a real person ({face.subject}, face {face.score:.2f}): " + "; ".join(parts)
