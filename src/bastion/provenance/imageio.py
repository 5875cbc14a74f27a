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
from PIL import Image, ImageOps

from bastion.content import Image as Content
from bastion.decode import ImageLimits, header, opened, reserve
from bastion.errors import InvalidInput

# Formats marked in place; anything else the intake accepts is marked and returned as PNG.
_OUTPUT_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
FULL = "full_resolution"  # the key of this view in Image.cached

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


def decode(image: bytes | Content, *, limits: ImageLimits | None = None) -> Decoded:
    """The first frame at full resolution, its EXIF orientation applied (cached per Image)."""
    if isinstance(image, Content):
        content = image if limits is None else image.with_limits(limits)
    else:
        if not image:
            raise InvalidInput("image is empty", field="image")
        chosen = limits or ImageLimits()
        content = Content.from_bytes(image, max_bytes=chosen.max_bytes, limits=chosen)
    return content.cached(FULL, lambda: _decode(content))


def _decode(content: Content) -> Decoded:
    limits = content.limits or ImageLimits()
    with opened(content.data, content.media_type, limits) as image:
        head = header(image)
        width, height = image.size
        # the frame, an RGBA conversion, the planes' copies
        with reserve(limits, width * height * (4 + 4 + 4)):
            icc = image.info.get("icc_profile")
            pixels, alpha = _planes(ImageOps.exif_transpose(image))
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
    return np.asarray(image.convert("RGB"), dtype=np.uint8), None


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
