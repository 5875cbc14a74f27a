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
        # Detectors that decode a view of their own make it here too, before any deadline
        # runs (Detector.prepare), so waiting for decode memory is a 503, never a timeout.
        self._preparers = {
            surface: [
                d for d in readers(detectors, surface) if type(d).prepare is not Detector.prepare
            ]
            for surface in Surface
        }

    def accept(self, image: bytes | Image, field: str, surface: Surface | None) -> Image:
        """The image, decoded into the views ``surface``'s detectors read. The header is read
        on every surface (format, size, frames: refused here, before anything else is looked
        at, with the same typed error everywhere); ``None`` leaves decoding to whoever reads it
        (provenance decodes at full resolution). More frames
        than ``image_screened_frames`` are sampled on uploads and refused on the generation
        and output paths (fail closed: not every frame could be screened)."""
        try:
            if isinstance(image, Image):
                image = image.with_limits(self.limits)
            elif isinstance(image, bytes | bytearray | memoryview):
                image = Image.from_bytes(bytes(image), max_bytes=self.max_bytes, limits=self.limits)
            else:
                raise InvalidInput(f"{field} must be bytes, got {type(image).__name__}")
            frames = image.header().frames
            if surface is not None:
                screened = self.limits.screened_frames
                if surface is not Surface.UPLOAD and frames > screened:
                    raise InputTooLarge(
                        f"animated image has {frames} frames; {surface.value} checks screen "
                        f"every frame and accept at most {screened} (image_screened_frames)"
                    )
                rgb, luma = self._views[surface]
                image.prepare(rgb=rgb, luma=luma)
                for detector in self._preparers[surface]:
                    detector.prepare(image)
        except InvalidInput as exc:
            exc.field = field
            raise
        return image


def views(detectors: Sequence[Detector], surface: Surface) -> tuple[bool, bool]:
    """(analysis RGB, luma): the views the image detectors of ``surface`` read."""
    found = readers(detectors, surface)
    rgb = any(d.reads_pixels for d in found)
    luma = any(not d.reads_pixels for d in found)
    return rgb or not luma, luma


def readers(detectors: Sequence[Detector], surface: Surface) -> list[Detector]:
    """The image detectors that run on ``surface``."""
    return [
        d
        for d in detectors
        if issubclass(Image, d.accepts) and (d.surfaces is None or surface.value in d.surfaces)
    ]
