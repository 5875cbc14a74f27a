"""Benign test images: scikit-image sample photos, drawn shapes, noise (never anything else)."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageEnhance

Pixels = npt.NDArray[np.uint8]

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "camera", "coins")


def photo(name: str, size: tuple[int, int] = (1024, 768)) -> Pixels:
    """A scikit-image sample photo as RGB, resized (LANCZOS) to ``size`` (width, height)."""
    import skimage.data

    pixels = getattr(skimage.data, name)()
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    image = Image.fromarray(pixels[..., :3]).resize(size, Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


def drawing(seed: int, size: tuple[int, int] = (1024, 768)) -> Pixels:
    """Flat-coloured shapes and lines on a gradient, drawn with Pillow."""
    rng = np.random.default_rng(seed)
    width, height = size
    ramp = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    base = (rng.uniform(0, 255, 3) * (1 - ramp) + rng.uniform(0, 255, 3) * ramp).astype(np.uint8)
    image = Image.fromarray(np.broadcast_to(base, (height, width, 3)).copy())
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rng.integers(0, width), rng.integers(0, height)
        x1, y1 = x0 + rng.integers(20, 400), y0 + rng.integers(20, 300)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour, outline=(0, 0, 0), width=3)
    return np.asarray(image, dtype=np.uint8)


def noise(seed: int, size: tuple[int, int] = (640, 480)) -> Pixels:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)


def encode(pixels: Pixels, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt, **options)
    return buffer.getvalue()


def decode(data: bytes) -> Pixels:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.uint8)


def jpeg(pixels: Pixels, quality: int) -> Pixels:
    return decode(encode(pixels, "JPEG", quality=quality))


def resize(pixels: Pixels, scale: float) -> Pixels:
    height, width = pixels.shape[:2]
    size = (round(width * scale), round(height * scale))
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BICUBIC))


def crop(pixels: Pixels, fraction: float) -> Pixels:
    height, width = pixels.shape[:2]
    dy, dx = int(height * fraction), int(width * fraction)
    return pixels[dy : height - dy, dx : width - dx]


def brightness(pixels: Pixels, factor: float) -> Pixels:
    return np.asarray(ImageEnhance.Brightness(Image.fromarray(pixels)).enhance(factor))


def saturation(pixels: Pixels, factor: float) -> Pixels:
    return np.asarray(ImageEnhance.Color(Image.fromarray(pixels)).enhance(factor))


# The edits the watermark must survive (issue 6), by name.
TRANSFORMS: dict[str, Callable[[Pixels], Pixels]] = {
    "none": lambda p: p,
    "jpeg_q50": lambda p: jpeg(p, 50),
    "downscale_50": lambda p: resize(p, 0.5),
    "crop_10_per_side": lambda p: crop(p, 0.10),
    "jpeg_resize_jpeg": lambda p: jpeg(resize(jpeg(p, 75), 0.5), 50),
    "brightness_contrast": lambda p: brightness(saturation(p, 1.3), 1.12),
}
