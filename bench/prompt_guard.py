"""Prompt-guard latency over the public prompt set, beside a bare regex scan of the same text.

    .venv/bin/python bench/prompt_guard.py [--rounds 5] [--file tests/data/prompts_public.jsonl]

Reports p50/p99 per prompt for:
  guard   Guard.check_generation end to end (validate, detect, decide, store in SQLite)
  detect  the prompt detectors alone (normalise + every lexicon + ages + language id)
  regex   baseline: one compiled regex alternation of every single-word lexicon term, case-folded
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from bastion.content import Prompt  # noqa: E402
from bastion.detectors.runner import Item  # noqa: E402
from bastion.detectors.text.lexicon_files import load_lexicon  # noqa: E402
from bastion.guard import Guard  # noqa: E402
from bastion.settings import Settings  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def baseline_regex() -> re.Pattern[str]:
    """Every single-word lexicon term (all languages, plain form) as one word-bounded regex."""
    words = {
        term.pattern[0][1]
        for terms in load_lexicon().plain_exact_terms().values()
        for term in terms
        if len(term.pattern) == 1 and term.label != "allow"
    }
    alternation = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    return re.compile(rf"\b(?:{alternation})\b")


def timed(fn, items: list[str], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for text in items:
            start = time.perf_counter()
            fn(text)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", type=Path, default=ROOT / "tests/data/prompts_public.jsonl")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    prompts = [
        json.loads(line)["prompt"]
        for line in args.file.read_text("utf-8").splitlines()
        if line.strip()
    ]
    with tempfile.TemporaryDirectory() as scratch:
        guard = Guard.from_settings(
            Settings.load(data_dir=Path(scratch), secret_key="bench-secret-0123456789")
        )
        regex = baseline_regex()
        # warm up every path once
        for text in prompts[:50]:
            guard.check_generation(text)
            regex.findall(text.casefold())
        results = {
            "guard": timed(guard.check_generation, prompts, args.rounds),
            "detect": timed(
                lambda t: guard.runner.run([Item(Prompt(t), "prompt")]), prompts, args.rounds
            ),
            "regex": timed(lambda t: regex.findall(t.casefold()), prompts, args.rounds),
        }
        guard.close()
    base = statistics.median(results["regex"])
    print(f"{len(prompts)} prompts x {args.rounds} rounds; {len(regex.pattern)} chars of regex")
    print(f"{'path':<8}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}{'p50 / regex':>14}")
    for name, samples in results.items():
        p50 = statistics.median(samples)
        print(
            f"{name:<8}{p50:>10.3f}{percentile(samples, 0.99):>10.3f}"
            f"{statistics.fmean(samples):>10.3f}{p50 / base:>13.1f}x"
        )


if __name__ == "__main__":
    main()
