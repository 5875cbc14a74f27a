"""Readiness: can this process screen content right now?

One check for the database (it answers a query) and one per enabled detector (its
:meth:`~bastion.detectors.base.Detector.ready` hook: model loaded, model file unchanged, bank
index fresh). Every check runs in its own daemon thread and counts as failed when it does not
answer within the timeout, so a hung database connect cannot hang the probe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bastion.detectors.base import Detector
from bastion.errors import BastionError
from bastion.storage.db import Database

log = logging.getLogger("bastion.readiness")

DATABASE = "database"


@dataclass(frozen=True, slots=True)
class Check:
    """One readiness check: ``name`` is ``database`` or ``detector:<name>``."""

    name: str
    ok: bool
    detail: str | None = None


def _database(db: Database) -> Callable[[], Sequence[str]]:
    def probe() -> Sequence[str]:
        db.ping()
        return ()

    return probe


def _describe(exc: Exception) -> str:
    # Typed errors carry a message meant for callers; anything else is logged, not echoed.
    if isinstance(exc, BastionError):
        return exc.message
    return f"check failed ({type(exc).__name__})"


class _Probe:
    def __init__(self, name: str, probe: Callable[[], Sequence[str]]) -> None:
        self.name = name
        self.result: Check | None = None
        self.thread = threading.Thread(target=self._run, args=(probe,), daemon=True)
        self.thread.name = f"bastion-ready-{name}"

    def _run(self, probe: Callable[[], Sequence[str]]) -> None:
        try:
            problems = list(probe())
        except Exception as exc:
            log.warning("readiness check %s failed", self.name, exc_info=exc)
            problems = [_describe(exc)]
        self.result = Check(self.name, not problems, "; ".join(problems) or None)


def check(db: Database, detectors: Sequence[Detector], *, timeout_s: float) -> list[Check]:
    """Run every check at once; each gets until ``timeout_s`` from now to answer."""
    probes = [_Probe(DATABASE, _database(db))]
    probes += [_Probe(f"detector:{d.name}", d.ready) for d in detectors]
    for probe in probes:
        probe.thread.start()
    deadline = time.monotonic() + timeout_s
    checks = []
    for probe in probes:
        probe.thread.join(max(0.0, deadline - time.monotonic()))
        checks.append(probe.result or Check(probe.name, False, f"no answer within {timeout_s:g} s"))
    for failed in (c for c in checks if not c.ok):
        log.warning("not ready: %s: %s", failed.name, failed.detail)
    return checks
