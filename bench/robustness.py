"""Recall on edited copies of the sample photos and false matches on ≥ 10,000 distractors.

Banks every sample photo (plain hash + centred crops), then looks up JPEG q50, 50 % downscale,
mirror, 5 % crop per side and a re-encode chain of each (mirror via the query's dihedral
variants), and N distractors (crops of other photos, drawn scenes, noise). Also measures the
false-match cost of the crop strategy: distractor matches with and without crop variants, and
the closest distance any distractor comes to a banked hash.

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
from bastion.hashing.index import MAX_RADIUS
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
    print(f"{'transform':<17}{'photos':>8}{'recall':>8}{'without crops':>15}{'textures':>10}")
    total = hit = 0
    for name, transform in TRANSFORMS.items():
        row = []
        for banks, group in ((with_crops, PHOTOS), (plain, PHOTOS), (with_crops, TEXTURES)):
            found = sum(
                p in {m.entry.note for m in banks.lookup_image(transform(sample_photo(p))).matches}
                for p in group
            )
            row.append(found / len(group))
            if banks is with_crops and group is PHOTOS:
                total, hit = total + len(group), hit + found
        print(f"{name:<17}{len(PHOTOS):>8}{row[0]:>8.2f}{row[1]:>15.2f}{row[2]:>10.2f}")
    print(f"overall recall (photos, with crop variants): {hit}/{total} = {hit / total:.3f}")
    start = time.perf_counter()
    false_crops = false_plain = 0
    closest = 256
    for data in distractors(args.distractors, seed=11):
        plain_hash, queries = with_crops.query_hashes(data)
        if plain_hash.quality < with_crops.min_quality:
            continue
        false_crops += bool(with_crops.match(queries).matches)
        false_plain += bool(plain.match(queries).matches)
        for q in queries:
            for h in with_crops.matcher.search(q.hash.value, MAX_RADIUS):
                closest = min(closest, h.distance)
    took = time.perf_counter() - start
    print(
        f"distractors: {args.distractors} in {took:.0f} s; false matches with crop variants "
        f"{false_crops}, without {false_plain}; closest distractor distance "
        f"{'> 31' if closest == 256 else closest}"
    )


if __name__ == "__main__":
    main()
