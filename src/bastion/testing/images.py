"""Benign test images: scikit-image's sample photos and generated distractors.

Used by the robustness test and benchmark: recall on edited copies of the sample photos, and
false matches against distractors (crops of other photos, drawn scenes, noise). Needs
scikit-image (a development dependency).
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
from PIL import Image, ImageDraw

PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "camera",
    "hubble_deep_field",
    "coins",
    "brick",
    "grass",
    "gravel",
    "moon",
    "page",
    "retina",
    "immunohistochemistry",
)


def sample_photo(name: str) -> np.ndarray:
    import skimage.data

    array = np.asarray(getattr(skimage.data, name)())
    if array.dtype != np.uint8:
        array = (array * 255).astype(np.uint8) if array.max() <= 1 else array.astype(np.uint8)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    return np.ascontiguousarray(array[..., :3])


def jpeg(array: np.ndarray, quality: int = 90) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def _crop(rng: np.random.Generator, photos: list[np.ndarray]) -> np.ndarray:
    photo = photos[int(rng.integers(len(photos)))]
    h, w = photo.shape[:2]
    scale = rng.uniform(0.25, 0.6)  # a small window: a different picture, not a near copy
    ch, cw = max(16, int(h * scale)), max(16, int(w * scale))
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    out = photo[y : y + ch, x : x + cw]
    if rng.random() < 0.5:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


def _scene(rng: np.random.Generator) -> np.ndarray:
    w, h = int(rng.integers(160, 400)), int(rng.integers(160, 400))
    image = Image.new("RGB", (w, h), tuple(int(c) for c in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(3, 25))):
        box = sorted(rng.integers(0, w, 2).tolist()), sorted(rng.integers(0, h, 2).tolist())
        xy = [box[0][0], box[1][0], box[0][1], box[1][1]]
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = rng.integers(3)
        if shape == 0:
            draw.rectangle(xy, fill=colour)
        elif shape == 1:
            draw.ellipse(xy, fill=colour)
        else:
            draw.line(xy, fill=colour, width=int(rng.integers(1, 12)))
    return np.asarray(image)


def _noise(rng: np.random.Generator) -> np.ndarray:
    w, h = int(rng.integers(64, 300)), int(rng.integers(64, 300))
    kind = rng.integers(3)
    if kind == 0:
        return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    coarse = rng.integers(0, 256, (int(rng.integers(2, 12)), int(rng.integers(2, 12)), 3))
    image = Image.fromarray(coarse.astype(np.uint8)).resize((w, h), Image.Resampling.BICUBIC)
    array = np.asarray(image).astype(np.int16)
    if kind == 2:
        array = array + rng.integers(-30, 30, array.shape)
    return np.clip(array, 0, 255).astype(np.uint8)


def distractors(count: int, *, seed: int = 0, exclude: str | None = None) -> Iterator[bytes]:
    """``count`` JPEGs: a third crops of sample photos, a third drawn scenes, a third noise."""
    rng = np.random.default_rng(seed)
    photos = [sample_photo(n) for n in PHOTOS if n != exclude]
    makers = (lambda: _crop(rng, photos), lambda: _scene(rng), lambda: _noise(rng))
    for i in range(count):
        yield jpeg(makers[i % 3](), quality=int(rng.integers(60, 95)))
