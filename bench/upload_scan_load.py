"""Upload scans over HTTP on loopback: requests/second at p99 < 100 ms, against a bank.

Starts `bastion serve` in a subprocess on 127.0.0.1 (a throw-away data directory, a bank of
N random hashes plus the sample photos), then a bounded load generator (threads × requests)
posts JPEG uploads to /v1/uploads/scan. Stops by itself. The load generator shares the
machine's cores with the server: on a 2-core machine it takes a good part of one.

``--profile N`` instead runs N scans in-process (no HTTP) under cProfile and prints where the
time goes, per scan: decode, hashing, index, database reads, policy, decision write, effects.

The server runs the hash scan alone by default (``--detectors hash_match``); ``--detectors
default`` adds the image models of the image guard, which dominate the cost when enabled.

Run: .venv/bin/python bench/upload_scan_load.py [--bank-size 100000] [--threads 1 2 4 8]
     .venv/bin/python bench/upload_scan_load.py --profile 300 [--detectors default]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2 as httpx
import numpy as np

from bastion.hashing.banks import BankService
from bastion.hashing.model import EntryInput
from bastion.settings import Settings
from bastion.storage.db import Database
from bastion.storage.keys import ApiKeyRepository
from bastion.testing.images import PHOTOS, jpeg, sample_photo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(data_dir: Path, bank_size: int) -> str:
    settings = Settings.load(data_dir=data_dir, secret_key="bench-secret-0123456789abcdef")
    db = Database(settings.resolved_database_url)
    db.migrate()
    banks = BankService(db)
    banks.create_bank("known", "ncii")
    rng = np.random.default_rng(5)
    hashes = rng.integers(0, 256, size=(bank_size, 32), dtype=np.uint8)
    banks.import_entries(
        "known", (EntryInput(hash=h.tobytes().hex()) for h in hashes), added_by="bench"
    )
    for name in PHOTOS[:4]:
        banks.add_image("known", jpeg(sample_photo(name)), added_by="bench")
    _, key = ApiKeyRepository(db, settings.resolved_secret()).create("bench", "service")
    return key


# (label, module path suffix, function name) of the stages a scan goes through
STAGES = (
    ("receive (sha256, sniff)", "bastion/content.py", "from_bytes"),
    ("decode JPEG to luma", "hashing/decode.py", "decode_luma"),
    ("PDQ: 8 turned hashes", "hashing/pdq.py", "transformed_hashes"),
    ("index lookups", "hashing/matcher.py", "search"),
    ("bank entries read (DB)", "storage/banks.py", "get_entries"),
    ("feed check (DB)", "hashing/matcher.py", "refresh"),
    ("policy", "bastion/guard.py", "_decide"),
    ("decision write (enqueue)", "storage/writer.py", "write"),
    ("effects (stay-down)", "hashing/staydown.py", "after"),
    ("detectors in all", "detectors/runner.py", "run"),
    ("scan_upload in all", "bastion/guard.py", "scan_upload"),
)


def profile(data_dir: Path, count: int, detectors: list[str] | None) -> None:
    import cProfile
    import pstats

    from bastion.guard import Guard

    settings = Settings.load(
        data_dir=data_dir, secret_key="bench-secret-0123456789abcdef", detectors=detectors
    )
    guard = Guard.from_settings(settings)
    for detector in guard.runner.detectors:  # run in this thread, where cProfile looks
        detector.inline = True  # type: ignore[misc]
    bodies = [jpeg(sample_photo(n), 80) for n in PHOTOS]
    for body in bodies:  # warm caches (kernels, index, connections)
        guard.scan_upload(body)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for i in range(count):
        guard.scan_upload(bodies[i % len(bodies)])
    profiler.disable()
    wall = time.perf_counter() - start
    guard.close()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    print(f"{count} in-process scans: {wall / count * 1000:.2f} ms each under cProfile")
    print(f"{'stage':<28}{'ms/scan':>9}{'calls/scan':>12}")
    for label, path, name in STAGES:
        found = [v for k, v in stats.items() if k[0].endswith(path) and k[2] == name]
        if found:
            calls = sum(v[1] for v in found)
            cumulative = sum(v[3] for v in found)
            print(f"{label:<28}{cumulative / count * 1000:>9.2f}{calls / count:>12.1f}")
    print("\ntop functions by own time:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bank-size", type=int, default=100_000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--requests", type=int, default=200, help="per thread count")
    parser.add_argument("--profile", type=int, default=0, help="profile N in-process scans")
    parser.add_argument(
        "--detectors",
        default="hash_match",
        help="comma-separated detectors the server runs (default: the hash scan alone); "
        "'default' runs every detector enabled by default (the image models too)",
    )
    args = parser.parse_args()
    detectors = None if args.detectors == "default" else args.detectors.split(",")
    data_dir = Path(tempfile.mkdtemp(prefix="bastion-bench-"))
    key = prepare(data_dir, args.bank_size)
    if args.profile:
        profile(data_dir, args.profile, detectors)
        return
    port = free_port()
    env = {
        **os.environ,
        "BASTION_SECRET_KEY": "bench-secret-0123456789abcdef",
        "BASTION_LOG_LEVEL": "warning",
    }
    if detectors is not None:
        env["BASTION_DETECTORS"] = json.dumps(detectors)
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "bastion"),
            "serve",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bodies = [jpeg(sample_photo(n), 80) for n in PHOTOS]
    url = f"http://127.0.0.1:{port}/v1/uploads/scan"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "image/jpeg"}
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        print(
            f"bank: {args.bank_size} random hashes + 4 photos; uploads: {len(bodies)} sample "
            f"photos; detectors: {args.detectors}"
        )
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"{'threads':>8}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
        best = 0.0
        for threads in args.threads:
            latencies: list[float] = []
            errors = [0]
            per_thread = max(1, args.requests // threads)

            def run(
                offset: int,
                per_thread: int = per_thread,
                latencies: list[float] = latencies,
                errors: list[int] = errors,
            ) -> None:
                with httpx.Client(timeout=10) as client:
                    for i in range(per_thread):
                        start = time.perf_counter()
                        response = client.post(
                            url, content=bodies[(offset + i) % len(bodies)], headers=headers
                        )
                        latencies.append(time.perf_counter() - start)
                        errors[0] += response.status_code != 200

            start = time.perf_counter()
            pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
            wall = time.perf_counter() - start
            p50, p99 = np.percentile(latencies, [50, 99]) * 1000
            rate = len(latencies) / wall
            if p99 < 100 and not errors[0]:
                best = max(best, rate)
            print(f"{threads:>8}{rate:>8.0f}{p50:>9.1f}{p99:>9.1f}{errors[0]:>8}")
        print(f"best req/s with p99 < 100 ms and no errors: {best:.0f}")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
