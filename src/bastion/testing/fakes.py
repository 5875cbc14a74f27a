"""Fake detectors whose findings, errors and delays are set by the test."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from bastion.clock import utc
from bastion.content import Prompt
from bastion.detectors.base import Detector
from bastion.detectors.registry import Registry
from bastion.findings import Finding


class FakeDetector(Detector):
    """Returns ``findings`` for every item (with the item's subject), or raises, or sleeps.

    Subclass through :func:`fake_detector_class` to give it a name, labels and content type.
    """

    name: ClassVar[str] = "fake"
    accepts: ClassVar[type] = Prompt
    labels: ClassVar[frozenset[str]] = frozenset({"fake"})
    findings: ClassVar[Sequence[tuple[str, float]]] = ()
    error: ClassVar[BaseException | None] = None
    delay_s: ClassVar[float] = 0.0
    decide: ClassVar[Callable[[Any], Sequence[tuple[str, float]]] | None] = None

    def detect(self, item: Any, *, subject: str) -> Sequence[Finding]:
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        decide = type(self).decide
        pairs = decide(item) if decide is not None else self.findings
        return [
            Finding(detector=self.name, label=label, score=score, subject=subject)
            for label, score in pairs
        ]


def fake_detector_class(
    name: str,
    labels: Iterable[str],
    *,
    findings: Sequence[tuple[str, float]] = (),
    accepts: type = Prompt,
    error: BaseException | None = None,
    delay_s: float = 0.0,
    inline: bool = False,
    decide: Callable[[Any], Sequence[tuple[str, float]]] | None = None,
) -> type[FakeDetector]:
    attributes: dict[str, Any] = {
        "name": name,
        "labels": frozenset(labels),
        "findings": tuple(findings),
        "accepts": accepts,
        "error": error,
        "delay_s": delay_s,
        "inline": inline,
        "decide": staticmethod(decide) if decide is not None else None,
    }
    return type(f"Fake_{name}", (FakeDetector,), attributes)


def make_registry(*classes: type[Detector], with_builtins: bool = False) -> Registry:
    registry = Registry()
    if with_builtins:
        registry.load_entry_points()
    for cls in classes:
        registry.register(cls)
    return registry


class FrozenClock:
    """A clock that stands still until the test moves it."""

    def __init__(self, start: datetime) -> None:
        self._now = utc(start)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, value: datetime) -> None:
        self._now = utc(value)
