"""Memory under a decompression-bomb load (issue 9): eight concurrent ~40 Mpx single-colour
PNGs (~125 KB each) keep the process under 1.5 GB, and are screened, not timed out.

Each load runs in a fresh interpreter (:mod:`tests.bomb_load`), so this process's memory does
not count. 7300×5440 = 39.7 Mpx is under the default ``image_max_pixels`` (40 Mpx): accepted
and screened at full size. Past a lowered limit the same images are refused from the header,
before any pixel is decoded: a typed 413 and next to no memory.
"""

from __future__ import annotations

import sys

import pytest

from tests.bomb_load import measure

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux")

WIDTH, HEIGHT = 7300, 5440  # 39.7 Mpx, the largest such shape the default limit accepts
LIMIT_MB = 1500


@pytest.mark.parametrize("surface", ["upload", "generation"])
def test_eight_concurrent_40_mpx_pngs_stay_under_1_5_gb(surface: str) -> None:
    report = measure(8, WIDTH, HEIGHT, surface=surface)
    assert report["png_bytes"] < 200_000
    assert report["peak_rss_mb"] < LIMIT_MB, report
    for outcome in report["outcomes"]:
        # Screened: a decision with no detector failure (waiting for decode memory happens
        # before the detector deadlines), or at worst a typed 503, never a timeout.
        if "code" in outcome:
            assert outcome == {**outcome, "code": "image_decoder_busy", "status": 503}
        else:
            assert outcome["detector_errors"] == [], outcome
            assert outcome["action"] == "allow", outcome


def test_past_the_pixel_limit_they_are_refused_from_the_header() -> None:
    report = measure(8, WIDTH, HEIGHT, settings={"image_max_pixels": 16_000_000})
    assert [o["code"] for o in report["outcomes"]] == ["input_too_large"] * 8
    assert {o["status"] for o in report["outcomes"]} == {413}
    assert report["peak_rss_mb"] - report["rss_before_mb"] < 50, report
    assert report["seconds"] < 2, report


def test_a_short_wait_for_decode_memory_is_a_typed_503() -> None:
    """With room for one decode and no wait, the others are told to come back."""
    settings = {"image_decode_memory_mb": 450, "image_decode_wait_ms": 0}
    report = measure(8, WIDTH, HEIGHT, settings=settings)
    codes = {o.get("code", "decided") for o in report["outcomes"]}
    assert "image_decoder_busy" in codes, report
    assert codes <= {"decided", "image_decoder_busy"}, report
    assert all(not o.get("detector_errors") for o in report["outcomes"]), report
    # Growth, not the absolute peak: ru_maxrss is a high-water mark, and the warm-up before
    # the load may already have set it higher than one decode needs.
    assert report["peak_rss_mb"] - report["rss_before_mb"] < 700, report
