"""PDQ from JPEG bytes: Bastion vs the pdqhash package (reference C++), same files, one run.

Prints per-file medians, the speed ratio and the Hamming distance between the two hashes.
Run: .venv/bin/python bench/pdq_speed.py [--side 1600] [--repeat 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import numpy as np
import pdqhash
from PIL import Image

from bastion.hashing import pdq
from bastion.hashing.signals import Hash
from bastion.testing.images import PHOTOS, jpeg, sample_photo


def reference(data: bytes) -> Hash:
    array = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    bits, _ = pdqhash.compute(array)
    return Hash.from_bits(bits)


def timed(fn: object, data: bytes, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(data)  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=1600, help="long side of the test JPEGs")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{'photo':<22}{'size':>11}{'pdqhash ms':>12}{'bastion ms':>12}{'ratio':>8}{'distance':>10}"
    )
    ratios, distances = [], []
    for name in PHOTOS:
        image = Image.fromarray(sample_photo(name))
        scale = args.side / max(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)))
        data = jpeg(np.asarray(image), quality=90)
        ref_ms = timed(reference, data, args.repeat)
        ours_ms = timed(pdq.hash_bytes, data, args.repeat)
        distance = reference(data).distance(pdq.hash_bytes(data).hash)
        ratios.append(ref_ms / ours_ms)
        distances.append(distance)
        size = f"{image.width}x{image.height}"
        print(
            f"{name:<22}{size:>11}{ref_ms:>12.2f}{ours_ms:>12.2f}"
            f"{ref_ms / ours_ms:>8.1f}{distance:>10}"
        )
    print(
        f"\nmedian speed-up {statistics.median(ratios):.1f}x (min {min(ratios):.1f}x); "
        f"distance to pdqhash: max {max(distances)}, median {statistics.median(distances)}"
    )


if __name__ == "__main__":
    main()
