"""Recall on edited copies of the sample photos and false matches on ≥ 10,000 distractors.

Banks every sample photo (plain hash + centred crops), then looks up JPEG q50, 50 % downscale,
mirror, 5 % crop per side and a re-encode chain of each (mirror via the query's eight
mirrored/rotated variants), and N distractors (crops of the sample photos, drawn scenes,
noise). "worst d" is the largest distance at which an edited photo still matched its
original (the margin below the threshold of 31). Also measures the false-match cost of the
crop strategy: distractor matches with and without crop variants, and how close distractors
come to any banked hash (by brute force, not limited to the match radius). Textures (brick,
grass, gravel, a text page) are reported apart: PDQ, like the reference, is unstable on
near-periodic patterns under downscaling.

Run: .venv/bin/python bench/robustness.py [--distractors 10000]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time

import numpy as np
from PIL import Image

from bastion.hashing.banks import BankService
from bastion.hashing.index import MAX_RADIUS, as_codes
from bastion.storage.db import Database
from bastion.testing.images import distractors, jpeg, sample_photo

PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "camera",
    "hubble_deep_field",
    "coins",
    "moon",
    "retina",
    "immunohistochemistry",
)
TEXTURES = ("brick", "grass", "gravel", "page")  # near-periodic: PDQ (and the reference) struggle


def crop(a: np.ndarray, f: float) -> np.ndarray:
    h, w = a.shape[:2]
    return np.ascontiguousarray(a[round(h * f) : h - round(h * f), round(w * f) : w - round(w * f)])


def chain(data: bytes) -> bytes:
    for q in (85, 70, 60):
        out = io.BytesIO()
        Image.open(io.BytesIO(data)).convert("RGB").save(out, "JPEG", quality=q)
        data = out.getvalue()
    return data


TRANSFORMS = {
    "jpeg_q50": lambda a: jpeg(a, 50),
    "downscale_50": lambda a: jpeg(
        np.asarray(
            Image.fromarray(a).resize((a.shape[1] // 2, a.shape[0] // 2), Image.Resampling.LANCZOS)
        )
    ),
    "mirror": lambda a: jpeg(np.ascontiguousarray(a[:, ::-1])),
    "crop_5_per_side": lambda a: jpeg(crop(a, 0.05)),
    "reencode_chain": lambda a: chain(jpeg(a, 95)),
}


def service(crops: bool) -> BankService:
    db = Database(f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    db.migrate()
    banks = BankService(db, crops=(0.025, 0.05, 0.075, 0.1) if crops else ())
    banks.create_bank("known", "ncii")
    for name in PHOTOS + TEXTURES:
        banks.add_image("known", jpeg(sample_photo(name)), added_by="bench", note=name, crops=crops)
    return banks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--distractors", type=int, default=10_000)
    args = parser.parse_args()
    with_crops, plain = service(True), service(False)
    print(
        f"{'transform':<17}{'photos':>8}{'recall':>8}{'worst d':>9}{'without crops':>15}"
        f"{'textures':>10}"
    )
    total = hit = 0
    for name, transform in TRANSFORMS.items():
        row, worst = [], 0
        for banks, group in ((with_crops, PHOTOS), (plain, PHOTOS), (with_crops, TEXTURES)):
            found = 0
            for p in group:
                distances = [
                    m.distance
                    for m in banks.lookup_image(transform(sample_photo(p))).matches
                    if m.entry.note == p
                ]
                found += bool(distances)
                if banks is with_crops and group is PHOTOS:
                    worst = max(worst, min(distances, default=99))
            row.append(found / len(group))
            if banks is with_crops and group is PHOTOS:
                total, hit = total + len(group), hit + found
        print(f"{name:<17}{len(PHOTOS):>8}{row[0]:>8.2f}{worst:>9}{row[1]:>15.2f}{row[2]:>10.2f}")
    print(f"overall recall (photos, with crop variants): {hit}/{total} = {hit / total:.3f}")
    start = time.perf_counter()
    banked = as_codes([bytes.fromhex(r.hash) for r in with_crops.repository.index_rows()])
    false_crops = false_plain = skipped = 0
    closest: list[int] = []  # per distractor: the distance to the nearest banked hash
    for data in distractors(args.distractors, seed=11):
        plain_hash, queries = with_crops.query_hashes(data)
        if plain_hash.quality < with_crops.min_quality:
            skipped += 1
            continue
        false_crops += bool(with_crops.match(queries).matches)
        false_plain += bool(plain.match(queries).matches)
        codes = as_codes([q.hash.value for q in queries])
        distances = np.bitwise_count(codes[:, None, :] ^ banked[None, :, :]).sum(axis=2)
        closest.append(int(distances.min()))
    took = time.perf_counter() - start
    near = np.array(closest)
    print(
        f"distractors: {args.distractors} in {took:.0f} s ({skipped} below the quality "
        f"threshold, not matched); false matches with crop variants {false_crops}, "
        f"without {false_plain}"
    )
    print(
        f"distance from a distractor (8 query variants) to the nearest of {len(banked)} "
        f"banked hashes: min {near.min()}, 0.1% {np.percentile(near, 0.1):.0f}, "
        f"1% {np.percentile(near, 1):.0f}, median {np.median(near):.0f} "
        f"(match threshold {MAX_RADIUS})"
    )


if __name__ == "__main__":
    main()
