"""PDQ hashing, compatible with the reference implementation (and the ``pdqhash`` package).

The reference computes luma, blurs it with a Jarosz filter (a box filter applied twice along
rows and columns, window ≈ side/128), samples 64×64 points, takes a 16×16 DCT and thresholds
at the median. Everything before the DCT is linear, so Bastion folds blur and sampling into two
small matrices (64×height and 64×width, cached per size): ``samples = K_rows · luma · K_colsᵀ``.
The matrices describe the filter *at full resolution*, and absorb the block averaging of a
reduced decode, so a JPEG decoded at 1/4 scale still yields (almost) the full-resolution hash —
at a fraction of the cost.

Dihedral variants (mirrors and rotations) are exact transforms of the DCT coefficients, so the
eight hashes cost one. Crop variants re-run the cheap matrix step on a centred window.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import numpy as np

from bastion.decode import ImageLimits
from bastion.hashing.decode import MIN_DECODED_SIDE, Luma, decode_luma
from bastion.hashing.signals import Hash, SignalType

SIDE = 64
_DCT = np.array(
    [
        [
            np.sqrt(2.0 / SIDE) * np.cos(np.pi / 2 / SIDE * (i + 1) * (2 * j + 1))
            for j in range(SIDE)
        ]
        for i in range(16)
    ],
    dtype=np.float64,
)
_ODD = np.arange(16) % 2 == 1  # coefficient u has frequency u+1: odd u keeps its sign on a flip
_FLIP = np.where(_ODD, 1.0, -1.0)  # sign of coefficient u under a mirror of its axis


class Dihedral(StrEnum):
    """The eight mirrors/rotations of an image, as named by the reference implementation."""

    ORIGINAL = "original"
    ROTATE_90 = "rotate_90"
    ROTATE_180 = "rotate_180"
    ROTATE_270 = "rotate_270"
    FLIP_X = "flip_x"
    FLIP_Y = "flip_y"
    FLIP_PLUS_1 = "flip_plus_1"
    FLIP_MINUS_1 = "flip_minus_1"


@dataclass(frozen=True, slots=True)
class PdqResult:
    """A PDQ hash with its quality (0-100; below 50 the hash is unreliable)."""

    hash: Hash
    quality: int
    variant: str = Dihedral.ORIGINAL.value

    @property
    def hex(self) -> str:
        return self.hash.hex


# -- the kernel -------------------------------------------------------------------------------


def window(side: int) -> int:
    """The reference's Jarosz window for one axis: ceil(side / 128) (rounded the same way)."""
    return (side + 2 * SIDE - 1) // (2 * SIDE)


@lru_cache(maxsize=256)
def kernel(full: int, scale: int = 1, offset: int = 0, length: int | None = None) -> np.ndarray:
    """64×n matrix: box-blur twice along an axis of ``full`` pixels, then sample 64 points.

    Columns are reduced-resolution pixels (each the mean of ``scale`` full pixels).
    ``offset``/``length`` select a centred sub-window (a crop) of the full axis.
    """
    n = full if length is None else length
    w = window(n)
    half = (w + 2) // 2
    left, right = w - half, half - 1
    idx = np.arange(n)
    lo = np.maximum(0, idx - left)
    hi = np.minimum(n - 1, idx + right)
    count = (hi - lo + 1).astype(np.float64)
    picks = ((np.arange(SIDE) + 0.5) * n / SIDE).astype(np.int64)
    # First pass: row r averages [lo, hi] of its sample point.
    first = np.zeros((SIDE, n + 1))
    rows = np.arange(SIDE)
    first[rows, lo[picks]] += 1.0 / count[picks]
    first[rows, hi[picks] + 1] -= 1.0 / count[picks]
    first = np.cumsum(first, axis=1)[:, :n]
    # Second pass: out[j] = sum of first[i] / count[i] over the i whose window holds j.
    weighted = np.concatenate([np.zeros((SIDE, 1)), np.cumsum(first / count, axis=1)], axis=1)
    j_lo = np.maximum(0, idx - right)
    j_hi = np.minimum(n - 1, idx + left)
    full_kernel = weighted[:, j_hi + 1] - weighted[:, j_lo]
    # Place the window on the full axis, then fold blocks of `scale` pixels together.
    placed = np.zeros((SIDE, full))
    placed[:, offset : offset + n] = full_kernel
    if scale > 1:
        starts = np.arange(0, full, scale)
        placed = np.add.reduceat(placed, starts, axis=1)
    out = np.ascontiguousarray(placed, dtype=np.float32)
    out.setflags(write=False)
    return out


# Each row of a kernel is a narrow band (two box blurs of about side/128 pixels): above this
# band width the dense product is used instead.
MAX_BAND = 64


@lru_cache(maxsize=256)
def band(
    full: int, scale: int = 1, offset: int = 0, length: int | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """The kernel as (column indices, weights), 64×b each, or None when b > MAX_BAND."""
    k = kernel(full, scale, offset, length)
    nonzero = k != 0
    lo = nonzero.argmax(axis=1)
    hi = k.shape[1] - 1 - nonzero[:, ::-1].argmax(axis=1)
    width = int((hi - lo).max()) + 1
    if width > MAX_BAND:
        return None
    wanted = lo[:, None] + np.arange(width)[None, :]
    index = np.minimum(wanted, k.shape[1] - 1)
    weights = np.where(wanted <= hi[:, None], k[np.arange(SIDE)[:, None], index], 0.0)
    index.setflags(write=False)
    weights = weights.astype(np.float32)
    weights.setflags(write=False)
    return index, weights


def _samples(luma: Luma, crop: float = 0.0) -> np.ndarray:
    """The 64×64 blurred samples the reference would compute (of a centred crop if given).

    ``K_rows · luma · K_colsᵀ`` with banded kernels: a gather and a short weighted sum per
    axis (about 1/30 of the dense product's work, and no BLAS call, whose worker threads
    cost milliseconds of wake-up latency on a busy server).
    """
    h_off = round(luma.height * crop)
    w_off = round(luma.width * crop)
    h_args = (luma.height, luma.scale, h_off, luma.height - 2 * h_off)
    w_args = (luma.width, luma.scale, w_off, luma.width - 2 * w_off)
    rows, cols = band(*h_args), band(*w_args)
    if rows is None or cols is None:
        dense = kernel(*h_args) @ luma.pixels @ kernel(*w_args).T
        return dense.astype(np.float64)  # type: ignore[no-any-return]
    row_index, row_weights = rows
    col_index, col_weights = cols
    blurred = np.einsum("ib,ibw->iw", row_weights, luma.pixels[row_index])
    sampled = np.einsum("jb,ijb->ij", col_weights, blurred[:, col_index])
    return sampled.astype(np.float64)  # type: ignore[no-any-return]


def _quality(samples: np.ndarray) -> int:
    down = np.trunc((samples[:-1, :] - samples[1:, :]) * 100 / 255)
    across = np.trunc((samples[:, :-1] - samples[:, 1:]) * 100 / 255)
    total = int(np.abs(down).sum() + np.abs(across).sum())
    return min(100, total // 90)


def _threshold(coefficients: np.ndarray) -> np.ndarray:
    """Bits (most significant first) of the reference's layout: bit i*16+j is B[i][j]."""
    flat = coefficients.reshape(-1)
    median = np.partition(flat, 127)[127]
    bits: np.ndarray = (flat > median)[::-1]
    return bits


def _dihedral(b: np.ndarray) -> dict[Dihedral, np.ndarray]:
    rows, cols = _FLIP[:, None], _FLIP[None, :]
    t = b.T
    return {
        Dihedral.ORIGINAL: b,
        Dihedral.ROTATE_90: t * rows,
        Dihedral.ROTATE_180: b * rows * cols,
        Dihedral.ROTATE_270: t * cols,
        Dihedral.FLIP_X: b * rows,
        Dihedral.FLIP_Y: b * cols,
        Dihedral.FLIP_PLUS_1: t,
        Dihedral.FLIP_MINUS_1: t * rows * cols,
    }


def _dct(samples: np.ndarray) -> np.ndarray:
    return _DCT @ samples @ _DCT.T  # type: ignore[no-any-return]


# -- public API -------------------------------------------------------------------------------


def hash_luma(luma: Luma, *, crop: float = 0.0) -> PdqResult:
    samples = _samples(luma, crop)
    bits = _threshold(_dct(samples))
    return PdqResult(Hash.from_bits(bits), _quality(samples))


def hash_bytes(
    data: bytes, *, limits: ImageLimits | None = None, min_side: int = MIN_DECODED_SIDE
) -> PdqResult:
    """PDQ hash and quality of an encoded image's first frame, decoded through the image
    intake within ``limits`` (default: the settings' defaults). Raises a typed error."""
    return hash_luma(decode_luma(data, limits=limits, min_side=min_side))


def hash_array(pixels: np.ndarray) -> PdqResult:
    """PDQ of decoded pixels (H×W luma or H×W×3 RGB, 0-255), as the reference computes it."""
    array = np.asarray(pixels, dtype=np.float32)
    if array.ndim == 3:
        array = array[..., 0] * 0.299 + array[..., 1] * 0.587 + array[..., 2] * 0.114
    if array.ndim != 2 or array.size == 0:
        raise ValueError("expected an H×W or H×W×3 array")
    return hash_luma(Luma(np.ascontiguousarray(array), array.shape[1], array.shape[0], 1))


def dihedral_hashes(luma: Luma) -> list[PdqResult]:
    """The eight mirror/rotation hashes (the first is the plain hash), for one DCT's cost."""
    samples = _samples(luma)
    quality = _quality(samples)
    variants = _dihedral(_dct(samples))
    return [
        PdqResult(Hash.from_bits(_threshold(b)), quality, name.value)
        for name, b in variants.items()
    ]


def _transform(pixels: np.ndarray, variant: Dihedral) -> np.ndarray:
    """The pixels after one of the eight mirrors/rotations (names as in ``_dihedral``)."""
    match variant:
        case Dihedral.ORIGINAL:
            return pixels
        case Dihedral.ROTATE_90:
            return np.rot90(pixels, 1)
        case Dihedral.ROTATE_180:
            return pixels[::-1, ::-1]
        case Dihedral.ROTATE_270:
            return np.rot90(pixels, 3)
        case Dihedral.FLIP_X:  # across the horizontal axis: rows reversed
            return pixels[::-1, :]
        case Dihedral.FLIP_Y:  # across the vertical axis: a left-right mirror
            return pixels[:, ::-1]
        case Dihedral.FLIP_PLUS_1:  # across the main diagonal
            return pixels.T
        case Dihedral.FLIP_MINUS_1:  # across the anti-diagonal
            return pixels[::-1, ::-1].T
    raise ValueError(variant)  # pragma: no cover


def transformed_hashes(luma: Luma) -> list[PdqResult]:
    """Hashes of the image itself mirrored and rotated eight ways (the first is the plain hash).

    For lookups: one of these is exactly the hash the reference computes for the upload
    turned back to its original orientation. ``dihedral_hashes`` (the reference's DCT-domain
    shortcut) is not: the reference's blur and sampling grid are not quite symmetric, which
    costs 6-16 bits on photographs and 25-80 on fine textures; here a mirror costs ~0.
    Sampling a transposed image gives the transposed samples (each axis' kernel depends only
    on its length), so four samplings (the flips) give all eight. (With a reduced decode
    whose size is not a multiple of the scale, a reversed axis is off by under one reduced
    pixel.)
    """
    pixels = luma.pixels
    flips = {
        (False, False): pixels,
        (True, False): pixels[::-1, :],
        (False, True): pixels[:, ::-1],
        (True, True): pixels[::-1, ::-1],
    }
    sampled = {
        key: _samples(Luma(view, luma.width, luma.height, luma.scale))
        for key, view in flips.items()
    }
    coefficients = {key: _dct(samples) for key, samples in sampled.items()}
    quality = {key: _quality(samples) for key, samples in sampled.items()}
    out = []
    for variant, (key, transposed) in _TURNS.items():
        c = coefficients[key].T if transposed else coefficients[key]
        out.append(PdqResult(Hash.from_bits(_threshold(c)), quality[key], variant.value))
    return out


# variant -> ((rows reversed, columns reversed), then transposed), matching _transform
_TURNS = {
    Dihedral.ORIGINAL: ((False, False), False),
    Dihedral.ROTATE_90: ((False, True), True),
    Dihedral.ROTATE_180: ((True, True), False),
    Dihedral.ROTATE_270: ((True, False), True),
    Dihedral.FLIP_X: ((True, False), False),
    Dihedral.FLIP_Y: ((False, True), False),
    Dihedral.FLIP_PLUS_1: ((False, False), True),
    Dihedral.FLIP_MINUS_1: ((True, True), True),
}


# Centred crops banked beside the plain hash: PDQ alone misses crops past ~1.25% per side.
DEFAULT_CROPS = (0.025, 0.05, 0.075, 0.1)


def crop_hashes(luma: Luma, crops: tuple[float, ...] = DEFAULT_CROPS) -> list[PdqResult]:
    """Hashes of centred crops (fraction cut from each side), for crop-robust banking."""
    out = []
    for crop in crops:
        if not 0.0 < crop < 0.4:
            raise ValueError(f"crop fraction must be in (0, 0.4), got {crop}")
        result = hash_luma(luma, crop=crop)
        out.append(PdqResult(result.hash, result.quality, f"crop_{round(crop * 1000)}"))
    return out


def signal_type() -> SignalType:
    return SignalType.PDQ
