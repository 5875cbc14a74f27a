"""Peak memory of concurrent checks of huge single-colour PNGs, measured in a fresh process.

A 7300×5440 single-colour PNG is ~40 Mpx (119 MB of RGB) in ~120 KB: the cheap-to-send,
expensive-to-decode shape of a decompression bomb. :func:`measure` starts this module in a
subprocess (so the caller's own memory does not count), which builds a guard, makes the PNG
without ever holding its pixels, sends ``count`` copies to ``surface`` at once from ``count``
threads and reports its peak RSS (``ru_maxrss``) beside the RSS before the load. Used by
``tests/test_decode_memory.py`` and ``bench/decode_memory.py``.

    python -m tests.bomb_load --count 8 --width 7300 --height 5440 [--surface upload]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The real hash and provenance detectors; the image models are replaced by one fake pixel
# reader (it makes the decode build the analysis view, as the models would).
DETECTORS = [
    "prompt_lexicon",
    "hash_match",
    "provenance_watermark",
    "provenance_c2pa",
    "fake_pixels",
]


def solid_png(width: int, height: int, colour: tuple[int, int, int] = (40, 90, 160)) -> bytes:
    """A single-colour RGB PNG, compressed row by row (its pixels are never held at once)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    row = b"\x00" + bytes(colour) * width  # filter type 0, then the pixels
    packer = zlib.compressobj(9)
    parts = [packer.compress(row) for _ in range(height)]
    parts.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _guard(data_dir: Path, overrides: dict[str, Any]) -> Any:
    from bastion.content import Image
    from bastion.guard import Guard
    from bastion.settings import Settings
    from bastion.testing import fake_detector_class, make_registry

    fake = fake_detector_class("fake_pixels", ["fake_pixels"], accepts=Image)
    settings = Settings.load(
        data_dir=data_dir,
        secret_key="bomb-load-secret-0123456789abcdef",
        **{"detectors": DETECTORS, **overrides},
    )
    return Guard.from_settings(settings, registry=make_registry(fake, with_builtins=True))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--width", type=int, default=7300)
    parser.add_argument("--height", type=int, default=5440)
    parser.add_argument("--surface", choices=["upload", "generation"], default="upload")
    parser.add_argument("--settings", default="{}", help="JSON Settings overrides")
    args = parser.parse_args()

    from bastion.errors import BastionError

    with tempfile.TemporaryDirectory() as tmp:
        guard = _guard(Path(tmp) / "data", json.loads(args.settings))
        data = solid_png(args.width, args.height)
        guard.scan_upload(solid_png(64, 64))  # warm every path on a small image first
        before = rss_mb()

        def check(_: int) -> dict[str, Any]:
            started = time.perf_counter()
            try:
                if args.surface == "upload":
                    decision = guard.scan_upload(data)
                else:
                    decision = guard.check_generation("a blue wall", [data])
            except BastionError as exc:
                outcome = {"code": exc.code, "status": exc.status}
            else:
                failed = sorted(
                    {
                        f"{f.evidence.get('detector', '')}: {f.evidence.get('error', '')}"[:200]
                        for f in decision.findings
                        if f.label == "detector_error"
                    }
                )
                outcome = {"action": decision.action.value, "detector_errors": failed}
            return {**outcome, "seconds": round(time.perf_counter() - started, 3)}

        started = time.perf_counter()
        with ThreadPoolExecutor(args.count) as pool:
            outcomes = list(pool.map(check, range(args.count)))
        seconds = time.perf_counter() - started
        guard.close()
    print(
        json.dumps(
            {
                "pixels": args.width * args.height,
                "png_bytes": len(data),
                "rss_before_mb": round(before, 1),
                "peak_rss_mb": round(rss_mb(), 1),
                "seconds": round(seconds, 2),
                "outcomes": outcomes,
            }
        )
    )


def measure(
    count: int,
    width: int,
    height: int,
    *,
    surface: str = "upload",
    settings: dict[str, Any] | None = None,
    timeout_s: float = 120,
) -> dict[str, Any]:
    """Run :func:`main` in a fresh interpreter and return its report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASTION_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    command = [
        sys.executable,
        "-m",
        "tests.bomb_load",
        f"--count={count}",
        f"--width={width}",
        f"--height={height}",
        f"--surface={surface}",
        f"--settings={json.dumps(settings or {})}",
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bomb load failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


if __name__ == "__main__":
    main()
