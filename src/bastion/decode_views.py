"""The views one decode pass hands out: analysis RGB for the models, luma for PDQ, per frame.

:func:`decode_views` opens the bytes once (through :func:`bastion.decode.opened`), reserves the
memory it estimated from the header, and walks the frames once, making at each screened frame
the views that were asked for:

- **analysis RGB** (:class:`Decoded`): EXIF orientation applied, palette/CMYK/16-bit/alpha
  converted, scaled so its longest side is at most ``analysis_max_side``;
- **luma** (:class:`Luma`): the reference-compatible input of PDQ (no EXIF turn), possibly at a
  reduced scale the PDQ kernel compensates for.

JPEG decodes at 1/2, 1/4 or 1/8 scale inside the IDCT (``draft``) when the views allow it;
other formats are reduced right after decoding, before any copy is made. Animated images
(GIF, APNG, animated WebP/AVIF) yield one view per screened frame: every frame up to
``screened_frames``, evenly sampled beyond it. The full-resolution view the watermark needs is
made by :mod:`bastion.provenance.imageio`, through the same opening and budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image as PILImage

from bastion.decode import Header, ImageLimits, header, opened, reserve
from bastion.errors import UndecodableImage

# Luma is reduced while both sides stay at least this long (PDQ works on 64×64 from it).
MIN_DECODED_SIDE = 256
_JPEG = ("JPEG", "MPO")


@dataclass(frozen=True, slots=True)
class Decoded:
    """One frame as an RGB uint8 array (read-only) plus what was learnt decoding it."""

    rgb: NDArray[np.uint8]
    width: int  # of the original, after EXIF orientation
    height: int
    format: str
    mode: str  # Pillow mode before conversion, e.g. "CMYK", "I;16", "P", "RGBA"
    frames: int
    orientation: int  # EXIF orientation tag that was applied (1 = none)
    had_alpha: bool
    frame: int = 0  # index of this frame in the image

    @property
    def scale(self) -> float:
        """Analysis size over original size (1.0 when no downscaling was needed)."""
        return float(self.rgb.shape[1]) / self.width


@dataclass(frozen=True, slots=True)
class Luma:
    """Luminance of one frame, possibly decoded at a reduced scale.

    ``width``/``height`` are the full-resolution dimensions; ``pixels`` is ``height/scale`` by
    ``width/scale`` (rounded up), each pixel the mean of a ``scale``-by-``scale`` block.
    """

    pixels: np.ndarray
    width: int
    height: int
    scale: int
    frame: int = 0


@dataclass(frozen=True, slots=True)
class Frame:
    index: int
    rgb: Decoded | None
    luma: Luma | None


@dataclass(frozen=True, slots=True)
class Views:
    header: Header
    frames: tuple[Frame, ...]  # the screened frames, in order


def sample_indices(frames: int, limit: int) -> tuple[int, ...]:
    """Every frame up to ``limit``; beyond it ``limit`` frames evenly spread, first and last."""
    if frames <= limit:
        return tuple(range(frames))
    if limit == 1:
        return (0,)
    return tuple(sorted({round(i * (frames - 1) / (limit - 1)) for i in range(limit)}))


def decode(data: bytes, media_type: str, limits: ImageLimits) -> Decoded:
    """The first frame's analysis RGB; raises a typed InvalidInput on any problem."""
    rgb = decode_views(data, media_type, limits, rgb=True, luma=False, indices=(0,)).frames[0].rgb
    assert rgb is not None
    return rgb


def decode_views(
    data: bytes,
    media_type: str,
    limits: ImageLimits,
    *,
    rgb: bool,
    luma: bool,
    indices: tuple[int, ...] | None = None,
    luma_min_side: int = MIN_DECODED_SIDE,
) -> Views:
    """Decode once and make the asked-for views of the screened frames (``indices``, default:
    :func:`sample_indices`). ``luma_min_side=0`` keeps luma at full resolution."""
    with opened(data, media_type, limits) as image:
        head = header(image)
        wanted = (
            indices if indices is not None else sample_indices(head.frames, limits.screened_frames)
        )
        draft_scale = _draft(image, head, limits, rgb=rgb, luma=luma, luma_min_side=luma_min_side)
        with reserve(limits, _estimate(image, head, len(wanted), limits)):
            # Inside the reservation: reading a PNG's EXIF makes Pillow decode the whole image
            # (the eXIf chunk may follow the pixels).
            orientation = orientation_of(image)
            frames = []
            chosen = set(wanted)
            for index in range(max(wanted) + 1):
                if index:
                    image.seek(index)
                if index not in chosen:
                    continue
                image.load()
                frames.append(
                    Frame(
                        index,
                        _rgb_view(image, head, index, orientation, limits) if rgb else None,
                        _luma_view(image, head, index, draft_scale, luma_min_side)
                        if luma
                        else None,
                    )
                )
    return Views(head, tuple(frames))


def _draft(
    image: PILImage.Image,
    head: Header,
    limits: ImageLimits,
    *,
    rgb: bool,
    luma: bool,
    luma_min_side: int,
) -> int:
    """Ask a JPEG for a reduced decode the views allow; return the scale it took (1, 2, 4, 8)."""
    if head.format not in _JPEG:
        return 1
    if rgb:
        side = limits.analysis_max_side
        scale = min(1.0, side / max(head.width, head.height))
        target = (max(1, int(head.width * scale)), max(1, int(head.height * scale)))
        if luma and luma_min_side == 0:
            return 1
        if luma:  # the luma view keeps both sides at least luma_min_side long
            target = (
                max(target[0], min(head.width, luma_min_side)),
                max(target[1], min(head.height, luma_min_side)),
            )
        image.draft("RGB", target)
    elif luma_min_side > 0:
        image.draft("L", (luma_min_side, luma_min_side))
    else:
        return 1
    reduced = image.size
    for factor in (1, 2, 4, 8):
        if (-(-head.width // factor), -(-head.height // factor)) == reduced:
            return factor
    raise UndecodableImage(f"unexpected reduced size {reduced} for {head.width}x{head.height}")


def _estimate(image: PILImage.Image, head: Header, views: int, limits: ImageLimits) -> int:
    """Bytes this decode may hold at its peak, from the header alone (before any allocation).

    Pillow keeps pixels in 1, 2 or 4 bytes per pixel whatever the band count; an animation
    holds its composited canvas and the previous one; converting and the luma copy add one
    working copy; the views of every screened frame stay until the request ends.
    """
    width, height = image.size  # reduced already where a JPEG draft applies
    pixels = width * height
    if head.frames > 1:
        canvas = pixels * 4 * 2
    elif image.mode in ("1", "L", "P"):
        canvas = pixels
    elif image.mode.startswith("I;16"):
        canvas = pixels * 2
    else:
        canvas = pixels * 4
    wide = image.mode in ("I", "F") or image.mode.startswith("I;16")
    working = pixels * (16 if wide else 4) + pixels  # conversion (float64 for wide modes) + L
    side = limits.analysis_max_side
    analysis = min(pixels, side * side) * 3
    luma = max(pixels // 16, MIN_DECODED_SIDE * MIN_DECODED_SIDE) * 4
    return canvas + working + views * (analysis + luma)


def _rgb_view(
    image: PILImage.Image, head: Header, index: int, orientation: int, limits: ImageLimits
) -> Decoded:
    mode = image.mode
    flat, had_alpha = _to_rgb_or_rgba(image)
    small = _shrink(flat, limits.analysis_max_side)
    if had_alpha:
        background = PILImage.new("RGBA", small.size, (255, 255, 255, 255))
        small = PILImage.alpha_composite(background, small).convert("RGB")
    if orientation != 1:
        small = transposed(small, orientation)
    rgb = np.asarray(small, dtype=np.uint8).copy()
    rgb.setflags(write=False)
    width, height = head.width, head.height
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return Decoded(
        rgb=rgb,
        width=width,
        height=height,
        format=head.format if head.format != "MPO" else "JPEG",
        mode=mode,
        frames=head.frames,
        orientation=orientation,
        had_alpha=had_alpha,
        frame=index,
    )


def _luma_view(
    image: PILImage.Image, head: Header, index: int, draft_scale: int, min_side: int
) -> Luma:
    gray = image if image.mode == "L" else image.convert("L")
    factor = 1
    if min_side > 0:
        width, height = gray.size
        while draft_scale * factor < 8 and min(width, height) // (factor * 2) >= min_side:
            factor *= 2
    if factor > 1:
        gray = gray.reduce(factor)
    pixels = np.asarray(gray, dtype=np.float32)
    if pixels.ndim != 2 or pixels.size == 0:
        raise UndecodableImage("image decoded to no pixels", field="image")
    return Luma(pixels, head.width, head.height, draft_scale * factor, index)


def orientation_of(image: PILImage.Image) -> int:
    """The EXIF orientation tag (1..8; 1 when absent or broken)."""
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block is ignored, not fatal: orientation stays as stored
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


_TRANSPOSES = {
    2: (PILImage.Transpose.FLIP_LEFT_RIGHT,),
    3: (PILImage.Transpose.ROTATE_180,),
    4: (PILImage.Transpose.FLIP_TOP_BOTTOM,),
    5: (PILImage.Transpose.TRANSPOSE,),
    6: (PILImage.Transpose.ROTATE_270,),
    7: (PILImage.Transpose.TRANSVERSE,),
    8: (PILImage.Transpose.ROTATE_90,),
}


def transposed(image: PILImage.Image, orientation: int) -> PILImage.Image:
    """``image`` turned as EXIF ``orientation`` (2..8) says."""
    for method in _TRANSPOSES[orientation]:
        image = image.transpose(method)
    return image


def _to_rgb_or_rgba(image: PILImage.Image) -> tuple[PILImage.Image, bool]:
    """Any Pillow mode → RGB, or RGBA when it has transparency (flattened after shrinking)."""
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image, dtype=np.float64)
        # 16-bit samples map onto 8 bits by their full range; wider integers by their peak.
        peak = float(values.max(initial=0))
        top = 255.0 if peak <= 255 and mode == "I" else 65535.0 if peak <= 65535 else peak
        gray = np.clip(values * (255.0 / top), 0, 255).astype(np.uint8)
        return PILImage.fromarray(gray, "L").convert("RGB"), False
    if mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        span = high - low or 1.0
        gray = ((values - low) * (255.0 / span)).astype(np.uint8)
        return PILImage.fromarray(gray, "L").convert("RGB"), False
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        return (image if mode == "RGBA" else image.convert("RGBA")), True
    if mode != "RGB":
        image = image.convert("RGB")  # L, 1, P, CMYK (incl. Adobe-inverted), YCbCr, LAB, HSV
    return image, False


def _shrink(image: PILImage.Image, max_side: int) -> PILImage.Image:
    width, height = image.size
    if max(width, height) <= max_side:
        return image
    scale = max_side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, PILImage.Resampling.BILINEAR, reducing_gap=2.0)
