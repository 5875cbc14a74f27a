"""Workflow benchmark: statement rendering + validation, and notice intake on SQLite.

Each row is beside a baseline measured in the same run: validating a payload against
``json.dumps`` of it (the least any exporter does), and a full notice intake (notice, item, case,
clocks, receipt, audit, one transaction) against a bare single-row insert. Prints medians.

    .venv/bin/python bench/workflow.py
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from bastion.settings import Settings
from bastion.storage.db import Database
from bastion.storage.tables import wf_outbox
from bastion.testing import FrozenClock
from bastion.workflow import notices, tdb
from bastion.workflow.notices import NoticeInput
from bastion.workflow.service import PUBLIC, Workflow

SECRET = "bench-secret-0123456789abcdef"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.workflow.test_statements import RECORD  # noqa: E402

from bastion.workflow.statements import tdb_payload  # noqa: E402


def median_us(fn: Callable[[int], object], runs: int) -> float:
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1e6)
    return statistics.median(samples)


def main() -> None:
    payload = tdb_payload(RECORD, puid="bst-bench")
    assert payload is not None
    rows = [
        ("json.dumps(payload) [baseline]", median_us(lambda _: json.dumps(payload), 2000)),
        ("tdb.violations(payload)", median_us(lambda _: tdb.violations(payload), 2000)),
        (
            "tdb_payload(record) (render+scrub+validate)",
            median_us(lambda _: tdb_payload(RECORD, puid="bst-bench"), 2000),
        ),
    ]
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite:///{scratch}/bench.db")
        db.migrate()
        settings = Settings.load(data_dir=Path(scratch), secret_key=SECRET)
        wf = Workflow(
            db,
            settings,
            SECRET.encode(),
            clock=FrozenClock(datetime(2026, 11, 2, tzinfo=UTC)),
            auto_dispatch=False,
        )

        def bare(i: int) -> None:
            with db.begin() as conn:
                conn.execute(
                    insert(wf_outbox).values(
                        id=f"b{i}",
                        created_at=datetime.now(UTC),
                        kind="x",
                        to_address="a@b.c",
                        subject="s",
                        body="b",
                        ref_id="r",
                        status="sent",
                        attempts=0,
                    )
                )

        def intake(i: int) -> None:
            notices.submit(
                wf,
                NoticeInput(
                    explanation="A sexualised AI edit of a real woman, shared without consent.",
                    locations=[f"img-{i}"],
                    category="STATEMENT_CATEGORY_CYBER_VIOLENCE",
                    keywords=["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"],
                    jurisdiction="DE",
                    notifier_name="Bench",
                    notifier_email="bench@example.org",
                    bona_fide=True,
                ),
                channel="api",
                actor=PUBLIC,
            )

        rows.append(("one-row insert, SQLite [baseline]", median_us(bare, 200)))
        rows.append(("notice intake, SQLite (one transaction)", median_us(intake, 200)))
        db.dispose()
    width = max(len(name) for name, _ in rows)
    print(f"{'operation'.ljust(width)}  median µs")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value:9.1f}")


if __name__ == "__main__":
    main()
