"""Exact radius-31 search over N random 256-bit hashes + planted near matches.

Each index runs in its own subprocess (so RSS is its own), all on one thread, on the same data
and queries: Bastion's MultiIndex (C engine, and the numpy fallback with ``--kinds``), faiss
IndexBinaryMultiHash (HMA's default: nhash=16, b=16, nflip=1 — exact for radius 31) and faiss
IndexBinaryFlat (brute force). Half the queries are planted near matches (0-31 bits flipped),
half random. Recall is against brute force (numpy) on the first 200 queries; "exact" says
whether every result set equals brute force's.

Memory: "RSS MB" is the whole process after the build with the input array freed (Python,
numpy and faiss included); "index MB" is that minus the same process before any data;
"peak MB" is the build's high-water mark above that base, including the 32 B/hash input the
caller holds while the index is built. Latency: each pass runs every query once; p50/p99/q/s
are the medians over ``--passes`` passes.

Run: .venv/bin/python bench/index_bench.py --sizes 1000000 10000000 [--queries 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

RADIUS = 31
KINDS = ("bastion", "faiss_multihash", "faiss_flat")


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


def status_mb(field: str) -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as handle:  # Linux: resets VmHWM to VmRSS
        handle.write("5")


def brute(codes: np.ndarray, query: np.ndarray) -> set[int]:
    found: list[int] = []
    for start in range(0, len(codes), 1 << 20):  # chunked: no n×32-byte temporary
        chunk = codes[start : start + (1 << 20)]
        hit = np.nonzero(np.bitwise_count(chunk ^ query).sum(axis=1) <= RADIUS)[0]
        found.extend((hit + start).tolist())
    return set(found)


def worker(kind: str, n: int, queries: int, passes: int, seed: int) -> None:
    if kind.startswith("faiss"):
        import faiss

        faiss.omp_set_num_threads(1)
    from bastion.hashing.index import MultiIndex

    base = status_mb("VmRSS")
    codes, qs = make_data(n, queries, seed)
    truth_q = min(queries, 200)
    truth = [brute(codes, q) for q in qs[:truth_q]]
    reset_peak()
    start = time.perf_counter()
    if kind.startswith("bastion"):
        index = MultiIndex(engine="numpy" if kind == "bastion_numpy" else "c")
        index.add(np.arange(n), codes)

        def search(q: np.ndarray) -> set[int]:
            return {h.id for h in index.search(q.tobytes(), RADIUS)}
    else:
        if kind == "faiss_multihash":
            fidx = faiss.IndexBinaryMultiHash(256, 16, 16)
            fidx.nflip = 1
        else:
            fidx = faiss.IndexBinaryFlat(256)
        fidx.add(codes.view(np.uint8))

        def search(q: np.ndarray) -> set[int]:
            _, _, labels = fidx.range_search(q.view(np.uint8)[None, :], RADIUS + 1)
            return set(labels.tolist())

    build = time.perf_counter() - start
    peak = status_mb("VmHWM")
    del codes
    found = [search(q) for q in qs[:truth_q]]
    runs = []
    for _ in range(passes):
        times = []
        for q in qs:
            t0 = time.perf_counter()
            search(q)
            times.append(time.perf_counter() - t0)
        runs.append((np.percentile(times, 50), np.percentile(times, 99), len(qs) / sum(times)))
    recall_hits = sum(len(t & f) for t, f in zip(truth, found, strict=True))
    recall_total = sum(len(t) for t in truth)
    rss = status_mb("VmRSS")
    print(
        json.dumps(
            {
                "index": kind,
                "n": n,
                "build_s": build,
                "rss_mb": rss,
                "index_mb": rss - base,
                "peak_mb": peak - base,
                "p50_ms": float(np.median([r[0] for r in runs]) * 1000),
                "p99_ms": float(np.median([r[1] for r in runs]) * 1000),
                "qps": float(np.median([r[2] for r in runs])),
                "recall": recall_hits / max(1, recall_total),
                "truth_pairs": recall_total,
                "exact": all(t == f for t, f in zip(truth, found, strict=True)),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--kinds", nargs="+", default=list(KINDS))
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, n, queries, passes = args.worker
        worker(kind, int(n), int(queries), int(passes), seed=1)
        return
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = (
        f"{'index':<17}{'N':>11}{'build s':>9}{'RSS MB':>8}{'index MB':>9}{'peak MB':>8}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'q/s':>8}{'recall':>8}{'exact':>6}"
    )
    print(header)
    for n in args.sizes:
        rows = {}
        for kind in args.kinds:
            cmd = [
                sys.executable,
                __file__,
                "--worker",
                kind,
                str(n),
                str(args.queries),
                str(args.passes),
            ]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            row = json.loads(out.strip().splitlines()[-1])
            rows[kind] = row
            print(
                f"{kind:<17}{n:>11}{row['build_s']:>9.1f}{row['rss_mb']:>8.0f}"
                f"{row['index_mb']:>9.0f}{row['peak_mb']:>8.0f}{row['p50_ms']:>9.3f}"
                f"{row['p99_ms']:>9.3f}{row['qps']:>8.0f}{row['recall']:>8.3f}"
                f"{'yes' if row['exact'] else 'NO':>6}",
                flush=True,
            )
        if "bastion" in rows and "faiss_multihash" in rows:
            ratio = rows["bastion"]["qps"] / rows["faiss_multihash"]["qps"]
            print(f"  bastion / faiss MultiHash throughput at N={n}: {ratio:.1f}x")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
