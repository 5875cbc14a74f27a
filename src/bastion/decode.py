"""Safe image decoding: hard limits first, pixels second, every failure a typed error.

Untrusted bytes go through, in order: a size check, a format allow-list (Pillow is only ever
asked to open the formats Bastion accepts, so an exotic decoder is never reached), a header-only
look at dimensions and frame count, and only then the decode of the first frame. Pillow's
decompression-bomb warning is turned into an error here, never a log line. The result is a
plain RGB array: EXIF orientation applied, palette/CMYK/16-bit/alpha converted, downscaled so
its longest side is at most ``analysis_max_side`` (the size every detector works from).
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from bastion.errors import InputTooLarge, InvalidInput, UndecodableImage, UnsupportedMediaType

# Media type → Pillow format name. HEIC/HEIF need the optional ``pillow-heif`` package
# (``pip install 'bastion-safety[heic]'``); without it they are refused with a clear error.
PILLOW_FORMATS: dict[str, str] = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/avif": "AVIF",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}
DECODABLE = "JPEG, PNG, GIF, WebP, AVIF (and HEIC/HEIF with the 'heic' extra)"
_FIELD = "image"
# Pillow's bomb check reads a process-wide filter list; changing it is serialised.
_WARNINGS_LOCK = threading.Lock()
_HEIF_LOCK = threading.Lock()
_heif_state: list[bool] = []  # [] = not tried yet; [True/False] = opener registered or not


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """Hard limits for one image. Anything past them is refused before it is decoded."""

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_frames: int = 200
    max_side: int = 16_384
    analysis_max_side: int = 1024


@dataclass(frozen=True, slots=True)
class Decoded:
    """The first frame as an RGB uint8 array (read-only) plus what was learnt decoding it."""

    rgb: NDArray[np.uint8]
    width: int  # of the original, after EXIF orientation
    height: int
    format: str
    mode: str  # Pillow mode before conversion, e.g. "CMYK", "I;16", "P", "RGBA"
    frames: int
    orientation: int  # EXIF orientation tag that was applied (1 = none)
    had_alpha: bool

    @property
    def scale(self) -> float:
        """Analysis size over original size (1.0 when no downscaling was needed)."""
        return float(self.rgb.shape[1]) / self.width


def decode(data: bytes, media_type: str, limits: ImageLimits) -> Decoded:
    """Decode untrusted bytes within ``limits``; raise a typed InvalidInput on any problem."""
    if len(data) > limits.max_bytes:
        raise InputTooLarge(
            f"image has {len(data)} bytes; the limit is {limits.max_bytes}", field=_FIELD
        )
    fmt = PILLOW_FORMATS.get(media_type)
    if fmt is None:
        raise UnsupportedMediaType(
            f"{media_type} images are not accepted; send {DECODABLE}", field=_FIELD
        )
    if fmt == "HEIF" and not _heif_available():
        raise UnsupportedMediaType(
            "HEIC/HEIF images need the optional pillow-heif package "
            "(pip install 'bastion-safety[heic]'); send JPEG, PNG, WebP or AVIF instead",
            field=_FIELD,
        )
    with untrusted(data, [fmt], max_pixels=limits.max_pixels, max_side=limits.max_side) as image:
        return _decode_first_frame(image, fmt, limits)


@contextmanager
def untrusted(
    data: bytes,
    formats: Sequence[str],
    *,
    max_pixels: int,
    max_side: int | None = None,
) -> Iterator[PILImage.Image]:
    """Open untrusted bytes, and guard everything done with the image inside the block.

    The one way into Pillow for every decoder in Bastion (detectors, hashing, provenance):
    only ``formats`` are tried, so an exotic decoder is never reached; the header's dimensions
    are checked before any pixel is decoded; the decompression-bomb warning is an error; and
    whatever Pillow raises, here or while the caller decodes inside the block, becomes a typed
    error. Warnings filters are process-wide, so the block is serialised.
    """
    with _WARNINGS_LOCK, warnings.catch_warnings():
        # A bomb warning is an error; other decoder warnings (bad EXIF, odd palettes) are
        # ignored, the file being judged on its pixels.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            with PILImage.open(io.BytesIO(data), formats=list(formats)) as image:
                width, height = image.size
                _check_dimensions(width, height, max_pixels, max_side)
                yield image
        except InvalidInput:
            raise
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as exc:
            raise InputTooLarge(
                f"image refused as a decompression bomb: {exc}", field=_FIELD
            ) from exc
        except UnidentifiedImageError as exc:
            names = "/".join(formats)
            raise UndecodableImage(f"image is not a readable {names} file", field=_FIELD) from exc
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise UndecodableImage(
                f"image could not be decoded: {exc}"[:300], field=_FIELD
            ) from exc
        except (
            MemoryError,
            RecursionError,
            IndexError,
            KeyError,
            TypeError,
            ZeroDivisionError,
        ) as exc:
            # Malformed files reach odd corners of decoders; none of them may crash the service.
            raise UndecodableImage(
                f"image could not be decoded: {type(exc).__name__}", field=_FIELD
            ) from exc


def _decode_first_frame(image: PILImage.Image, fmt: str, limits: ImageLimits) -> Decoded:
    width, height = image.size
    frames = _frame_count(image, limits)
    image.seek(0)
    exif_orientation = _orientation(image)
    if fmt == "JPEG":
        # DCT-domain downscaling: a 4000×3000 photo decodes at 1/2, 1/4 or 1/8 scale
        # directly, far cheaper than decoding it whole and resizing.
        image.draft("RGB", _draft_target(width, height, limits))
    image.load()
    mode = image.mode
    oriented = ImageOps.exif_transpose(image) if exif_orientation != 1 else image
    if exif_orientation in (5, 6, 7, 8):
        width, height = height, width
    rgb, had_alpha = _to_rgb(oriented)
    rgb = _shrink(rgb, limits.analysis_max_side)
    rgb.setflags(write=False)
    return Decoded(
        rgb=rgb,
        width=width,
        height=height,
        format=fmt,
        mode=mode,
        frames=frames,
        orientation=exif_orientation,
        had_alpha=had_alpha,
    )


def _check_dimensions(width: int, height: int, max_pixels: int, max_side: int | None) -> None:
    if width <= 0 or height <= 0:
        raise UndecodableImage(f"image has no pixels ({width}×{height})", field=_FIELD)
    if max_side is not None and (width > max_side or height > max_side):
        raise InputTooLarge(
            f"image is {width}×{height}; no side may exceed {max_side} pixels",
            field=_FIELD,
        )
    if width * height > max_pixels:
        raise InputTooLarge(
            f"image has {width * height} pixels ({width}×{height}); the limit is {max_pixels}",
            field=_FIELD,
        )


def _frame_count(image: PILImage.Image, limits: ImageLimits) -> int:
    frames = int(getattr(image, "n_frames", 1) or 1)
    if frames > limits.max_frames:
        raise InputTooLarge(
            f"image has {frames} frames; the limit is {limits.max_frames}", field=_FIELD
        )
    return frames


def _orientation(image: PILImage.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block is ignored, not fatal: orientation stays as stored
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _draft_target(width: int, height: int, limits: ImageLimits) -> tuple[int, int]:
    side = limits.analysis_max_side
    scale = min(1.0, side / max(width, height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def _to_rgb(image: PILImage.Image) -> tuple[NDArray[np.uint8], bool]:
    """Any Pillow mode → RGB uint8. Transparency is flattened onto white, as viewers show it."""
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image, dtype=np.float64)
        # 16-bit samples map onto 8 bits by their full range; wider integers by their peak.
        peak = float(values.max(initial=0))
        top = 255.0 if peak <= 255 and mode == "I" else 65535.0 if peak <= 65535 else peak
        gray = np.clip(values * (255.0 / top), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2)), False
    if mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        span = high - low or 1.0
        gray = ((values - low) * (255.0 / span)).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2)), False
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        background = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat = PILImage.alpha_composite(background, rgba).convert("RGB")
        return np.asarray(flat, dtype=np.uint8).copy(), True
    if mode != "RGB":
        image = image.convert("RGB")  # L, 1, P, CMYK (incl. Adobe-inverted), YCbCr, LAB, HSV
    return np.asarray(image, dtype=np.uint8).copy(), False


def _shrink(rgb: NDArray[np.uint8], max_side: int) -> NDArray[np.uint8]:
    height, width = rgb.shape[:2]
    if max(width, height) <= max_side:
        return rgb
    scale = max_side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = PILImage.fromarray(rgb).resize(size, PILImage.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(resized, dtype=np.uint8).copy()


def _heif_available() -> bool:
    with _HEIF_LOCK:
        if not _heif_state:
            try:
                from pillow_heif import register_heif_opener
            except ImportError:
                _heif_state.append(False)
            else:
                register_heif_opener()
                _heif_state.append(True)
        return _heif_state[0]
