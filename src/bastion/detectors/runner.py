"""Run detectors over content with per-detector time limits, failing closed.

Inline detectors (pure Python, bounded by input limits) run in the calling thread and are timed
afterwards; the rest run in a shared worker pool and are abandoned at the deadline. Any
exception, timeout, wrong return type or content type nobody can screen becomes a
``detector_error`` finding, which the policy engine turns into a block.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from bastion.detectors.base import Detector
from bastion.findings import Finding
from bastion.policy.engine import DETECTOR_ERROR


@dataclass(frozen=True, slots=True)
class Item:
    """One piece of content to screen and the subject name its findings carry."""

    content: object
    subject: str


def error_finding(detector: str, subject: str, problem: str) -> Finding:
    return Finding(
        detector=detector,
        label=DETECTOR_ERROR,
        score=1.0,
        subject=subject,
        evidence={"error": problem},
        explanation=f"detector {detector} could not screen {subject}: {problem}",
    )


def _checked(detector: Detector, result: object, subject: str) -> list[Finding]:
    if not isinstance(result, list | tuple) or not all(isinstance(f, Finding) for f in result):
        return [error_finding(detector.name, subject, "returned something other than Findings")]
    return list(result)


class Runner:
    def __init__(self, detectors: Sequence[Detector], *, timeout_s: float, threads: int) -> None:
        self.detectors = tuple(detectors)
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bastion-detector")

    def accepting(self, content: object, surface: str | None = None) -> list[Detector]:
        return [
            d
            for d in self.detectors
            if isinstance(content, d.accepts)
            and (surface is None or d.surfaces is None or surface in d.surfaces)
        ]

    def run(self, items: Sequence[Item], *, surface: str | None = None) -> list[Finding]:
        findings: list[Finding] = []
        pending: list[tuple[Detector, Item, Future[Sequence[Finding]], float]] = []
        inline: list[tuple[Detector, Item]] = []
        for item in items:
            chosen = self.accepting(item.content, surface)
            if not any(detector.screens for detector in chosen):
                findings.append(
                    error_finding(
                        "guard",
                        item.subject,
                        f"no enabled detector can screen {type(item.content).__name__} content",
                    )
                )
            for detector in chosen:
                if detector.inline:
                    inline.append((detector, item))
                else:
                    start = time.perf_counter()
                    future = self._pool.submit(detector.detect, item.content, subject=item.subject)
                    pending.append((detector, item, future, start))
        for detector, item in inline:
            start = time.perf_counter()
            try:
                result: object = detector.detect(item.content, subject=item.subject)
            except Exception as exc:
                findings.append(error_finding(detector.name, item.subject, _describe(exc)))
                continue
            elapsed = time.perf_counter() - start
            if elapsed > self.timeout_s:
                findings.append(
                    error_finding(detector.name, item.subject, _late(elapsed, self.timeout_s))
                )
                continue
            findings.extend(_checked(detector, result, item.subject))
        for detector, item, future, start in pending:
            remaining = max(0.0, start + self.timeout_s - time.perf_counter())
            try:
                result = future.result(timeout=remaining)
            except FutureTimeout:
                future.cancel()
                findings.append(
                    error_finding(detector.name, item.subject, _late(None, self.timeout_s))
                )
                continue
            except Exception as exc:
                findings.append(error_finding(detector.name, item.subject, _describe(exc)))
                continue
            findings.extend(_checked(detector, result, item.subject))
        return findings

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _late(elapsed: float | None, limit: float) -> str:
    took = f" (took {elapsed * 1000:.0f} ms)" if elapsed is not None else ""
    return f"timed out after {limit * 1000:.0f} ms{took}"
