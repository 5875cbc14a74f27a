"""What every image detector shares: the content type, a model loaded once per process with the
configured thread count, and evidence about the image it looked at."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from bastion.content import Image
from bastion.detectors.base import Detector, DetectorConfig
from bastion.detectors.image.runtime import Loader
from bastion.settings import Settings

if TYPE_CHECKING:
    from bastion.guard import Guard


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

    def bind(self, guard: Guard) -> None:
        self.configure(guard.settings)

    def configure(self, settings: Settings) -> None:
        """Read process-wide settings (model thread counts, face sizes)."""
        self.threads = settings.onnx_threads

    def warm_up(self) -> None:
        self._loader.warm_up()

    @abstractmethod
    def load(self) -> Any:
        """Load the model(s); raise ModelUnavailable when a file is missing or broken."""

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
