"""What every image detector shares: the content type, a model loaded once per process with the
configured thread count, every screened frame of an animated image, and evidence about the
image it looked at."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from bastion.content import Image
from bastion.detectors.base import Detector, DetectorConfig
from bastion.detectors.image.runtime import Loader
from bastion.findings import Finding
from bastion.settings import Settings

if TYPE_CHECKING:
    from bastion.detectors.context import DetectorContext


class ModelConfig(DetectorConfig):
    model_path: Path | None = Field(
        default=None,
        description="Use this model file instead of the one shipped in the package.",
    )


class ImageDetector(Detector):
    accepts: ClassVar[type] = Image

    def __init__(self, config: DetectorConfig | None = None) -> None:
        super().__init__(config)
        self.threads = 1
        self._loader: Loader[Any] = Loader(self.name, self.load)

    def bind(self, context: DetectorContext) -> None:
        self.configure(context.settings)

    def configure(self, settings: Settings) -> None:
        """Read process-wide settings (model thread counts, face sizes)."""
        self.threads = settings.onnx_threads

    def warm_up(self) -> None:
        self._loader.warm_up()

    def ready(self) -> Sequence[str]:
        return self._loader.problems()

    @abstractmethod
    def load(self) -> Any:
        """Load the model(s); raise ModelUnavailable when a file is missing or broken."""

    def detect(self, item: Any, *, subject: str) -> Sequence[Finding]:
        """:meth:`detect_frame` on every screened frame (the image itself when still); the
        findings about an animated image carry their ``frame`` in the evidence."""
        frames = self.image_of(item, self.name).frames()
        if len(frames) == 1:
            return self.detect_frame(frames[0], subject=subject)
        return [
            replace(finding, evidence={**finding.evidence, "frame": frame.frame})
            for frame in frames
            for finding in self.detect_frame(frame, subject=subject)
        ]

    @abstractmethod
    def detect_frame(self, item: Image, *, subject: str) -> Sequence[Finding]:
        """Findings about one frame (decoded views: ``item.decoded()``, ``item.cached``)."""

    def model(self) -> Any:
        return self._loader.get()

    @staticmethod
    def image_of(item: Any, name: str) -> Image:
        if not isinstance(item, Image):
            raise TypeError(f"{name} reads images, got {type(item).__name__}")
        return item


def image_evidence(image: Image) -> dict[str, Any]:
    decoded = image.decoded()
    return {
        "sha256": image.sha256,
        "width": decoded.width,
        "height": decoded.height,
        "format": decoded.format,
    }
