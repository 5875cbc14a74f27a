"""Image guard benchmark: a full check (generation with one 1024×768 input photo, then the
output check against it) beside one bare NudeNet call on the same image, in the same run; where
the time goes, stage by stage; and the memory of one process with every image model loaded.

    .venv/bin/python bench/image_guard.py [--iterations 200] [--onnx-threads 1]

Timings are wall-clock medians (p50) and 99th percentiles in milliseconds, single process,
after warm-up. The machine is shared: rerun in a quiet period before quoting numbers.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.images (benign sample photos)

TARGET_FULL_P50_MS = 60.0
TARGET_RSS_MB = 600.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn: Callable[[], object], iterations: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def row(name: str, samples: list[float], note: str = "") -> str:
    p50, p99 = statistics.median(samples), percentile(samples, 0.99)
    return f"| {name:<46} | {p50:8.1f} | {p99:8.1f} | {note}"


def end_to_end(iterations: int, threads: int) -> list[str]:
    import numpy as np
    from nudenet import NudeDetector
    from PIL import Image as PILImage
    from tests.images import benign_edit, photo_1024x768

    from bastion import Guard, Settings

    photo = photo_1024x768("astronaut")
    edited = PILImage.open(io.BytesIO(benign_edit("astronaut")))
    buffer = io.BytesIO()
    edited.resize((1024, 768)).save(buffer, format="JPEG", quality=90)
    output = buffer.getvalue()
    with tempfile.TemporaryDirectory() as data_dir:
        guard = Guard.from_settings(
            Settings.load(
                data_dir=Path(data_dir), secret_key="bench-secret-0123456789", onnx_threads=threads
            )
        )
        # The package's own API with its default session options, on the same image,
        # interleaved with the full checks so both see the same machine load.
        bare = NudeDetector()
        rgb = np.asarray(PILImage.open(io.BytesIO(photo)).convert("RGB"))
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        generation_ms: list[float] = []
        output_ms: list[float] = []
        full_ms: list[float] = []
        alone_ms: list[float] = []
        bare_ms: list[float] = []

        def once() -> None:
            start = time.perf_counter()
            request = guard.check_generation("add a red hat", [photo])
            middle = time.perf_counter()
            decision = guard.check_output(output, request=request)
            end = time.perf_counter()
            bare.detect(bgr)
            after = time.perf_counter()
            alone = guard.check_output(photo)  # the bare call's image, every default detector
            last = time.perf_counter()
            assert request.action.value == "allow"
            assert decision.action.value == "allow"
            assert not [f for f in alone.findings if f.label == "detector_error"]
            generation_ms.append((middle - start) * 1000)
            output_ms.append((end - middle) * 1000)
            full_ms.append((end - start) * 1000)
            bare_ms.append((after - end) * 1000)
            alone_ms.append((last - after) * 1000)

        for _ in range(5):
            once()
        for samples in (generation_ms, output_ms, full_ms, bare_ms, alone_ms):
            samples.clear()
        for _ in range(iterations):
            once()
        prompt_only = timed(lambda: guard.check_generation("add a red hat"), iterations)
        guard.close()

    p50 = statistics.median(full_ms)
    verdict = "meets" if p50 <= TARGET_FULL_P50_MS else "misses"
    return [
        "| check (1024×768 JPEG, astronaut)               |  p50 ms  |  p99 ms  |",
        "|------------------------------------------------|----------|----------|",
        row(
            "full: generation + output check",
            full_ms,
            f"{verdict} the {TARGET_FULL_P50_MS:.0f} ms target",
        ),
        row("  generation check (prompt + input photo)", generation_ms),
        row("  output check (edit-delta against the request)", output_ms),
        row("check_output(jpeg) alone, default detectors", alone_ms, "same image as the bare"),
        row("prompt-only generation check", prompt_only),
        row("baseline: bare NudeDetector().detect(ndarray)", bare_ms, "same image, interleaved"),
        f"full check p50 = {p50 / statistics.median(bare_ms):.1f} × the bare NudeNet call's p50 "
        "(2 images × 4 models, 2 decisions stored); output check alone = "
        f"{statistics.median(alone_ms) / statistics.median(bare_ms):.1f} × (decode from JPEG "
        "bytes, 4 models, hash, 1 decision stored)",
    ]


def stages(iterations: int, threads: int) -> list[str]:
    """Each stage alone, single-threaded, on a fresh image (nothing cached)."""
    from tests.images import photo_1024x768

    from bastion.content import Image
    from bastion.decode import ImageLimits
    from bastion.detectors.image import age, faces, nsfw, nudenet
    from bastion.detectors.image.runtime import MODELS, model_file

    data = photo_1024x768("astronaut")
    limits = ImageLimits()
    fresh = lambda: Image.from_bytes(data, max_bytes=10**8, limits=limits)  # noqa: E731
    image = fresh()
    rgb = image.decoded().rgb
    nn = nudenet.session(None, threads)
    ns = MODELS.session(model_file(None, nsfw.PACKAGE, nsfw.MODEL), threads)
    yunet = faces.load_yunet(0.6, 512)
    ages = age.AgeModel(threads)
    blob, _side = nudenet.model_input(image)
    nsfw_in = nsfw.model_input(image)
    found = faces.faces_of(image, yunet, nn)
    table = [
        ("decode JPEG → RGB (once per image)", lambda: fresh().decoded()),
        ("NudeNet: pad + resize to 320", lambda: nudenet._prepare(rgb)),
        ("NudeNet: inference", lambda: nn.run(None, {"images": blob})),
        ("open_nsfw: resize + crop + JPEG round-trip", lambda: nsfw._prepare(rgb)),
        ("open_nsfw: inference", lambda: ns.run(None, {ns.get_inputs()[0].name: nsfw_in})),
        ("YuNet faces (at 512 px)", lambda: yunet.detect(rgb)),
        (
            f"age: landmarks + chip + inference ({len(found)} face)",
            lambda: ages.estimate(rgb, found, 25),
        ),
    ]
    lines = [
        "| stage (one 1024×768 image, serial)             |  p50 ms  |  p99 ms  |",
        "|------------------------------------------------|----------|----------|",
    ]
    total = 0.0
    for name, fn in table:
        samples = timed(fn, iterations)
        total += statistics.median(samples)
        lines.append(row(name, samples))
    lines.append(
        f"| {'sum of stages, one image':<46} | {total:8.1f} |          | ×2 images per full check"
    )
    return lines


MEMORY_PROBE = r"""
import json, os, sys, tempfile
from pathlib import Path
def rss():
    fields = dict(l.split(':', 1) for l in open('/proc/self/status') if ':' in l)
    return {k: int(fields[k].split()[0]) / 1024 for k in ('VmRSS', 'VmHWM')}
sys.path.insert(0, sys.argv[1])
import bastion
before = rss()
from bastion import Guard, Settings
from tests.images import photo_1024x768, benign_edit
with tempfile.TemporaryDirectory() as d:
    settings = Settings.load(data_dir=Path(d), secret_key='bench-secret-0123456789',
                             onnx_threads=int(sys.argv[2]))
    guard = Guard.from_settings(settings)
    loaded = rss()
    for _ in range(50):
        request = guard.check_generation('add a red hat', [photo_1024x768()])
        guard.check_output(benign_edit(), request=request)
    used = rss()
    guard.close()
print(json.dumps({'import': before, 'loaded': loaded, 'serving': used}))
"""


def memory(threads: int) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(ROOT), str(threads)],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("BASTION_")},
    )
    data = json.loads(result.stdout.strip().splitlines()[-1])
    serving = data["serving"]["VmHWM"]
    verdict = "within" if serving <= TARGET_RSS_MB else "over"

    def line(name: str, key: str, note: str = "") -> str:
        return f"| {name:<46} | {data[key]['VmRSS']:8.0f} | {data[key]['VmHWM']:8.0f} | {note}"

    return [
        "| one process                                    |  RSS MB  |  peak MB |",
        "|------------------------------------------------|----------|----------|",
        line("import bastion", "import"),
        line("Guard built, every image model loaded", "loaded"),
        line("after 50 full checks (serving)", "serving", f"{verdict} {TARGET_RSS_MB:.0f} MB"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--onnx-threads", type=int, default=1)
    args = parser.parse_args()
    print(
        f"image guard benchmark: {os.cpu_count()} CPUs, onnx_threads={args.onnx_threads}, "
        f"{args.iterations} iterations, load average {os.getloadavg()[0]:.2f}\n"
    )
    gc.collect()
    print("\n".join(end_to_end(args.iterations, args.onnx_threads)), end="\n\n")
    print("\n".join(stages(args.iterations, args.onnx_threads)), end="\n\n")
    print("\n".join(memory(args.onnx_threads)))


if __name__ == "__main__":
    main()
