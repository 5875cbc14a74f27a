"""What the stay-down wiring costs an upload scan, beside a baseline in the same run.

One guard on SQLite; a bank of kind ``ncii`` holding one sample photo. Rows, each timed over
the same uploads in interleaved rounds (medians and p99 in ms):

* ``allowed, no removed_content`` (baseline) and ``allowed upload``: a photo no bank knows,
  scanned by a guard without and with the ``removed_content`` detector (its SHA-256 lookup
  is the new work);
* ``blocked, no case effect`` (baseline): a re-upload of the banked photo with the guard's
  effects minus ``OpenCaseEffect``;
* ``blocked, case effect``: the same with ``OpenCaseEffect`` (the first scan opens the case;
  the rest find it open and add nothing).

    .venv/bin/python bench/stay_down_scan.py [--rounds 5] [--scans 100]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bastion.guard import Guard
from bastion.settings import Settings
from bastion.testing.images import jpeg, sample_photo
from bastion.workflow.effects import OpenCaseEffect


def timed(guard: Guard, data: bytes, scans: int) -> list[float]:
    out = []
    for _ in range(scans):
        start = time.perf_counter()
        guard.scan_upload(data)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scans", type=int, default=100, help="per row and round")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bastion-bench-"))
    settings = Settings.load(data_dir=data_dir, secret_key="bench-secret-0123456789abcdef")
    guard = Guard.from_settings(settings)
    plain = Guard.from_settings(
        settings.model_copy(update={"detectors": ["hash_match", "prompt_lexicon"]})
    )
    try:
        guard.banks.create_bank("known", "ncii")
        banked = jpeg(sample_photo("chelsea"), 90)
        guard.banks.add_image("known", banked, added_by="bench")
        reupload = jpeg(sample_photo("chelsea"), 70)
        allowed = jpeg(sample_photo("coffee"), 80)
        with_case = guard.effects
        without_case = tuple(e for e in with_case if not isinstance(e, OpenCaseEffect))
        timed(guard, reupload, 10)  # warm up; opens the case
        rows: dict[str, list[float]] = {
            "allowed, no removed_content": [],
            "allowed upload": [],
            "blocked, no case effect": [],
            "blocked, case effect": [],
        }
        timed(plain, allowed, 10)
        for _ in range(args.rounds):
            rows["allowed, no removed_content"] += timed(plain, allowed, args.scans)
            rows["allowed upload"] += timed(guard, allowed, args.scans)
            guard.effects = without_case
            rows["blocked, no case effect"] += timed(guard, reupload, args.scans)
            guard.effects = with_case
            rows["blocked, case effect"] += timed(guard, reupload, args.scans)
        print(f"{'scan_upload':<30}{'p50 ms':>9}{'p99 ms':>9}{'n':>7}")
        for name, samples in rows.items():
            p99 = sorted(samples)[max(0, int(len(samples) * 0.99) - 1)]
            print(f"{name:<30}{statistics.median(samples):>9.2f}{p99:>9.2f}{len(samples):>7}")
    finally:
        plain.close()
        guard.close()


if __name__ == "__main__":
    main()
