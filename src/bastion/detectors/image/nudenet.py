"""NudeNet 320n: body-region detection (exposed and covered), run once per image.

The model (``nudenet/320n.onnx``, MIT, shipped in the ``nudenet`` wheel) is a YOLOv8-style
detector over a 320×320 RGB input: the image is padded at the right/bottom to a square, scaled,
and every one of the 2,100 anchor rows carries a box and 18 class scores. Rows under
``MIN_SCORE`` are dropped and overlapping boxes suppressed (class-agnostic), as the package's
own reference code does. The result is cached on the :class:`~bastion.content.Image`, so the
exposure and face detectors share one inference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bastion.content import Image
from bastion.detectors.image.runtime import MODELS, model_file

PACKAGE = "nudenet"
MODEL = "nudenet/320n.onnx"
INPUT_SIDE = 320
MIN_SCORE = 0.25
NMS_IOU = 0.45

# Output columns 4.. in the model's order, as lower_snake names (storage keys).
CLASSES: tuple[str, ...] = (
    "female_genitalia_covered",
    "face_female",
    "buttocks_exposed",
    "female_breast_exposed",
    "female_genitalia_exposed",
    "male_breast_exposed",
    "anus_exposed",
    "feet_exposed",
    "belly_covered",
    "feet_covered",
    "armpits_covered",
    "armpits_exposed",
    "face_male",
    "belly_exposed",
    "male_genitalia_exposed",
    "anus_covered",
    "female_breast_covered",
    "buttocks_covered",
)


@dataclass(frozen=True, slots=True)
class Region:
    """One detected body region; ``box`` is (x, y, w, h) in analysis-image pixels."""

    cls: str
    score: float
    box: tuple[float, float, float, float]

    def to_evidence(self, scale: float) -> dict[str, Any]:
        """JSON evidence with the box in original-image pixels."""
        return {
            "class": self.cls,
            "score": round(self.score, 4),
            "box": [round(v / scale) for v in self.box],
        }


def session(path: Path | None, threads: int) -> Any:
    return MODELS.session(model_file(path, PACKAGE, MODEL), threads)


def regions(image: Image, onnx: Any) -> tuple[Region, ...]:
    """Every region NudeNet finds in ``image`` (computed once per image and model)."""
    return image.cached(f"nudenet:{id(onnx)}", lambda: _detect(image, onnx))


def model_input(image: Image) -> tuple[NDArray[np.float32], int]:
    """The padded, scaled NCHW input and the padded square's side (cached per image)."""
    return image.cached("nudenet_input", lambda: _prepare(image.decoded().rgb))


def _prepare(rgb: NDArray[np.uint8]) -> tuple[NDArray[np.float32], int]:
    import cv2

    height, width = rgb.shape[:2]
    side = max(height, width)
    square = np.zeros((side, side, 3), dtype=np.uint8)
    square[:height, :width] = rgb
    scaled = cv2.resize(square, (INPUT_SIDE, INPUT_SIDE), interpolation=cv2.INTER_LINEAR)
    blob = (scaled.astype(np.float32) * np.float32(1 / 255.0)).transpose(2, 0, 1)[None]
    return np.ascontiguousarray(blob), side


def _detect(image: Image, onnx: Any) -> tuple[Region, ...]:
    blob, side = model_input(image)
    (output,) = onnx.run(None, {onnx.get_inputs()[0].name: blob})
    return decode_output(np.asarray(output), side, image.decoded().rgb.shape[:2])


def decode_output(output: NDArray[Any], side: int, shape: tuple[int, ...]) -> tuple[Region, ...]:
    """Rows of (cx, cy, w, h, 18 scores) in model space → regions in image pixels."""
    import cv2

    rows = np.asarray(output, dtype=np.float32).reshape(4 + len(CLASSES), -1).T
    scores = rows[:, 4:]
    best = scores.argmax(axis=1)
    top = scores[np.arange(len(rows)), best]
    keep = top >= MIN_SCORE
    if not keep.any():
        return ()
    rows, best, top = rows[keep], best[keep], top[keep]
    height, width = shape[0], shape[1]
    factor = side / INPUT_SIDE
    x = np.clip((rows[:, 0] - rows[:, 2] / 2) * factor, 0, width)
    y = np.clip((rows[:, 1] - rows[:, 3] / 2) * factor, 0, height)
    w = np.minimum(rows[:, 2] * factor, width - x)
    h = np.minimum(rows[:, 3] * factor, height - y)
    boxes = [
        [float(a), float(b), float(c), float(d)] for a, b, c, d in zip(x, y, w, h, strict=True)
    ]
    kept = cv2.dnn.NMSBoxes(boxes, [float(s) for s in top], MIN_SCORE, NMS_IOU)
    found = [
        Region(
            CLASSES[int(best[i])],
            float(top[i]),
            (boxes[i][0], boxes[i][1], boxes[i][2], boxes[i][3]),
        )
        for i in np.asarray(kept, dtype=int).reshape(-1)
    ]
    return tuple(sorted(found, key=lambda r: -r.score))
