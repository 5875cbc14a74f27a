"""How decisions reach the database. A decision is committed before it is returned.

``sync``: each check commits its own decision (one transaction and fsync per check).
``background``: checks hand decisions to one writer thread and wait for it. The thread commits
everything that queued up while its previous commit ran in one transaction (group commit: one
fsync for many concurrent checks, no artificial delay), then wakes each waiting check. A check
returns its decision only after that commit; if the commit fails, or does not finish within
``wait_s``, the check raises :class:`~bastion.errors.StorageUnavailable` (503) instead.

While the database is failing, the background writer refuses new decisions at once for
``refuse_s`` after each failure (no caller waits for a connect that is bound to fail), then
tries again with the next check: service resumes by itself when the database is back.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Protocol

from bastion.errors import StorageUnavailable
from bastion.policy.model import Decision
from bastion.storage.decisions import DecisionRepository, StoredPrompt

__all__ = ["BackgroundWriter", "DecisionWriter", "StorageUnavailable", "SyncWriter"]

log = logging.getLogger("bastion.storage")

NOT_STORED = "the database is unavailable; the decision was not stored"


class DecisionWriter(Protocol):
    def write(self, decision: Decision, prompt: StoredPrompt | None) -> None:
        """Return once the decision is committed; raise StorageUnavailable if it is not."""

    def pending(self, decision_id: str) -> Decision | None: ...

    def flush(self, timeout: float = 10.0) -> None: ...

    def close(self) -> None: ...


def _unavailable(exc: BaseException) -> StorageUnavailable:
    if not isinstance(exc, StorageUnavailable):
        log.error("storing a decision failed", exc_info=exc)
    return StorageUnavailable(NOT_STORED)


class SyncWriter:
    def __init__(self, repository: DecisionRepository) -> None:
        self.repository = repository

    def write(self, decision: Decision, prompt: StoredPrompt | None) -> None:
        try:
            self.repository.add(decision, prompt)
        except Exception as exc:
            raise _unavailable(exc) from exc

    def pending(self, decision_id: str) -> Decision | None:
        return None

    def flush(self, timeout: float = 10.0) -> None:
        return None

    def close(self) -> None:
        return None


class _Entry:
    """One decision waiting for its commit; the writer thread sets ``done`` after it."""

    __slots__ = ("decision", "done", "error", "prompt")

    def __init__(self, decision: Decision, prompt: StoredPrompt | None) -> None:
        self.decision = decision
        self.prompt = prompt
        self.done = threading.Event()
        self.error: BaseException | None = None


class BackgroundWriter:
    def __init__(
        self,
        repository: DecisionRepository,
        *,
        max_batch: int = 256,
        max_pending: int = 10_000,
        wait_s: float = 10.0,
        refuse_s: float = 0.5,
    ) -> None:
        self.repository = repository
        self.max_batch = max_batch
        self.wait_s = wait_s
        self.refuse_s = refuse_s
        self._queue: queue.Queue[_Entry | None] = queue.Queue(maxsize=max_pending)
        self._refuse_until = 0.0  # monotonic time until which new decisions are refused
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="bastion-writer", daemon=True)
        self._thread.start()

    @property
    def failing(self) -> bool:
        """True while the last commit failed and new decisions are refused."""
        return time.monotonic() < self._refuse_until

    def write(self, decision: Decision, prompt: StoredPrompt | None) -> None:
        if self._closed:
            raise StorageUnavailable("the decision writer is closed")
        if self.failing:
            raise StorageUnavailable(NOT_STORED)
        entry = _Entry(decision, prompt)
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            raise StorageUnavailable("too many decisions waiting to be stored") from None
        if not entry.done.wait(self.wait_s):
            raise StorageUnavailable(f"the decision was not stored within {self.wait_s:g} s")
        if entry.error is not None:
            raise _unavailable(entry.error) from entry.error

    def pending(self, decision_id: str) -> Decision | None:
        """Always None: a decision is committed before anyone sees its id."""
        return None

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[_Entry]) -> None:
        if self.failing:  # queued before the failure was known: do not wait for it again
            self._finish(batch, StorageUnavailable(NOT_STORED))
            return
        try:
            self.repository.add_many([(entry.decision, entry.prompt) for entry in batch])
        except StorageUnavailable as exc:
            self._refuse_until = time.monotonic() + self.refuse_s
            log.error("storing %d decision(s) failed: %s", len(batch), exc.__cause__ or exc)
            self._finish(batch, exc)
            return
        except Exception as exc:
            if len(batch) > 1:  # one bad row must not fail the checks batched with it
                for entry in batch:
                    self._commit([entry])
                return
            self._finish(batch, exc)
            return
        self._finish(batch, None)

    @staticmethod
    def _finish(batch: list[_Entry], error: BaseException | None) -> None:
        for entry in batch:
            entry.error = error
            entry.done.set()

    def flush(self, timeout: float = 10.0) -> None:
        """Nothing to wait for: every decision returned so far is committed."""
        return None

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=self.wait_s)
