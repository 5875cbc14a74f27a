"""Run detectors over content with per-detector time limits, failing closed.

Inline detectors (pure Python, bounded by input limits) run in the calling thread and are timed
afterwards; the rest run in a shared worker pool and are abandoned at the deadline. A detector
with a ``pool_size`` (the remote judges) gets a pool of its own with that many threads and no
queue beyond them: while all of its threads are busy (a slow or dripping endpoint), checks that
need it fail closed at once instead of waiting, and checks that do not need it never share its
threads. A call the runner abandons is reported to the detector's ``abandoned`` hook (the
judges count it as a circuit-breaker failure). Any exception, timeout, full pool, wrong return
type or content type nobody can screen becomes a ``detector_error`` finding, which the policy
engine turns into a block. The one exception is :class:`~bastion.errors.StorageUnavailable`
(a detector that reads the database while it is down): an outage says nothing about the
content, so it is raised and the check fails with 503 instead of deciding.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from bastion.detectors.base import Detector
from bastion.errors import StorageUnavailable
from bastion.findings import DETECTOR_ERROR, Finding


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


class Busy(RuntimeError):
    """Every thread of a detector's own pool is taken (its calls are still running)."""


class _Call:
    """One submitted call: the worker thread that runs it, and whether it has ended."""

    def __init__(self, detector: Detector, item: Item, done: Callable[[], None]) -> None:
        self.detector = detector
        self.item = item
        self.thread_id: int | None = None
        self._done = done

    def __call__(self) -> Sequence[Finding]:
        self.thread_id = threading.get_ident()
        try:
            return self.detector.detect(self.item.content, subject=self.item.subject)
        finally:
            self._done()


class _OwnPool:
    """A detector's own bounded pool: ``size`` threads, no waiting line."""

    def __init__(self, name: str, size: int) -> None:
        self.size = size
        self._slots = threading.BoundedSemaphore(size)
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"bastion-{name}")

    def submit(self, detector: Detector, item: Item) -> tuple[_Call, Future[Sequence[Finding]]]:
        if not self._slots.acquire(blocking=False):
            raise Busy(f"all {self.size} of its calls are still running (slow endpoint)")
        call = _Call(detector, item, self._slots.release)
        future = self._pool.submit(call)
        # A call cancelled before it started never runs its own release.
        future.add_done_callback(lambda f: self._slots.release() if f.cancelled() else None)
        return call, future

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class Runner:
    def __init__(self, detectors: Sequence[Detector], *, timeout_s: float, threads: int) -> None:
        self.detectors = tuple(detectors)
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bastion-detector")
        self._own: dict[str, _OwnPool] = {}
        for detector in self.detectors:
            size = getattr(detector, "pool_size", None)
            if isinstance(size, int) and size > 0 and not detector.inline:
                self._own[detector.name] = _OwnPool(detector.name, size)

    def accepting(self, content: object, surface: str | None = None) -> list[Detector]:
        return [
            d
            for d in self.detectors
            if isinstance(content, d.accepts)
            and (surface is None or d.surfaces is None or surface in d.surfaces)
        ]

    def run(self, items: Sequence[Item], *, surface: str | None = None) -> list[Finding]:
        findings: list[Finding] = []
        pending: list[tuple[_Call, Future[Sequence[Finding]], float]] = []
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
                    try:
                        pending.append((*self._submit(detector, item), time.perf_counter()))
                    except Busy as exc:
                        findings.append(error_finding(detector.name, item.subject, str(exc)))
        for detector, item in inline:
            start = time.perf_counter()
            try:
                result: object = detector.detect(item.content, subject=item.subject)
            except StorageUnavailable:
                raise
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
        for call, future, start in pending:
            detector, item = call.detector, call.item
            remaining = max(0.0, start + self.timeout_s - time.perf_counter())
            try:
                result = future.result(timeout=remaining)
            except FutureTimeout:
                if not future.cancel():
                    _report_abandoned(call)
                findings.append(
                    error_finding(detector.name, item.subject, _late(None, self.timeout_s))
                )
                continue
            except StorageUnavailable:
                raise
            except Exception as exc:
                findings.append(error_finding(detector.name, item.subject, _describe(exc)))
                continue
            findings.extend(_checked(detector, result, item.subject))
        return findings

    def _submit(self, detector: Detector, item: Item) -> tuple[_Call, Future[Sequence[Finding]]]:
        own = self._own.get(detector.name)
        if own is not None:
            return own.submit(detector, item)
        call = _Call(detector, item, lambda: None)
        return call, self._pool.submit(call)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        for own in self._own.values():
            own.close()


def _report_abandoned(call: _Call) -> None:
    hook = getattr(call.detector, "abandoned", None)
    if callable(hook) and call.thread_id is not None:
        hook(call.thread_id)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _late(elapsed: float | None, limit: float) -> str:
    took = f" (took {elapsed * 1000:.0f} ms)" if elapsed is not None else ""
    return f"timed out after {limit * 1000:.0f} ms{took}"
