"""Upload scans over HTTP on loopback: requests/second at p99 < 100 ms, against a bank.

Starts `bastion serve` in a subprocess on 127.0.0.1 (a throw-away data directory, a bank of
N random hashes plus the sample photos), then a bounded load generator (threads × requests)
posts JPEG uploads to /v1/uploads/scan. Stops by itself.

Run: .venv/bin/python bench/upload_scan_load.py [--bank-size 100000] [--threads 1 2 4 8]
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bank-size", type=int, default=100_000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--requests", type=int, default=200, help="per thread count")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bastion-bench-"))
    key = prepare(data_dir, args.bank_size)
    port = free_port()
    env = {
        **os.environ,
        "BASTION_SECRET_KEY": "bench-secret-0123456789abcdef",
        "BASTION_LOG_LEVEL": "warning",
    }
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
            f"bank: {args.bank_size} random hashes + 4 photos; uploads: {len(bodies)} sample photos"
        )
        print(f"{'threads':>8}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
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
            print(f"{threads:>8}{len(latencies) / wall:>8.0f}{p50:>9.1f}{p99:>9.1f}{errors[0]:>8}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
