"""Fake image detectors for the positive (abuse) paths: they decide by an image's colour, so
the tests need no sexual imagery. ``exposure`` carries NudeNet-shaped region evidence, which
is what the edit-delta reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from bastion.content import Image
from bastion.detectors.base import Detector
from bastion.findings import Finding
from bastion.guard import Guard
from bastion.settings import Settings
from bastion.testing import make_registry

# Colours the fakes react to (benign, flat PNGs; see tests.images.flat).
GREY = (128, 128, 128)  # a photo of a real person, fully clothed
PINK = (255, 170, 180)  # "more exposure": belly and covered intimate regions
RED = (220, 0, 0)  # "explicit"
BLUE = (0, 0, 200)  # a scene without people
YELLOW = (240, 220, 0)  # a face under the apparent-age threshold


def colour(item: Any) -> tuple[int, int, int]:
    assert isinstance(item, Image)
    pixel = item.decoded().rgb[0, 0]
    return int(pixel[0]), int(pixel[1]), int(pixel[2])


def near(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return bool(np.abs(np.subtract(a, b)).max() < 20)


class FakeExposure(Detector):
    name: ClassVar[str] = "fake_exposure"
    accepts: ClassVar[type] = Image
    labels: ClassVar[frozenset[str]] = frozenset(
        {"exposure_explicit", "exposure_suggestive", "exposure_partial"}
    )

    def detect(self, item: Any, *, subject: str) -> Sequence[Finding]:
        regions: dict[str, list[tuple[str, float]]] = {}
        if near(colour(item), PINK):
            regions = {
                "exposure_suggestive": [("female_breast_covered", 0.71)],
                "exposure_partial": [("belly_exposed", 0.66)],
            }
        elif near(colour(item), RED):
            regions = {"exposure_explicit": [("female_breast_exposed", 0.88)]}
        elif near(colour(item), GREY):
            regions = {"exposure_partial": [("feet_exposed", 0.40)]}
        return [
            Finding(
                detector=self.name,
                label=label,
                score=max(s for _, s in found),
                subject=subject,
                evidence={
                    "regions": [{"class": c, "score": s, "box": [1, 2, 3, 4]} for c, s in found]
                },
                explanation=f"fake {label}",
            )
            for label, found in regions.items()
        ]


class FakeFaces(Detector):
    name: ClassVar[str] = "fake_faces"
    accepts: ClassVar[type] = Image
    labels: ClassVar[frozenset[str]] = frozenset({"face", "female_target"})

    def detect(self, item: Any, *, subject: str) -> Sequence[Finding]:
        if near(colour(item), BLUE):
            return []
        return [Finding(self.name, "face", 0.93, subject, {"count": 1}, "1 face(s)")]


class FakeAge(Detector):
    name: ClassVar[str] = "fake_age"
    accepts: ClassVar[type] = Image
    labels: ClassVar[frozenset[str]] = frozenset({"apparent_minor", "apparent_adult"})

    def detect(self, item: Any, *, subject: str) -> Sequence[Finding]:
        if near(colour(item), BLUE):
            return []
        if near(colour(item), YELLOW):
            return [Finding(self.name, "apparent_minor", 0.7, subject, {"estimate": 16.0}, "16")]
        return [Finding(self.name, "apparent_adult", 0.95, subject, {"estimate": 34.0}, "34")]


class FakeNsfw(Detector):
    name: ClassVar[str] = "fake_nsfw"
    accepts: ClassVar[type] = Image
    labels: ClassVar[frozenset[str]] = frozenset({"nsfw_score"})
    # colour → score; anything else scores 0.02
    scores: ClassVar[dict[tuple[int, int, int], float]] = {PINK: 0.2, RED: 0.93}

    def detect(self, item: Any, *, subject: str) -> Sequence[Finding]:
        score = next((s for c, s in self.scores.items() if near(colour(item), c)), 0.02)
        return [Finding(self.name, "nsfw_score", score, subject, {}, f"nsfw {score:.2f}")]


FAKES: tuple[type[Detector], ...] = (FakeExposure, FakeFaces, FakeAge, FakeNsfw)
PROMPT = ("prompt_lexicon", "prompt_language")


def fake_guard(settings: Settings, *extra: type[Detector], **overrides: Any) -> Guard:
    """A guard with the real prompt detectors and the fake image detectors (plus ``extra``)."""
    classes = (*FAKES, *extra)
    chosen = settings.model_copy(
        update={"detectors": [*PROMPT, *(c.name for c in classes)], **overrides}
    )
    return Guard.from_settings(chosen, registry=make_registry(*classes, with_builtins=True))
