"""Decoding untrusted image bytes to pixels and encoding marked pixels back, with typed errors.

Opening the bytes goes through the one image intake (:func:`bastion.decode.opened`): the same
formats and limits as every other surface, memory reserved from the decode budget before any
pixel is allocated, every decoder failure (unknown format, truncated data, a decompression
bomb) an :class:`~bastion.errors.InvalidInput` subclass, never an exception from Pillow. This
module makes the full-resolution view (cached on the :class:`~bastion.content.Image`, so a
request decodes it once): what marking needs and the guard's analysis copy drops — full
resolution, alpha and the ICC profile — and encodes the marked pixels back.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from bastion.content import Image as Content
from bastion.decode import ImageLimits, header, opened, reserve
from bastion.decode_views import orientation_of, transposed
from bastion.errors import InvalidInput
from bastion.provenance.watermark import working_image

# Formats marked in place; anything else the intake accepts is marked and returned as PNG.
_OUTPUT_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
FULL = "full_resolution"  # the keys of these views in Image.cached
WATERMARK = "watermark_working"

Pixels = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Decoded:
    """Pixels ready for the watermark: RGB (H×W×3) or grey (H×W), plus what to carry over."""

    pixels: Pixels
    alpha: Pixels | None
    media_type: str  # of the input
    frames: int
    icc_profile: bytes | None = None

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


@dataclass(frozen=True)
class WatermarkView:
    """What reading a watermark needs: the detector's small working image (made from the
    full-resolution luminance, which is dropped once it is made) and the image's size."""

    working: npt.NDArray[np.float32]
    width: int  # after EXIF orientation
    height: int
    media_type: str


def decode(image: bytes | Content, *, limits: ImageLimits | None = None) -> Decoded:
    """The first frame at full resolution, its EXIF orientation applied (cached per Image)."""
    content = _content(image, limits)
    return content.cached(FULL, lambda: _decode(content))


def watermark_view(image: bytes | Content, *, limits: ImageLimits | None = None) -> WatermarkView:
    """The first frame's watermark working image (cached per Image), made within the decode
    memory budget: the full-resolution luminance and its float copy never outlive it."""
    content = _content(image, limits)
    return content.cached(WATERMARK, lambda: _watermark_view(content))


def _content(image: bytes | Content, limits: ImageLimits | None) -> Content:
    if isinstance(image, Content):
        return image if limits is None else image.with_limits(limits)
    if not image:
        raise InvalidInput("image is empty", field="image")
    chosen = limits or ImageLimits()
    return Content.from_bytes(image, max_bytes=chosen.max_bytes, limits=chosen)


def _watermark_view(content: Content) -> WatermarkView:
    limits = content.limits or ImageLimits()
    with opened(content.data, content.media_type, limits) as image:
        width, height = image.size
        # the frame, its luminance (as an image and an array), the float working copy
        with reserve(limits, width * height * (4 + 1 + 1 + 4)):
            orientation = orientation_of(image)
            try:
                gray = image.convert("L")
            except ValueError:  # a mode Pillow turns grey only by way of RGB
                gray = image.convert("RGB").convert("L")
            if orientation != 1:
                gray = transposed(gray, orientation)
            pixels = np.asarray(gray, dtype=np.uint8)
            del gray
            working = working_image(pixels)
            size = pixels.shape[1], pixels.shape[0]
    return WatermarkView(working, *size, content.media_type)


def _decode(content: Content) -> Decoded:
    limits = content.limits or ImageLimits()
    with opened(content.data, content.media_type, limits) as image:
        head = header(image)
        width, height = image.size
        # the frame, a turned or RGBA copy, the planes' copies
        with reserve(limits, width * height * (4 + 4 + 4)):
            icc = image.info.get("icc_profile")
            orientation = orientation_of(image)
            pixels, alpha = _planes(image if orientation == 1 else transposed(image, orientation))
    return Decoded(
        pixels=pixels,
        alpha=alpha,
        media_type=content.media_type,
        frames=head.frames,
        icc_profile=icc if isinstance(icc, bytes) else None,
    )


def _planes(image: Image.Image) -> tuple[Pixels, Pixels | None]:
    mode = image.mode
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode == "L":
        return np.asarray(image, dtype=np.uint8), None
    if mode == "LA":
        planes = np.asarray(image, dtype=np.uint8)
        return np.ascontiguousarray(planes[..., 0]), np.ascontiguousarray(planes[..., 1])
    if mode == "RGBA":
        planes = np.asarray(image, dtype=np.uint8)
        return np.ascontiguousarray(planes[..., :3]), np.ascontiguousarray(planes[..., 3])
    return np.asarray(image if mode == "RGB" else image.convert("RGB"), dtype=np.uint8), None


def encode(decoded: Decoded, pixels: Pixels) -> tuple[bytes, str]:
    """Encode marked ``pixels`` in the input's format (JPEG, PNG, WebP; others become PNG)."""
    media_type = decoded.media_type
    if media_type not in _OUTPUT_FORMATS.values():
        media_type = "image/png"
    mode = "L" if pixels.ndim == 2 else "RGB"
    image = Image.fromarray(pixels, mode)
    if decoded.alpha is not None and media_type != "image/jpeg":
        image.putalpha(Image.fromarray(decoded.alpha, "L"))
    options: dict[str, object] = {}
    if decoded.icc_profile:
        options["icc_profile"] = decoded.icc_profile
    buffer = io.BytesIO()
    if media_type == "image/jpeg":
        image.save(buffer, "JPEG", quality=95, **options)
    elif media_type == "image/webp":
        image.save(buffer, "WEBP", quality=95, method=4, **options)
    else:
        image.save(buffer, "PNG", compress_level=3, **options)
    return buffer.getvalue(), media_type
