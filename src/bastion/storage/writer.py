"""How decisions reach the database.

``sync``: each check commits its decision before it returns (one fsync per check).
``background``: checks hand decisions to one writer thread that commits them in batches
(group commit: one fsync for many decisions, typically within a few milliseconds). Reads
look at decisions still in flight first, so a decision is readable as soon as it is returned.
A full queue or a database that keeps failing makes checks raise ``StorageUnavailable``
(the caller gets an error, never a decision that will silently not be kept).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Protocol

from bastion.errors import BastionError
from bastion.policy.model import Decision
from bastion.storage.decisions import DecisionRepository, StoredPrompt

log = logging.getLogger("bastion.storage")

Entry = tuple[Decision, StoredPrompt | None]


class StorageUnavailable(BastionError):
    code = "storage_unavailable"
    status = 503


class DecisionWriter(Protocol):
    def write(self, decision: Decision, prompt: StoredPrompt | None) -> None: ...

    def pending(self, decision_id: str) -> Decision | None: ...

    def flush(self, timeout: float = 10.0) -> None: ...

    def close(self) -> None: ...


class SyncWriter:
    def __init__(self, repository: DecisionRepository) -> None:
        self.repository = repository

    def write(self, decision: Decision, prompt: StoredPrompt | None) -> None:
        self.repository.add(decision, prompt)

    def pending(self, decision_id: str) -> Decision | None:
        return None

    def flush(self, timeout: float = 10.0) -> None:
        return None

    def close(self) -> None:
        return None


class BackgroundWriter:
    def __init__(
        self,
        repository: DecisionRepository,
        *,
        max_batch: int = 256,
        max_delay_s: float = 0.002,
        max_pending: int = 10_000,
        retry_s: float = 0.5,
    ) -> None:
        self.repository = repository
        self.max_batch = max_batch
        self.max_delay_s = max_delay_s
        self.retry_s = retry_s
        self._queue: queue.Queue[Entry | None] = queue.Queue(maxsize=max_pending)
        self._in_flight: dict[str, Decision] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._failing_since: float | None = None
        self._thread = threading.Thread(target=self._run, name="bastion-writer", daemon=True)
        self._thread.start()

    def write(self, decision: Decision, prompt: StoredPrompt | None) -> None:
        if self._failing_since is not None and time.monotonic() - self._failing_since > 30:
            raise StorageUnavailable("the database has been failing for 30 s; refusing checks")
        with self._lock:
            self._in_flight[decision.id] = decision
        try:
            self._queue.put_nowait((decision, prompt))
        except queue.Full:
            with self._lock:
                self._in_flight.pop(decision.id, None)
            raise StorageUnavailable("too many decisions waiting to be stored") from None

    def pending(self, decision_id: str) -> Decision | None:
        with self._lock:
            return self._in_flight.get(decision_id)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self.max_delay_s
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[Entry]) -> None:
        while True:
            try:
                self.repository.add_many(batch)
            except Exception:
                if self._failing_since is None:
                    self._failing_since = time.monotonic()
                log.exception("storing %d decision(s) failed; retrying", len(batch))
                time.sleep(self.retry_s)
                continue
            self._failing_since = None
            with self._lock:
                for decision, _ in batch:
                    self._in_flight.pop(decision.id, None)
                self._idle.notify_all()
            return

    def flush(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise StorageUnavailable(f"{len(self._in_flight)} decision(s) not yet stored")
                self._idle.wait(remaining)

    def close(self) -> None:
        self.flush()
        self._queue.put(None)
        self._thread.join(timeout=10)
