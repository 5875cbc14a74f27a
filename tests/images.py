"""Benign test images: scikit-image and matplotlib sample photos, and images drawn with
Pillow/numpy. Nothing here is sexual; positive paths use fake detectors."""

from __future__ import annotations

import io
from functools import cache

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter, ImageOps

# Colour and grey sample photos shipped with scikit-image and matplotlib.
SAMPLES = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "camera",
    "coins",
    "moon",
    "page",
    "hubble_deep_field",
    "retina",
    "immunohistochemistry",
    "grace_hopper",
)


def encode(array: NDArray[np.uint8], fmt: str = "JPEG", **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, **options)  # type: ignore[arg-type]
    return buffer.getvalue()


@cache
def sample(name: str) -> NDArray[np.uint8]:
    """A sample photo as RGB uint8."""
    if name == "grace_hopper":
        import matplotlib.cbook

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
            data = handle.read()
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    import skimage.data

    array = np.asarray(getattr(skimage.data, name)())
    if array.dtype != np.uint8:
        array = (
            (np.clip(array, 0, 1) * 255).astype(np.uint8)
            if array.max() <= 1
            else array.astype(np.uint8)
        )
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    return np.ascontiguousarray(array[:, :, :3])


def sample_jpeg(name: str) -> bytes:
    return encode(sample(name), "JPEG", quality=92)


def photo_1024x768(name: str = "astronaut") -> bytes:
    """A sample photo scaled to 1024×768, as JPEG (the benchmark's size)."""
    resized = Image.fromarray(sample(name)).resize((1024, 768), Image.Resampling.LANCZOS)
    return encode(np.asarray(resized), "JPEG", quality=90)


def benign_edit(name: str = "astronaut") -> bytes:
    """What an image model might return for "add a red hat, make it a watercolour"."""
    image = Image.fromarray(sample(name))
    soft = image.filter(ImageFilter.ModeFilter(5)).filter(ImageFilter.SMOOTH_MORE)
    painted = ImageOps.posterize(soft, 4)
    draw = ImageDraw.Draw(painted)
    width, height = painted.size
    draw.polygon(
        [
            (width * 0.36, height * 0.17),
            (width * 0.50, height * 0.02),
            (width * 0.62, height * 0.17),
        ],
        fill=(200, 20, 30),
    )
    return encode(np.asarray(painted), "JPEG", quality=90)


def flat(color: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    """A plain PNG of one colour (for fake detectors that decide by colour)."""
    return encode(np.full((size[1], size[0], 3), color, dtype=np.uint8), "PNG")
