"""Finding the watermark's tile grid again after resizing and cropping.

The mark repeats one tile across the image, so the image's spectrum carries a lattice of lines
at every multiple of 1/period. The detector works on a whitened luminance image at a fixed
working size, flattens its power spectrum (each bin divided by its neighbourhood's mean) and
scores candidate periods by the mean flattened power on the lattice of tile harmonics (a comb).
The best periods are refined per axis (so a mild change of aspect ratio is followed), the image
is resampled so that one period is exactly 64 pixels, and all tiles are averaged into one
("folded"). Cropping only shifts the folded tile cyclically; that shift is found by correlating
with the pilot chips.

None of this depends on the key except the pilot correlation, so the period candidates of an
unmarked image say nothing about any particular key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
import scipy.fft

from bastion.provenance.tiles import CANONICAL, CHIPS, Floats, Layout, band_mask

WORKING_SIDE = 512  # the detector's longest side, in pixels …
WORKING_SHORT_SIDE = 192  # … unless that would leave the shortest side under this
MIN_PERIOD = 44.0  # working pixels per tile that the search considers
MAX_PERIOD = 180.0
MAX_ASPECT = 0.2  # log-ratio of horizontal to vertical period followed (about ±20 %)
_PAD = 2  # spectrum oversampling
_FLATTEN = 15 * _PAD  # neighbourhood (bins) used to flatten the spectrum
_HARMONICS = CHIPS // 2


def _lattice() -> tuple[Floats, Floats]:
    k = np.arange(-_HARMONICS, _HARMONICS + 1)
    grid_x, grid_y = np.meshgrid(k, k, indexing="xy")
    kx, ky = grid_x.ravel(), grid_y.ravel()
    keep = ((kx > 0) | ((kx == 0) & (ky > 0))) & (np.abs(kx) + np.abs(ky) >= 2)
    return kx[keep].astype(np.float32), ky[keep].astype(np.float32)


_KX, _KY = _lattice()


def working_scale(height: int, width: int) -> float:
    """Longest side to WORKING_SIDE, but keep very wide images at least WORKING_SHORT_SIDE
    high (their tiles follow the short side); never upscale."""
    return min(1.0, max(WORKING_SIDE / max(height, width), WORKING_SHORT_SIDE / min(height, width)))


def working_image(gray: npt.NDArray[np.uint8]) -> Floats:
    """Downscale luminance to the working size (never up) and whiten it.

    Whitening subtracts a local mean (removing the image's own low frequencies, where most of
    its energy is) and divides by the local energy of what is left, so textured and flat areas
    weigh alike.
    """
    height, width = gray.shape
    scale = working_scale(height, width)
    luma = gray.astype(np.float32)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        luma = np.asarray(cv2.resize(luma, size, interpolation=cv2.INTER_AREA), np.float32)
    residual = luma - cv2.GaussianBlur(luma, (0, 0), 1.2)
    energy = cv2.GaussianBlur(residual * residual, (0, 0), 2.5)
    whitened: Floats = residual / np.sqrt(energy + 1.0)
    return whitened


@dataclass(frozen=True)
class Spectrum:
    flat: Floats  # flattened power, oversampled
    peaks: Floats  # the same, 3 × 3 maximum (tolerant of a coarse period grid)
    rows: int
    cols: int


def spectrum(image: Floats) -> Spectrum:
    height, width = image.shape
    shape = (height * _PAD, width * _PAD)
    transform = scipy.fft.rfft2(image - image.mean(), s=shape)
    power = (transform.real**2 + transform.imag**2).astype(np.float32)
    local = cv2.boxFilter(power, -1, (_FLATTEN, _FLATTEN), borderType=cv2.BORDER_REFLECT)
    flat = (power / (local + 1e-12)).astype(np.float32)
    peaks = np.asarray(cv2.dilate(flat, np.ones((3, 3), np.uint8)), np.float32)
    return Spectrum(flat, peaks, shape[0], shape[1])


def _comb(
    power: Floats, spec: Spectrum, px: Floats, py: Floats, *, smooth: bool
) -> npt.NDArray[np.float32]:
    """Mean power on the tile-harmonic lattice for each (px[i], py[i]) pair of periods."""
    cols = power.shape[1]
    fx = _KX[None, :] * (spec.cols / px[:, None])
    fy = _KY[None, :] * (spec.rows / py[:, None])
    limit = cols - 2
    inside = (fx <= limit) & (np.abs(fy) < spec.rows / 2)
    np.minimum(fx, limit, out=fx)
    flat = power.ravel()
    if not smooth:
        rows = np.rint(fy).astype(np.intp) % spec.rows
        values = flat.take(rows * cols + np.rint(fx).astype(np.intp))
    else:
        x0 = fx.astype(np.intp)  # fx >= 0
        y0 = np.floor(fy).astype(np.intp)
        ax = fx - x0
        ay = fy - y0
        top = (y0 % spec.rows) * cols + x0
        bottom = ((y0 + 1) % spec.rows) * cols + x0
        upper = flat.take(top) * (1 - ax) + flat.take(top + 1) * ax
        lower = flat.take(bottom) * (1 - ax) + flat.take(bottom + 1) * ax
        values = upper + (lower - upper) * ay
    counts = inside.sum(axis=1)
    totals = (values * inside).sum(axis=1)
    return np.where(counts >= 16, totals / np.maximum(counts, 1), 0.0).astype(np.float32)


def candidates(spec: Spectrum, count: int) -> list[float]:
    """The ``count`` most periodic tile sizes (same on both axes), at least 2 % apart."""
    grid = np.exp(np.arange(math.log(MIN_PERIOD), math.log(MAX_PERIOD), 0.004)).astype(np.float32)
    scores = _comb(spec.peaks, spec, grid, grid, smooth=False)
    chosen: list[float] = []
    for index in np.argsort(-scores):
        period = float(grid[index])
        if scores[index] <= 0:
            break
        if all(abs(math.log(period / other)) >= 0.02 for other in chosen):
            chosen.append(period)
        if len(chosen) == count:
            break
    return chosen


def refine(spec: Spectrum, period: float) -> tuple[float, float]:
    """The horizontal and vertical period near ``period``, to a fraction of a bin."""
    return _refine(spec, *_aspect(spec, period))


def _aspect(spec: Spectrum, period: float) -> tuple[float, float]:
    """The best horizontal and vertical periods when one of them, or their mean, is
    ``period`` (a uniform candidate may have locked onto either axis of a stretched image)."""
    ratios = np.linspace(-MAX_ASPECT, MAX_ASPECT, 41).astype(np.float32)
    fixed = np.full_like(ratios, period)
    px = np.concatenate([period * np.exp(ratios / 2), fixed, period * np.exp(ratios)])
    py = np.concatenate([period * np.exp(-ratios / 2), period * np.exp(ratios), fixed])
    best = int(
        np.argmax(
            _comb(spec.peaks, spec, px.astype(np.float32), py.astype(np.float32), smooth=False)
        )
    )
    return float(px[best]), float(py[best])


def _refine(spec: Spectrum, px: float, py: float) -> tuple[float, float]:
    """Sub-bin refinement of each axis on the unsmoothed spectrum (parabolic peak)."""
    span, steps = 0.012, 13
    for _ in range(2):
        offsets = np.linspace(-span, span, steps)
        for axis in (0, 1):
            base = px if axis == 0 else py
            grid = (base * np.exp(offsets)).astype(np.float32)
            other = np.full_like(grid, py if axis == 0 else px)
            scores = (
                _comb(spec.flat, spec, grid, other, smooth=True)
                if axis == 0
                else _comb(spec.flat, spec, other, grid, smooth=True)
            )
            i = int(np.argmax(scores))
            best = float(grid[i])
            if 0 < i < steps - 1:
                curve = scores[i - 1] - 2 * scores[i] + scores[i + 1]
                if curve < 0:
                    step = offsets[1] - offsets[0]
                    best *= math.exp(0.5 * (scores[i - 1] - scores[i + 1]) / curve * step)
            if axis == 0:
                px = best
            else:
                py = best
        span /= 4
    return px, py


def fold(image: Floats, px: float, py: float) -> npt.NDArray[np.complex64]:
    """Resample so one period is CANONICAL pixels, average all tiles, return the band-limited
    spectrum of the folded tile."""
    height, width = image.shape
    sx, sy = CANONICAL / px, CANONICAL / py
    out_w, out_h = max(1, math.floor(width * sx)), max(1, math.floor(height * sy))
    matrix = np.array([[sx, 0.0, 0.0], [0.0, sy, 0.0]], dtype=np.float32)
    resampled = cv2.warpAffine(image, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR)
    tiles_y, tiles_x = -(-out_h // CANONICAL), -(-out_w // CANONICAL)
    padded = np.zeros((tiles_y * CANONICAL, tiles_x * CANONICAL), dtype=np.float32)
    padded[:out_h, :out_w] = resampled
    covered = np.zeros_like(padded)
    covered[:out_h, :out_w] = 1.0
    total = padded.reshape(tiles_y, CANONICAL, tiles_x, CANONICAL).sum(axis=(0, 2))
    count = covered.reshape(tiles_y, CANONICAL, tiles_x, CANONICAL).sum(axis=(0, 2))
    folded = total / np.maximum(count, 1.0)
    spectrum_ = scipy.fft.fft2(folded.astype(np.float32)) * band_mask(CANONICAL)
    return np.asarray(spectrum_, dtype=np.complex64)


SHIFT_STEP = 0.5  # the alignment is chosen on a half-pixel grid (counted in the error bound)
ALIGNMENTS = int((CANONICAL / SHIFT_STEP) ** 2)  # per period candidate
_FINE = int(CANONICAL / SHIFT_STEP)


def align(folded: npt.NDArray[np.complex64], layout: Layout) -> tuple[float, float]:
    """The cyclic shift (canonical pixels, half-pixel grid) that best matches the pilots.

    The correlation's spectrum is band-limited, so zero-padding it to twice the size gives
    the correlation exactly at every half-pixel shift.
    """
    product = folded * layout.pilot_spectrum
    fine = np.zeros((_FINE, _FINE), dtype=np.complex64)
    k = np.fft.fftfreq(CANONICAL, 1 / CANONICAL).astype(int) % _FINE
    fine[np.ix_(k, k)] = product
    corr = np.real(scipy.fft.ifft2(fine))
    iy, ix = np.unravel_index(int(np.argmax(corr)), corr.shape)
    return iy * SHIFT_STEP, ix * SHIFT_STEP


def chips_at(folded: npt.NDArray[np.complex64], shift: tuple[float, float]) -> Floats:
    """Chip values of the folded tile read at the given cyclic shift (row-major, 1024)."""
    n = CANONICAL
    k = np.fft.fftfreq(n, 1 / n).astype(np.float32)
    ramp = np.exp(2j * np.pi * (k[:, None] * shift[0] + k[None, :] * shift[1]) / n)
    tile = np.real(scipy.fft.ifft2(folded * ramp))
    step = n // CHIPS
    chips: Floats = tile[::step, ::step].astype(np.float32).ravel()
    return chips
