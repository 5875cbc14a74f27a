"""The watermark tile: which chips carry pilots and which carry coded bits, and how a grid of
chip values becomes a smooth, periodic pattern.

A tile is a 32 × 32 grid of chips. A secret key chooses, by a seeded permutation, 184 pilot
chips (known values, used to find the tile's position) and four chips for each of the 210
coded bits, and gives every chip a pseudo-random sign. The chip grid is turned into pixels by
periodic band-limited interpolation (zero-padding its 2-D spectrum), so a tile of any size has
exactly the chip values at the chip centres, no energy above 16 cycles per tile, and chips
that stay orthogonal at the right alignment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
import scipy.fft

from bastion.provenance import ecc

CHIPS = 32  # chips per tile side
CHIP_COUNT = CHIPS * CHIPS
MESSAGE_BITS = 64
CODED_BITS = ecc.coded_length(MESSAGE_BITS)  # 210
CHIPS_PER_BIT = 4
PILOT_COUNT = CHIP_COUNT - CODED_BITS * CHIPS_PER_BIT  # 184
CANONICAL = 2 * CHIPS  # tile side, in pixels, where the detector reads chips (2 px per chip)
_DOMAIN = b"bastion-watermark-v1"

Floats = npt.NDArray[np.float32]


def _expand(spectrum: npt.NDArray[np.complex64], size: int, axis: int) -> npt.NDArray[np.complex64]:
    """Zero-pad a spectrum along ``axis`` to ``size`` samples, splitting the Nyquist bin."""
    n = spectrum.shape[axis]
    half = n // 2
    shape = list(spectrum.shape)
    shape[axis] = size
    out = np.zeros(shape, dtype=np.complex64)

    def at(start: int, stop: int) -> tuple[slice, ...]:
        index = [slice(None)] * spectrum.ndim
        index[axis] = slice(start, stop)
        return tuple(index)

    out[at(0, half)] = spectrum[at(0, half)]
    out[at(size - half + 1, size)] = spectrum[at(half + 1, n)]
    out[at(half, half + 1)] += spectrum[at(half, half + 1)] / 2
    out[at(size - half, size - half + 1)] += spectrum[at(half, half + 1)] / 2
    return out


def upsample(chips: Floats, size: int) -> Floats:
    """Periodic band-limited interpolation of a chip grid to a ``size`` × ``size`` tile."""
    n = chips.shape[0]
    spectrum = scipy.fft.fft2(chips.astype(np.float32))
    wide = _expand(_expand(spectrum, size, 0), size, 1)
    tile = np.real(scipy.fft.ifft2(wide)) * (size / n) ** 2
    return np.asarray(tile, dtype=np.float32)


def band_mask(size: int) -> npt.NDArray[np.bool_]:
    """Frequencies a tile of ``size`` pixels can hold: at most CHIPS/2 cycles per tile."""
    k = np.abs(np.fft.fftfreq(size, 1 / size))
    inside = k <= CHIPS // 2
    mask: npt.NDArray[np.bool_] = inside[:, None] & inside[None, :]
    return mask


@dataclass(frozen=True)
class Layout:
    """The key-dependent arrangement of pilots, coded bits and chip signs."""

    key: bytes = field(repr=False)

    @cached_property
    def _arrangement(self) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], Floats]:
        seed = hashlib.sha256(_DOMAIN + b"\0" + self.key).digest()
        rng = np.random.default_rng(np.frombuffer(seed, dtype=np.uint32))
        order = rng.permutation(CHIP_COUNT)
        signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), CHIP_COUNT)
        pilots = np.sort(order[:PILOT_COUNT])
        data = order[PILOT_COUNT:].reshape(CHIPS_PER_BIT, CODED_BITS)
        return pilots, data, signs

    @property
    def pilots(self) -> npt.NDArray[np.intp]:
        return self._arrangement[0]

    @property
    def data(self) -> npt.NDArray[np.intp]:
        """Chip indices of each coded bit: column ``b`` holds the chips of bit ``b``."""
        return self._arrangement[1]

    @property
    def signs(self) -> Floats:
        return self._arrangement[2]

    def chip_values(self, coded: npt.NDArray[np.int8]) -> Floats:
        """±1 per chip: pilots carry their sign, data chips their sign times the coded bit."""
        values = self.signs.copy()
        values[self.data] *= (2.0 * coded.astype(np.float32) - 1.0)[None, :]
        return values

    def tile(self, coded: npt.NDArray[np.int8], size: int) -> Floats:
        """The pixel tile for ``coded`` bits, scaled to unit RMS."""
        tile = upsample(self.chip_values(coded).reshape(CHIPS, CHIPS), size)
        return np.asarray(tile / np.sqrt(np.mean(tile * tile)), dtype=np.float32)

    @cached_property
    def pilot_spectrum(self) -> npt.NDArray[np.complex64]:
        """Conjugate spectrum of the pilot-only tile at the canonical size (for correlation)."""
        chips = np.zeros(CHIP_COUNT, dtype=np.float32)
        chips[self.pilots] = self.signs[self.pilots]
        tile = upsample(chips.reshape(CHIPS, CHIPS), CANONICAL)
        return np.asarray(np.conj(scipy.fft.fft2(tile)), dtype=np.complex64)

    def soft_bits(self, chips: Floats) -> Floats:
        """Per coded bit, the sum of its chips with the key's signs removed."""
        return np.asarray((self.signs[self.data] * chips[self.data]).sum(axis=0), np.float32)

    def pilot_values(self, chips: Floats) -> Floats:
        return (self.signs[self.pilots] * chips[self.pilots]).astype(np.float32)
