"""Bastion's invisible watermark: a tiled spread-spectrum mark with a synchronisation lattice.

**Payload.** 64 bits: a 16-bit issuer id, a 32-bit per-output id and a CRC-16, protected by a
rate-1/3 convolutional code (210 coded bits) and spread over four chips each.

**Embedding.** The 32 × 32-chip tile (see :mod:`bastion.provenance.tiles`) is interpolated to a
period of ``max(128, longest side / n)`` pixels (at most half the shortest side; n = 6, 7 or 8
as the image is flatter or busier), repeated over the image and added to the luminance (the
same amount to R, G and B, so colours keep their hue), scaled by a texture mask so that flat
areas get less. The mark lives below about a ninth of the sampling rate, which is what
survives halving the image and JPEG's coarse quantisation.

**Detection.** :mod:`bastion.provenance.sync` finds the tile period from the spectrum, folds
the image into one tile and finds the shift with the pilot chips. The coded bits are decoded
with a soft Viterbi decoder; the message must pass its CRC; the decision statistic is

    S = Σ_k e_k · c_k / sqrt(Σ_k c_k²)

over all 1024 chip readings ``c_k``, where ``e_k`` are the chip signs the decoded message
predicts. For an unmarked image the key's signs are independent of the image, so for any one
alignment and any one message ``S`` is a normalised Rademacher sum and Hoeffding's inequality
gives P(S ≥ t) ≤ exp(−t²/2). The detector tries ``CANDIDATES × ALIGNMENTS`` alignments and
2^48 messages with a valid CRC, so the false-positive probability of one detection is at most
``N · exp(−t²/2)`` with N = 2 · 16384 · 2^48 = 2^63. :data:`THRESHOLD` makes that bound
1e-6; ``Detection.p_value`` reports it for the observed S.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from bastion.errors import InvalidInput
from bastion.provenance import ecc, sync
from bastion.provenance.tiles import CHIPS_PER_BIT, MESSAGE_BITS, PILOT_COUNT, Layout

ISSUER_BITS = 16
OUTPUT_ID_BITS = 32
CRC_BITS = 16
CANDIDATES = 2  # period candidates decoded per image
MIN_SIDE = 256  # shortest side that can carry a reliable mark
MIN_PERIOD = 128  # pixels per tile in the marked image
# Tiles along the longest side, by the share of flat pixels (local deviation under 2 levels):
# busy images keep the mark at higher frequencies, where their own texture is weaker; flat ones
# (drawings, skies) at lower frequencies, which JPEG keeps even where the image is flat.
TILES_BY_FLATNESS = ((0.8, 6), (0.4, 7), (0.0, 8))
_FLAT_LEVEL = 2.0
DEFAULT_STRENGTH = 2.3  # RMS change of luminance, in 8-bit levels (about 41 dB PSNR)
_MASK_WINDOW = 9
_MASK_FLOOR = 4.0
_MASK_EXPONENT = 0.7
_MASK_CAP = 3.0

_LOG_TRIALS = math.log(CANDIDATES * sync.ALIGNMENTS) + (ISSUER_BITS + OUTPUT_ID_BITS) * math.log(2)
TARGET_FALSE_POSITIVE = 1e-6
THRESHOLD = math.sqrt(2 * (_LOG_TRIALS - math.log(TARGET_FALSE_POSITIVE)))


def p_value(statistic: float) -> float:
    """Upper bound on the chance that an unmarked image scores ``statistic`` or more."""
    if statistic <= 0:
        return 1.0
    return min(1.0, math.exp(_LOG_TRIALS - statistic * statistic / 2))


@dataclass(frozen=True, slots=True)
class Payload:
    """What the mark carries: who marked it and which output it is."""

    issuer: int
    output_id: int

    def __post_init__(self) -> None:
        if not 0 <= self.issuer < 1 << ISSUER_BITS:
            raise InvalidInput(f"watermark issuer must be in 0..{(1 << ISSUER_BITS) - 1}")
        if not 0 <= self.output_id < 1 << OUTPUT_ID_BITS:
            raise InvalidInput(f"output id must be in 0..{(1 << OUTPUT_ID_BITS) - 1}")

    @property
    def output_hex(self) -> str:
        return f"{self.output_id:08x}"

    def bits(self) -> list[int]:
        value = self.issuer << OUTPUT_ID_BITS | self.output_id
        data = [(value >> (ISSUER_BITS + OUTPUT_ID_BITS - 1 - i)) & 1 for i in range(48)]
        crc = ecc.crc16(data)
        return data + [(crc >> (CRC_BITS - 1 - i)) & 1 for i in range(CRC_BITS)]

    def to_bytes(self) -> bytes:
        return self.issuer.to_bytes(2, "big") + self.output_id.to_bytes(4, "big")

    @classmethod
    def from_bits(cls, bits: npt.NDArray[np.int8]) -> Payload | None:
        """The payload if the CRC holds, else None."""
        data = [int(b) for b in bits[: ISSUER_BITS + OUTPUT_ID_BITS]]
        crc = int("".join(str(int(b)) for b in bits[ISSUER_BITS + OUTPUT_ID_BITS :]), 2)
        if ecc.crc16(data) != crc:
            return None
        value = int("".join(map(str, data)), 2)
        return cls(issuer=value >> OUTPUT_ID_BITS, output_id=value & ((1 << OUTPUT_ID_BITS) - 1))


@dataclass(frozen=True, slots=True)
class Detection:
    """The detector's verdict on one image."""

    detected: bool
    statistic: float  # S above; compare with THRESHOLD
    p_value: float  # bound on the false-positive probability at this statistic
    payload: Payload | None = None
    period: tuple[float, float] | None = None  # working-size pixels per tile (x, y)
    # Share of the 210 coded bits read correctly before error correction (0.5 = chance).
    coded_agreement: float | None = None
    # The decoded 64-bit message (payload and CRC), kept even when nothing was detected, for
    # measuring bit accuracy; never reported.
    message: int | None = field(default=None, repr=False)

    @property
    def score(self) -> float:
        """Calibrated confidence in [0, 1]: one minus the false-positive bound."""
        return 1.0 - self.p_value if self.detected else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "detected": self.detected,
            "score": round(self.score, 9),
            "statistic": round(self.statistic, 3),
            "threshold": round(THRESHOLD, 3),
            "p_value": float(f"{self.p_value:.3g}"),
            "issuer": self.payload.issuer if self.payload else None,
            "output_id": self.payload.output_hex if self.payload else None,
        }


class Watermarker:
    """Embeds and detects Bastion's watermark under one key."""

    def __init__(self, key: bytes, *, strength: float = DEFAULT_STRENGTH) -> None:
        if not key:
            raise ValueError("the watermark key must not be empty")
        if not 0.5 <= strength <= 8.0:
            raise ValueError("watermark strength must be between 0.5 and 8 (8-bit levels)")
        self.layout = Layout(key)
        self.strength = strength
        _ = self.layout.pilot_spectrum  # build the key's tables now, not on the first request

    # -- embedding ----------------------------------------------------------------------------

    def embed(self, pixels: npt.NDArray[np.uint8], payload: Payload) -> npt.NDArray[np.uint8]:
        """Return a marked copy of ``pixels`` (H×W grey or H×W×3 RGB, uint8)."""
        gray = _luma(pixels)
        height, width = gray.shape
        if min(height, width) < MIN_SIDE:
            raise InvalidInput(
                f"image is {width}×{height}; a watermark needs at least {MIN_SIDE} pixels "
                "on the shortest side",
                field="image",
            )
        mask, flat = _mask(gray)
        tiles = next(count for share, count in TILES_BY_FLATNESS if flat >= share)
        # A few tiles along the longest side, but at least two across the shortest one.
        longest, shortest = max(height, width), min(height, width)
        period = max(MIN_PERIOD, min(round(longest / tiles), shortest // 2))
        coded = ecc.encode(payload.bits())
        tile = self.layout.tile(coded, period)
        pattern = np.tile(tile, (-(-height // period), -(-width // period)))[:height, :width]
        delta = (self.strength * mask) * pattern
        if pixels.ndim == 3:
            delta = np.asarray(cv2.merge([delta, delta, delta]), np.float32)
        return np.asarray(cv2.add(pixels, delta, dtype=cv2.CV_8U), dtype=np.uint8)

    # -- detection ----------------------------------------------------------------------------

    def detect(self, pixels: npt.NDArray[np.uint8]) -> Detection:
        return self.detect_working(working_image(pixels))

    def detect_working(self, image: npt.NDArray[np.float32]) -> Detection:
        """Detect in a working image made by :func:`working_image` (small: the full-resolution
        pixels can be dropped once it is made)."""
        if min(image.shape) < 2 * sync.MIN_PERIOD:
            return Detection(detected=False, statistic=0.0, p_value=1.0)
        spec = sync.spectrum(image)
        best = Detection(detected=False, statistic=0.0, p_value=1.0)
        for period in sync.candidates(spec, CANDIDATES):
            found = self._decode(image, *sync.refine(spec, period))
            if found.detected:
                return found
            if found.statistic > best.statistic:
                best = found
        return best

    def _decode(self, image: npt.NDArray[np.float32], px: float, py: float) -> Detection:
        folded = sync.fold(image, px, py)
        chips = self._chips(folded)
        soft = self.layout.soft_bits(chips)
        bits = ecc.decode(soft / (float(np.std(soft)) or 1.0), MESSAGE_BITS)
        payload = Payload.from_bits(bits)
        coded = ecc.encode(bits)
        expected = self.layout.chip_values(coded)
        statistic = float(expected @ chips) / (float(np.sqrt(chips @ chips)) or 1.0)
        detected = payload is not None and statistic >= THRESHOLD
        return Detection(
            detected=detected,
            statistic=statistic,
            p_value=p_value(statistic),
            payload=payload if detected else None,
            period=(px, py),
            coded_agreement=float(np.mean((soft > 0) == (coded > 0))),
            message=int("".join(str(int(b)) for b in bits), 2),
        )

    def _chips(self, folded: npt.NDArray[np.complex64]) -> npt.NDArray[np.float32]:
        """Chip readings at the best half-pixel alignment.

        The pilots give the shift; the half-pixel neighbours of it are then compared by the
        energy all chips collect (pilot sum and coded-bit sums, each per chip), which uses the
        data chips too without decoding them. Every choice stays on the half-pixel grid that
        the false-positive bound counts.
        """
        base_y, base_x = sync.align(folded, self.layout)
        steps = (-sync.SHIFT_STEP, 0.0, sync.SHIFT_STEP)
        readings = [sync.chips_at(folded, (base_y + y, base_x + x)) for y in steps for x in steps]

        def energy(chips: npt.NDArray[np.float32]) -> float:
            pilots = float(self.layout.pilot_values(chips).sum())
            soft = self.layout.soft_bits(chips)
            return pilots * pilots / PILOT_COUNT + float(soft @ soft) / CHIPS_PER_BIT

        return max(readings, key=energy)


def working_image(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """The detector's input: luminance, downscaled to the working size and whitened."""
    return sync.working_image(_luma(pixels))


def _luma(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3):
        raise InvalidInput("pixels must be an H×W or H×W×3 uint8 array")
    if pixels.ndim == 2:
        return pixels
    if pixels.shape[2] != 3:
        raise InvalidInput("colour pixels must have 3 channels (RGB)")
    return np.asarray(cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def _mask(gray: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float32], float]:
    """Texture mask with unit RMS (more mark where the image is busy, less where it is flat),
    and the share of flat pixels.

    The local standard deviation is computed at half resolution (the mask is smooth) and
    scaled back up.
    """
    height, width = gray.shape
    small = cv2.resize(gray, ((width + 1) // 2, (height + 1) // 2), interpolation=cv2.INTER_AREA)
    luma = small.astype(np.float32)
    window = (_MASK_WINDOW // 2 + 1, _MASK_WINDOW // 2 + 1)
    mean = cv2.boxFilter(luma, -1, window)
    square = cv2.boxFilter(luma * luma, -1, window)
    local = np.sqrt(np.maximum(square - mean * mean, 0.0))
    flat = float(np.mean(local < _FLAT_LEVEL))
    small_mask = cv2.pow(local + _MASK_FLOOR, _MASK_EXPONENT)
    mask = np.asarray(cv2.resize(small_mask, (width, height), interpolation=cv2.INTER_LINEAR))
    mask = mask.astype(np.float32) * (1.0 / math.sqrt(float(np.mean(mask * mask))))
    capped = np.minimum(mask, np.float32(_MASK_CAP))
    # Back to unit RMS after capping, so every image gets the same PSNR budget.
    unit: npt.NDArray[np.float32] = capped * np.float32(1.0 / math.sqrt(float(np.mean(capped**2))))
    return unit, flat
