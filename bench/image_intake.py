"""The image intake beside its baselines, each in the same run (issue 9):

* **upload scan** — ``Guard.scan_upload`` (decode once, 8 turned PDQ hashes, index lookups in a
  bank of random hashes, policy, decision write) beside the bare ``bastion.hashing.pdq``
  hash of the same JPEG bytes (decode + one hash), interleaved image by image;
* **memory under a decompression-bomb load** — peak RSS of a fresh process scanning eight
  concurrent 7300×5440 single-colour PNGs (39.7 Mpx, ~125 KB each) beside the same process
  scanning one (``tests/bomb_load.py``: hash_match, the provenance detectors, a fake pixel
  reader).

    .venv/bin/python bench/image_intake.py [--rounds 5] [--bank-size 10000] [--detectors default]

Medians (p50) and 99th percentiles in ms; the machine is shared: rerun before quoting.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bastion.guard import Guard
from bastion.hashing import pdq
from bastion.hashing.model import EntryInput
from bastion.settings import Settings
from bastion.testing.images import jpeg, sample_photo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.bomb_load

# Sample photos without people in them.
PHOTOS = ("coffee", "chelsea", "rocket", "hubble_deep_field", "coins", "brick", "grass", "moon")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(name: str, samples: list[float], note: str = "") -> str:
    p50, p99 = statistics.median(samples), percentile(samples, 0.99)
    return f"| {name:<44} | {p50:7.2f} | {p99:7.2f} | {note}"


def upload_scan(rounds: int, bank_size: int, detectors: list[str] | None) -> list[str]:
    images = [jpeg(sample_photo(name)) for name in PHOTOS]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(
            data_dir=Path(tmp) / "data",
            secret_key="bench-secret-0123456789abcdef",
            detectors=detectors,
        )
        guard = Guard.from_settings(settings)
        guard.banks.create_bank("known", "ncii")
        hashes = np.random.default_rng(5).integers(0, 256, size=(bank_size, 32), dtype=np.uint8)
        guard.banks.import_entries(
            "known", (EntryInput(hash=h.tobytes().hex()) for h in hashes), added_by="bench"
        )
        for data in images[:2]:  # warm up both paths
            guard.scan_upload(data)
            pdq.hash_bytes(data)
        scan_ms: list[float] = []
        bare_ms: list[float] = []
        for _ in range(rounds):
            for data in images:
                start = time.perf_counter()
                decision = guard.scan_upload(data)
                middle = time.perf_counter()
                pdq.hash_bytes(data)
                end = time.perf_counter()
                assert decision.action.value == "allow", decision.rules
                scan_ms.append((middle - start) * 1000)
                bare_ms.append((end - middle) * 1000)
        guard.close()
    ratio = statistics.median(scan_ms) / statistics.median(bare_ms)
    return [
        f"upload scan: {len(images)} sample-photo JPEGs (their own sizes) × {rounds} rounds, "
        f"bank of {bank_size} hashes, detectors {detectors or 'default'}",
        "",
        "| path                                         | p50 ms  | p99 ms  |",
        "|----------------------------------------------|---------|---------|",
        row("Guard.scan_upload(jpeg)", scan_ms, f"{ratio:.1f} × the bare hash (p50)"),
        row("baseline: pdq.hash_bytes(jpeg)", bare_ms, "same bytes, interleaved"),
    ]


def bomb_memory() -> list[str]:
    from tests.bomb_load import measure

    one = measure(1, 7300, 5440)
    eight = measure(8, 7300, 5440)
    refused = measure(8, 7300, 5440, settings={"image_max_pixels": 16_000_000})
    decided = sum("action" in o for o in eight["outcomes"])
    failures = sum(len(o.get("detector_errors", ())) for o in eight["outcomes"])

    def line(name: str, report: dict[str, object], note: str = "") -> str:
        return (
            f"| {name:<44} | {report['rss_before_mb']:7.0f} | {report['peak_rss_mb']:7.0f} "
            f"| {report['seconds']:6.2f} | {note}"
        )

    growth = float(eight["peak_rss_mb"]) - float(eight["rss_before_mb"])
    single = float(one["peak_rss_mb"]) - float(one["rss_before_mb"])
    return [
        f"memory: 7300×5440 single-colour PNG, {one['png_bytes']} bytes, upload scans",
        "",
        "| load (fresh process each)                    | RSS MB  | peak MB | wall s |",
        "|----------------------------------------------|---------|---------|--------|",
        line("baseline: one scan", one),
        line(
            "eight concurrent scans",
            eight,
            f"{decided}/8 decided, {failures} detector failures; growth {growth:.0f} MB = "
            f"{growth / max(single, 1.0):.1f} × one scan's {single:.0f} MB",
        ),
        line("eight, image_max_pixels=16M (refused, 413)", refused),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bank-size", type=int, default=10_000)
    parser.add_argument(
        "--detectors", default="hash_match", help="comma-separated, or 'default' for all"
    )
    args = parser.parse_args()
    detectors = None if args.detectors == "default" else args.detectors.split(",")
    print(f"image intake: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}\n")
    print("\n".join(upload_scan(args.rounds, args.bank_size, detectors)), end="\n\n")
    print("\n".join(bomb_memory()))


if __name__ == "__main__":
    main()
