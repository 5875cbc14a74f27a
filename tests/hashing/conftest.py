"""Sample photos (scikit-image's bundled, benign pictures) and image helpers."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "camera",
    "hubble_deep_field",
    "coins",
    "moon",
)


def photo(name: str) -> np.ndarray:
    import skimage.data

    array = getattr(skimage.data, name)()
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    return np.ascontiguousarray(array[..., :3].astype(np.uint8))


def encode(array: np.ndarray, fmt: str = "JPEG", quality: int = 90) -> bytes:
    out = io.BytesIO()
    image = Image.fromarray(array)
    if fmt == "JPEG":
        image.save(out, fmt, quality=quality)
    else:
        image.save(out, fmt)
    return out.getvalue()


def crop(array: np.ndarray, fraction: float) -> np.ndarray:
    h, w = array.shape[:2]
    dy, dx = round(h * fraction), round(w * fraction)
    return np.ascontiguousarray(array[dy : h - dy, dx : w - dx])


def downscale(array: np.ndarray, factor: float) -> np.ndarray:
    image = Image.fromarray(array)
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return np.asarray(image.resize(size, Image.Resampling.LANCZOS))


def reencode_chain(data: bytes, rounds: int = 3) -> bytes:
    for quality in (85, 70, 60)[:rounds]:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        data = out.getvalue()
    return data


TRANSFORMS: dict[str, Callable[[np.ndarray], bytes]] = {
    "jpeg_q50": lambda a: encode(a, quality=50),
    "downscale_50": lambda a: encode(downscale(a, 0.5)),
    "mirror": lambda a: encode(np.ascontiguousarray(a[:, ::-1])),
    "crop_5_per_side": lambda a: encode(crop(a, 0.05)),
    "reencode_chain": lambda a: reencode_chain(encode(a, quality=95)),
}


@pytest.fixture(scope="session")
def photos() -> dict[str, np.ndarray]:
    return {name: photo(name) for name in PHOTOS}
