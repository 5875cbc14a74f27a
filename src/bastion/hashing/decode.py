"""Image decoding for hashing: bytes in, a luma array out, or a typed error.

Opening the bytes goes through :func:`bastion.decode.untrusted`, the one guarded way into
Pillow (format allow-list, pixel count checked from the header before any pixel is decoded,
every decoder failure a typed error); this module only adds the luma PDQ hashes from.

Fast path: JPEG can decode at 1/2, 1/4 or 1/8 scale inside the IDCT ("draft" mode), which skips
most of the work; the PDQ kernel compensates for the scale, so the hash stays compatible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bastion.content import Image
from bastion.decode import untrusted
from bastion.errors import InvalidInput, UndecodableImage

# More pixels than this is refused before decoding (a 12000x8000 photo is 96 MP).
MAX_PIXELS = 100_000_000
# Decode JPEGs at a reduced scale while both sides stay at least this long.
MIN_DECODED_SIDE = 256
_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")


@dataclass(frozen=True, slots=True)
class Luma:
    """Luminance of an image, possibly decoded at a reduced scale.

    ``width``/``height`` are the full-resolution dimensions; ``pixels`` is ``height/scale`` by
    ``width/scale`` (rounded up), each pixel the mean of a ``scale``-by-``scale`` block.
    """

    pixels: np.ndarray
    width: int
    height: int
    scale: int


PDQ_LUMA = "pdq_luma"  # the key of the hashing decode in Image.cached


def luma_of(image: Image | bytes, *, max_pixels: int = MAX_PIXELS) -> Luma:
    """The image's luma for hashing, decoded once per ``Image`` (cached on it) and shared by
    :meth:`Guard.scan_upload` (for its typed error), the hash detector and stay-down."""
    if isinstance(image, Image):
        data = image.data
        return image.cached(PDQ_LUMA, lambda: decode_luma(data, max_pixels=max_pixels))
    return decode_luma(image, max_pixels=max_pixels)


def decode_luma(
    data: bytes, *, max_pixels: int = MAX_PIXELS, min_side: int = MIN_DECODED_SIDE
) -> Luma:
    """Decode ``data`` to luma, at a reduced scale where the format allows it.

    ``min_side=0`` disables reduction (full-resolution decode, as the reference hasher does).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidInput(f"image must be bytes, got {type(data).__name__}", field="image")
    if not data:
        raise InvalidInput("image is empty", field="image")
    with untrusted(bytes(data), _FORMATS, max_pixels=max_pixels) as image:
        width, height = image.size
        scale = 1
        if image.format == "JPEG" and min_side > 0:
            image.draft("L", (min_side, min_side))
            scale = _scale_of(width, height, image.size)
        gray = image.convert("L") if image.mode != "L" else image
        gray.load()
        if scale == 1 and min_side > 0:  # other formats: a box reduction after decoding
            factor = 1
            while factor < 8 and min(width, height) // (factor * 2) >= min_side:
                factor *= 2
            if factor > 1:
                gray, scale = gray.reduce(factor), factor
        pixels = np.asarray(gray, dtype=np.float32)
    if pixels.ndim != 2 or pixels.size == 0:
        raise UndecodableImage("image decoded to no pixels", field="image")
    return Luma(pixels=pixels, width=width, height=height, scale=scale)


def _scale_of(width: int, height: int, reduced: tuple[int, int]) -> int:
    for scale in (1, 2, 4, 8):
        if (-(-width // scale), -(-height // scale)) == reduced:
            return scale
    raise UndecodableImage(f"unexpected reduced size {reduced} for {width}x{height}")
