"""Untrusted bytes on the verify path: a report or a typed 4xx error, never a crash."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.decode import ImageLimits
from bastion.errors import BastionError
from bastion.guard import Guard
from bastion.provenance import imageio
from bastion.settings import Settings
from tests.conftest import TEST_SECRET
from tests.provenance import images

SEEDS = [
    images.encode(images.photo("coins", (320, 240)), "JPEG", quality=80),
    images.encode(images.photo("coins", (320, 240)), "PNG"),
    images.encode(images.photo("coins", (320, 240)), "WEBP", quality=80),
    images.encode(images.photo("coins", (320, 240)), "GIF"),
]


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guard]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    guard = Guard.from_settings(Settings.load(data_dir=data_dir, secret_key=TEST_SECRET))
    yield guard
    guard.close()


def check(guard: Guard, data: bytes) -> None:
    try:
        report = guard.verify(data)
    except BastionError as exc:
        status = exc.status
        assert 400 <= status < 500
        return
    assert report.c2pa.state in ("valid", "invalid", "untrusted", "absent")
    assert not report.watermark.detection.detected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_random_bytes(guard: Guard, data: bytes) -> None:
    check(guard, data)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SEEDS),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
    st.integers(16, 100_000),
)
def test_corrupted_images(
    guard: Guard, seed: bytes, flips: list[tuple[int, int]], keep: int
) -> None:
    data = bytearray(seed[:keep])
    for position, value in flips:
        data[position % len(data)] = value
    check(guard, bytes(data))


def test_decompression_bomb_is_refused() -> None:
    big = images.encode(images.noise(0, (2000, 1500)), "PNG")
    with pytest.raises(BastionError) as caught:
        imageio.decode(big, limits=ImageLimits(max_pixels=1_000_000))
    assert caught.value.code == "input_too_large"
