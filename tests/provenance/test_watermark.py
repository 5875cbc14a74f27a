"""The watermark: round trips, every required edit, unmarked images, bounds and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bastion.errors import InvalidInput
from bastion.provenance import ecc
from bastion.provenance.watermark import (
    THRESHOLD,
    Payload,
    Watermarker,
    p_value,
)
from tests.provenance import images

KEY = b"test-watermark-key"


@pytest.fixture(scope="module")
def marker() -> Watermarker:
    return Watermarker(KEY)


@pytest.fixture(scope="module")
def marked(marker: Watermarker) -> dict[str, tuple[np.ndarray, Payload]]:
    out = {}
    for index, name in enumerate(("astronaut", "coffee", "rocket")):
        payload = Payload(issuer=7 + index, output_id=0x9E3779B9 ^ (index * 0x01010101))
        out[name] = (marker.embed(images.photo(name), payload), payload)
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * math.log10(255**2 / mse)


def test_payload_bits_round_trip() -> None:
    payload = Payload(issuer=65535, output_id=0x01234567)
    bits = np.array(payload.bits(), dtype=np.int8)
    assert len(bits) == 64
    assert Payload.from_bits(bits) == payload
    bits[3] ^= 1
    assert Payload.from_bits(bits) is None  # the CRC catches a flipped bit


@pytest.mark.parametrize(("issuer", "output_id"), [(-1, 0), (1 << 16, 0), (0, 1 << 32)])
def test_payload_range_is_checked(issuer: int, output_id: int) -> None:
    with pytest.raises(InvalidInput):
        Payload(issuer=issuer, output_id=output_id)


def test_convolutional_code_corrects_noise() -> None:
    rng = np.random.default_rng(0)
    message = rng.integers(0, 2, 64).astype(np.int8)
    coded = ecc.encode(message)
    soft = (2.0 * coded - 1.0) + rng.normal(0, 0.6, coded.size)
    assert (ecc.decode(soft, 64) == message).all()
    with pytest.raises(ValueError):
        ecc.decode(soft[:-1], 64)


def test_mark_is_invisible_by_psnr(marked: dict[str, tuple[np.ndarray, Payload]]) -> None:
    for name, (pixels, _) in marked.items():
        assert psnr(images.photo(name), pixels) >= 40.0, name


@pytest.mark.parametrize("transform", sorted(images.TRANSFORMS))
def test_survives_required_edits(
    marker: Watermarker, marked: dict[str, tuple[np.ndarray, Payload]], transform: str
) -> None:
    for name, (pixels, payload) in marked.items():
        detection = marker.detect(images.TRANSFORMS[transform](pixels))
        assert detection.detected, (name, transform, detection.statistic)
        assert detection.payload == payload
        assert detection.statistic >= THRESHOLD
        assert detection.score > 1 - 1e-6


def test_grey_images_are_marked_too(marker: Watermarker) -> None:
    grey = images.photo("camera")[..., 0].copy()
    payload = Payload(issuer=1, output_id=42)
    marked = marker.embed(grey, payload)
    assert marked.shape == grey.shape
    assert marker.detect(images.jpeg(np.stack([marked] * 3, -1), 60)).payload == payload


def test_unmarked_images_are_not_detected(marker: Watermarker) -> None:
    unmarked = [images.photo(name) for name in images.PHOTOS]
    unmarked += [images.drawing(seed) for seed in range(4)]
    unmarked += [images.noise(seed) for seed in range(2)]
    unmarked.append(images.photo("astronaut", (512, 512)))
    for pixels in unmarked:
        for transform in ("none", "jpeg_q50", "crop_10_per_side"):
            detection = marker.detect(images.TRANSFORMS[transform](pixels))
            assert not detection.detected
            assert detection.payload is None
            assert detection.score == 0.0
            assert detection.statistic < THRESHOLD


def test_another_key_does_not_read_the_mark(marked: dict[str, tuple[np.ndarray, Payload]]) -> None:
    other = Watermarker(b"another key")
    for pixels, _ in marked.values():
        assert not other.detect(pixels).detected


def test_false_positive_bound_is_stated() -> None:
    assert 10 < THRESHOLD < 12
    assert p_value(THRESHOLD) == pytest.approx(1e-6, rel=1e-6)
    assert p_value(0.0) == 1.0
    assert p_value(25.0) < 1e-100


def test_small_or_odd_images_are_refused_or_not_detected(marker: Watermarker) -> None:
    with pytest.raises(InvalidInput):
        marker.embed(images.photo("astronaut", (200, 300)), Payload(1, 1))
    with pytest.raises(InvalidInput):
        marker.embed(np.zeros((300, 300, 4), np.uint8), Payload(1, 1))
    with pytest.raises(InvalidInput):
        marker.detect(np.zeros((300, 300), np.float32))  # type: ignore[arg-type]
    assert not marker.detect(np.zeros((40, 30, 3), np.uint8)).detected
    assert not marker.detect(np.full((600, 800, 3), 255, np.uint8)).detected


def test_constructor_validates() -> None:
    with pytest.raises(ValueError):
        Watermarker(b"")
    with pytest.raises(ValueError):
        Watermarker(KEY, strength=20)


@pytest.mark.parametrize("size", [(2048, 256), (1024, 1024), (300, 300)])
def test_wide_square_and_small_images(marker: Watermarker, size: tuple[int, int]) -> None:
    payload = Payload(issuer=2, output_id=0xCAFE)
    pixels = marker.embed(images.photo("rocket", size), payload)
    for transform in ("none", "jpeg_resize_jpeg", "crop_10_per_side"):
        assert marker.detect(images.TRANSFORMS[transform](pixels)).payload == payload
