"""The guard's image intake: accept, sniff, limit and decode an image once per check.

Every surface takes images through :meth:`ImageIntake.accept`: bytes (or an :class:`Image`)
are checked against the one set of limits from ``Settings`` (:class:`ImageLimits`) and decoded
into just the views the surface's detectors read — analysis RGB for pixel detectors, luma for
the hash detector. Every failure is a typed error with the caller's field name.
"""

from __future__ import annotations

from collections.abc import Sequence

from bastion.content import Image
from bastion.decode import ImageLimits
from bastion.detectors.base import Detector
from bastion.errors import InputTooLarge, InvalidInput
from bastion.policy.model import Surface


class ImageIntake:
    def __init__(
        self, detectors: Sequence[Detector], limits: ImageLimits, *, max_bytes: int
    ) -> None:
        self.limits = limits
        self.max_bytes = max_bytes
        self._views = {surface: views(detectors, surface) for surface in Surface}

    def accept(self, image: bytes | Image, field: str, surface: Surface | None) -> Image:
        """The image, decoded into the views ``surface``'s detectors read; ``None`` leaves
        decoding to whoever reads it (provenance decodes at full resolution). More frames
        than ``image_screened_frames`` are sampled on uploads and refused on the generation
        and output paths (fail closed: not every frame could be screened)."""
        try:
            if isinstance(image, Image):
                image = image.with_limits(self.limits)
            elif isinstance(image, bytes | bytearray | memoryview):
                image = Image.from_bytes(bytes(image), max_bytes=self.max_bytes, limits=self.limits)
            else:
                raise InvalidInput(f"{field} must be bytes, got {type(image).__name__}")
            if surface is not None:
                frames = image.header().frames
                screened = self.limits.screened_frames
                if surface is not Surface.UPLOAD and frames > screened:
                    raise InputTooLarge(
                        f"animated image has {frames} frames; {surface.value} checks screen "
                        f"every frame and accept at most {screened} (image_screened_frames)"
                    )
                rgb, luma = self._views[surface]
                image.prepare(rgb=rgb, luma=luma)
        except InvalidInput as exc:
            exc.field = field
            raise
        return image


def views(detectors: Sequence[Detector], surface: Surface) -> tuple[bool, bool]:
    """(analysis RGB, luma): the views the image detectors of ``surface`` read."""
    readers = [
        d
        for d in detectors
        if issubclass(Image, d.accepts) and (d.surfaces is None or surface.value in d.surfaces)
    ]
    rgb = any(d.reads_pixels for d in readers)
    luma = any(not d.reads_pixels for d in readers)
    return rgb or not luma, luma
