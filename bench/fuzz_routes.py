"""Fuzz every route of openapi.json with seeded hostile requests (issue 10): counts per status,
5xx (must be 0) and requests per second, beside a baseline of well-formed health probes in
the same run.

    .venv/bin/python bench/fuzz_routes.py [--requests 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient
from tests.api.fuzzing import cases
from tests.image_fakes import fake_guard

from bastion.api.app import create_app
from bastion.settings import Settings
from bastion.storage.keys import Role


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    settings = Settings.load(
        data_dir=Path(tempfile.mkdtemp()) / "data",
        secret_key="bench-" + "x" * 40,
        rate_limit_public="1000000/minute",
        rate_limit_public_key="1000000/minute",
        rate_limit_service="1000000/minute",
    )
    guard = fake_guard(settings)
    app = create_app(guard=guard)
    _, token = app.state.keys.create("fuzz", Role.ADMIN)
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(app, raise_server_exceptions=False) as client:
        baseline = []
        for _ in range(500):
            began = time.perf_counter()
            client.get("/livez")
            baseline.append(time.perf_counter() - began)
        statuses: Counter[int] = Counter()
        durations = []
        server_errors = []
        openapi = client.get("/openapi.json").json()
        for index, case in enumerate(cases(openapi, seed=args.seed, count=args.requests)):
            headers = dict(auth) if index % 7 else {}
            if case.content_type:
                headers["Content-Type"] = case.content_type
            began = time.perf_counter()
            response = client.request(case.method, case.url, content=case.body, headers=headers)
            durations.append(time.perf_counter() - began)
            statuses[response.status_code] += 1
            if response.status_code >= 500 and response.status_code != 503:
                server_errors.append((case.method, case.path))
    guard.close()
    routes = sum(len(v) for v in openapi["paths"].values())
    print(f"operations: {routes}, requests: {args.requests}, seed: {args.seed}")
    print("statuses:", dict(sorted(statuses.items())))
    print(f"5xx (not 503): {len(server_errors)} {server_errors[:5]}")
    fuzz_ms = statistics.median(durations) * 1000
    base_ms = statistics.median(baseline) * 1000
    print(
        f"median fuzzed request {fuzz_ms:.2f} ms; baseline /livez {base_ms:.2f} ms; "
        f"ratio {fuzz_ms / base_ms:.1f}x"
    )


if __name__ == "__main__":
    main()
