"""The Finding: the only thing a detector returns.

One documented scale: ``score`` is a probability-like confidence in ``[0, 1]`` that the
``label`` applies to the ``subject``. ``evidence`` holds JSON-compatible details (matched
terms, boxes, estimates); ``explanation`` says in one sentence why, for people.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# Subjects name what a finding is about; they are storage keys.
SUBJECT_PROMPT = "prompt"
SUBJECT_OUTPUT = "output"
SUBJECT_UPLOAD = "upload"


# The label the runner gives a detector that failed or timed out. It says that something went
# wrong, never anything about the content (see ``Reason.about_content``).
DETECTOR_ERROR = "detector_error"


def input_image_subject(index: int) -> str:
    return f"input_image:{index}"


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Turn frozen evidence back into plain JSON-compatible dicts and lists."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Finding:
    detector: str
    label: str
    score: float
    subject: str = SUBJECT_PROMPT
    evidence: Mapping[str, Any] = field(default_factory=dict)
    explanation: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.score, int | float) or math.isnan(self.score):
            raise ValueError(f"finding score must be a number, got {self.score!r}")
        if not 0.0 <= float(self.score) <= 1.0:
            raise ValueError(f"finding score must be within [0, 1], got {self.score}")
        if not self.detector or not self.label:
            raise ValueError("finding needs a detector and a label")
        # Six decimals: enough for any threshold, and exact through JSON storage.
        object.__setattr__(self, "score", round(float(self.score), 6))
        object.__setattr__(self, "evidence", _freeze(self.evidence))

    def to_dict(self) -> dict[str, Any]:
        return {
            "detector": self.detector,
            "label": self.label,
            "score": self.score,
            "subject": self.subject,
            "evidence": thaw(self.evidence),
            "explanation": self.explanation,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            detector=str(data["detector"]),
            label=str(data["label"]),
            score=float(data["score"]),
            subject=str(data.get("subject", SUBJECT_PROMPT)),
            evidence=data.get("evidence") or {},
            explanation=str(data.get("explanation", "")),
        )
