"""Exact radius-31 search over N random 256-bit hashes + planted near matches.

Each index runs in its own subprocess (so RSS is its own): Bastion's MultiIndex, faiss
IndexBinaryMultiHash (HMA's default: nhash=16, b=16, nflip=1 — exact for radius 31) and faiss
IndexBinaryFlat (brute force), all on one thread, on the same data and queries.
Recall is measured against brute force (numpy) on the same queries.

Run: .venv/bin/python bench/index_bench.py --sizes 1000000 10000000 [--queries 1000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

RADIUS = 31


def make_data(n: int, queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    planted = codes[rng.integers(0, n, queries // 2)].copy()
    bits = np.unpackbits(planted.view(np.uint8), axis=1)
    for row in bits:
        row[rng.choice(256, int(rng.integers(0, 32)), replace=False)] ^= 1
    near = np.packbits(bits, axis=1).view(np.uint64)
    random = rng.integers(0, 2**64, size=(queries - len(near), 4), dtype=np.uint64)
    return codes, np.concatenate([near, random])


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def brute(codes: np.ndarray, query: np.ndarray) -> set[int]:
    return set(np.nonzero(np.bitwise_count(codes ^ query).sum(axis=1) <= RADIUS)[0].tolist())


def worker(kind: str, n: int, queries: int, seed: int) -> None:
    codes, qs = make_data(n, queries, seed)
    truth_q = min(queries, 200)
    truth = [brute(codes, q) for q in qs[:truth_q]]
    base = rss_mb()
    start = time.perf_counter()
    if kind == "bastion":
        from bastion.hashing.index import MultiIndex

        index = MultiIndex()
        index.add(np.arange(n), codes)

        def search(q: np.ndarray) -> set[int]:
            return {h.id for h in index.search(q.tobytes(), RADIUS)}
    else:
        import faiss

        faiss.omp_set_num_threads(1)
        as_bytes = codes.view(np.uint8)
        if kind == "faiss_multihash":
            fidx = faiss.IndexBinaryMultiHash(256, 16, 16)
            fidx.nflip = 1
        else:
            fidx = faiss.IndexBinaryFlat(256)
        fidx.add(as_bytes)

        def search(q: np.ndarray) -> set[int]:
            _, _, labels = fidx.range_search(q.view(np.uint8)[None, :], RADIUS + 1)
            return set(labels.tolist())

    build = time.perf_counter() - start
    del codes
    times, found = [], []
    for q in qs:
        t0 = time.perf_counter()
        found.append(search(q))
        times.append(time.perf_counter() - t0)
    recall_hits = sum(len(t & f) for t, f in zip(truth, found[:truth_q], strict=True))
    recall_total = sum(len(t) for t in truth)
    print(
        json.dumps(
            {
                "index": kind,
                "n": n,
                "build_s": build,
                "rss_mb": rss_mb(),
                "index_mb": rss_mb() - base,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "p50_ms": float(np.percentile(times, 50) * 1000),
                "p99_ms": float(np.percentile(times, 99) * 1000),
                "qps": len(qs) / sum(times),
                "recall": recall_hits / max(1, recall_total),
                "exact_set_equal": all(t == f for t, f in zip(truth, found[:truth_q], strict=True)),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--kinds", nargs="+", default=["bastion", "faiss_multihash", "faiss_flat"])
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, n, queries = args.worker
        worker(kind, int(n), int(queries), seed=1)
        return
    header = (
        f"{'index':<17}{'N':>11}{'build s':>9}{'RSS MB':>8}{'index MB':>9}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'q/s':>8}{'recall':>8}"
    )
    print(header)
    for n in args.sizes:
        rows = {}
        for kind in args.kinds:
            cmd = [sys.executable, __file__, "--worker", kind, str(n), str(args.queries)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            row = json.loads(out.strip().splitlines()[-1])
            rows[kind] = row
            print(
                f"{kind:<17}{n:>11}{row['build_s']:>9.1f}{row['rss_mb']:>8.0f}{row['index_mb']:>9.0f}"
                f"{row['p50_ms']:>9.3f}{row['p99_ms']:>9.3f}{row['qps']:>8.0f}{row['recall']:>8.3f}",
                flush=True,
            )
        if "bastion" in rows and "faiss_multihash" in rows:
            ratio = rows["bastion"]["qps"] / rows["faiss_multihash"]["qps"]
            print(f"  bastion / faiss MultiHash throughput at N={n}: {ratio:.1f}x")


if __name__ == "__main__":
    main()
