"""The bank snapshot is refreshed off the request path: a bulk import elsewhere never slows
or fails an upload scan (issue 9)."""

from __future__ import annotations

import os
import threading
import time

import numpy as np

from bastion.findings import DETECTOR_ERROR
from bastion.guard import Guard
from bastion.hashing.banks import BankService
from bastion.hashing.model import EntryInput
from bastion.settings import Settings
from bastion.storage.db import Database
from tests.hashing.conftest import encode, photo

IMPORTED = int(os.environ.get("BASTION_TEST_IMPORT_HASHES", "200000"))


def _hashes(count: int, seed: int = 7) -> list[str]:
    raw = np.random.default_rng(seed).integers(0, 256, size=(count, 32), dtype=np.uint8)
    return [row.tobytes().hex() for row in raw]


def test_a_bulk_import_beside_upload_scans_causes_no_detector_failure(settings: Settings) -> None:
    config = settings.model_copy(
        update={"detectors": ["hash_match"], "bank_sync_interval_ms": 20, "stay_down": False}
    )
    guard = Guard.from_settings(config)
    other = BankService(Database(config.resolved_database_url))  # like `bastion bank import`
    other.create_bank("imported", "other")
    hashes = _hashes(IMPORTED)
    done: list[int] = []
    started = threading.Event()

    def run_import() -> None:
        def progress(count: int) -> None:
            started.set()

        done.append(
            other.import_entries(
                "imported", (EntryInput(hash=h) for h in hashes), added_by="test", progress=progress
            )
        )

    importer = threading.Thread(target=run_import)
    images = [encode(photo(name)) for name in ("chelsea", "rocket", "astronaut", "coffee")]
    try:
        importer.start()
        assert started.wait(60)
        latencies, failures, during = [], 0, 0
        # At least 200 scans, and scanning for as long as the import runs.
        while len(latencies) < 200 or importer.is_alive():
            began = time.perf_counter()
            decision = guard.scan_upload(images[len(latencies) % len(images)])
            latencies.append(time.perf_counter() - began)
            during += importer.is_alive()
            failures += any(f.label == DETECTOR_ERROR for f in decision.findings)
        importer.join(600)
        assert done == [IMPORTED]
        assert failures == 0
        assert during >= min(200, len(latencies) // 2)  # the scans ran beside the import
        # The refresher brings the import into this process's snapshot, off the request path.
        deadline = time.monotonic() + 120
        while len(guard.banks.matcher._index) < IMPORTED and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(guard.banks.matcher._index) >= IMPORTED
        probe = guard.banks.lookup_hash(hashes[12345 % IMPORTED])
        assert [m.bank.name for m in probe.matches] == ["imported"]
        print(f"scan p50 {np.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms")
    finally:
        importer.join(600)
        other.close()
        guard.close()
