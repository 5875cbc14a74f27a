"""The in-memory matcher: one index over every enabled bank hash, kept fresh from the feed.

Every process (API replica, worker) holds one. Writes made through this process are applied
at once (a hash added here matches on the next lookup); changes made elsewhere arrive through
the change feed — ``bank_changes`` rows with increasing sequence numbers — which a background
refresher thread applies every ``sync_interval_s`` (:meth:`Matcher.start`). Lookups never
apply the feed themselves: they search an immutable snapshot of the index, so a bulk import
elsewhere (200k hashes) never slows or fails a scan. With ``sync_interval_s`` 0 there is no
thread and every lookup applies the feed first (one-shot tools, tests). A Postgres
LISTEN/NOTIFY or logical-replication feed can call :meth:`Matcher.apply` directly instead.

Sequence numbers are handed out when a change is written, not when it commits: a long
transaction (a moderation decision that banks a removed item) can commit after a later,
shorter one. The matcher remembers every gap it skipped and looks for it again on each
refresh until it fills or ``HOLE_WAIT_S`` passes (a rolled-back change leaves a gap forever).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Iterable, Sequence

import numpy as np

from bastion.hashing.index import MAX_RADIUS, Hit, MultiIndex
from bastion.hashing.model import Bank
from bastion.storage.banks import BankRepository, Change, IndexRow

log = logging.getLogger("bastion.hashing")

LOAD_BATCH = 200_000
# How long a gap in the feed is looked for (longer than any transaction that writes banks).
HOLE_WAIT_S = 600.0
MAX_HOLES = 100_000
# After a full load, gaps among the newest changes may be transactions still in flight.
LOAD_LOOKBACK = 1_000


class Matcher:
    def __init__(self, repository: BankRepository, *, sync_interval_s: float = 1.0) -> None:
        self.repository = repository
        self.sync_interval_s = sync_interval_s
        self._lock = threading.RLock()
        self._index = MultiIndex()
        self._banks: dict[int, Bank] = {}
        self._seq = -1
        self._checked = 0.0
        self._holes: dict[int, float] = {}  # missing sequence number -> when it was noticed
        self._local: set[int] = set()  # entries this process added ahead of the feed
        self._local_lock = threading.Lock()
        self._refresher: threading.Thread | None = None
        self._stop = threading.Event()
        self.last_error: str | None = None

    # -- the background refresher -------------------------------------------------------------

    @property
    def background(self) -> bool:
        """Whether a refresher thread applies the feed (lookups then only read)."""
        return self._refresher is not None

    def ensure_current(self) -> None:
        """Before a lookup: load once, start the refresher, or (interval 0) apply the feed."""
        if self._refresher is not None:
            return
        if self.sync_interval_s <= 0:
            self.refresh()
            return
        with self._lock:
            if self._refresher is not None:
                return
            if self._seq < 0:
                self.load()
            self._stop.clear()
            self._refresher = threading.Thread(
                target=_refresh_loop,
                args=(weakref.ref(self), self._stop, self.sync_interval_s),
                name="bastion-bank-refresh",
                daemon=True,
            )
            self._refresher.start()

    def apply_local(
        self, *, added: Sequence[int] = (), removed: Sequence[int] = (), banks: bool = False
    ) -> None:
        """Make a change this process just committed matchable at once, without applying the
        rest of the feed here (the refresher brings that; the feed's copy is then skipped)."""
        if self._seq < 0:
            return  # not loaded yet: the first load reads it from the database
        if removed:
            self._index.remove(removed)
        if added:
            with self._local_lock:
                self._local.update(added)
            self._add_rows(self._index, list(self.repository.index_rows(list(added))))
        if banks:
            self._banks = {b.id: b for b in self.repository.list_banks()}

    def stop(self) -> None:
        """Stop the refresher (the snapshot stays searchable)."""
        thread, self._refresher = self._refresher, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout=10)

    # -- loading and the change feed ----------------------------------------------------------

    def load(self) -> None:
        """Build the index from the database (on start, or when the feed cannot catch up)."""
        with self._lock:
            seq = self.repository.last_seq()
            index = MultiIndex()
            batch: list[IndexRow] = []
            for row in self.repository.index_rows():
                batch.append(row)
                if len(batch) >= LOAD_BATCH:
                    self._add_rows(index, batch)
                    batch = []
            self._add_rows(index, batch)
            index.compact()
            self._index, self._seq = index, seq
            self._banks = {b.id: b for b in self.repository.list_banks()}
            self._checked = time.monotonic()
            low = max(1, seq - LOAD_LOOKBACK + 1)
            present = self.repository.seqs_between(low, seq) if seq >= low else set()
            self._holes = {s: self._checked for s in range(low, seq + 1) if s not in present}

    @staticmethod
    def _add_rows(index: MultiIndex, rows: Sequence[IndexRow]) -> None:
        if not rows:
            return
        codes = np.frombuffer(b"".join(bytes.fromhex(r.hash) for r in rows), dtype=np.uint64)
        index.add(np.array([r.entry_id for r in rows], dtype=np.int64), codes.reshape(-1, 4))

    def refresh(self, *, force: bool = False) -> None:
        """Apply the feed if the last look is older than the sync interval (or ``force``)."""
        if self._seq < 0:
            self.load()
            return
        if not force and time.monotonic() - self._checked < self.sync_interval_s:
            return
        with self._lock:
            self._fill_holes()
            while True:
                changes = self.repository.changes_since(self._seq)
                if not changes:
                    break
                self.apply(changes)
            self._checked = time.monotonic()

    def apply(self, changes: Iterable[Change]) -> None:
        """Apply feed entries in sequence order (idempotent for entries already applied)."""
        with self._lock:
            added: list[int] = []
            removed: list[int] = []
            banks_changed = False
            for change in changes:
                if change.seq <= self._seq:
                    if self._holes.pop(change.seq, None) is None:
                        continue  # applied before
                else:
                    if change.seq > self._seq + 1:
                        self._note_holes(self._seq + 1, change.seq)
                    self._seq = change.seq
                if change.op == "bank":
                    banks_changed = True
                elif change.op in ("add", "enable") and change.entry_id is not None:
                    with self._local_lock:
                        if change.entry_id in self._local:  # applied when it was written here
                            self._local.discard(change.entry_id)
                            continue
                    added.append(change.entry_id)
                elif change.op == "disable" and change.entry_id is not None:
                    removed.append(change.entry_id)
            if removed:
                self._index.remove(removed)
            if added:
                # Re-adding an entry seen before only duplicates index rows; hits are
                # reduced per entry, and disabled entries are dropped when resolved.
                self._add_rows(self._index, list(self.repository.index_rows(added)))
            if banks_changed:
                self._banks = {b.id: b for b in self.repository.list_banks()}

    def _note_holes(self, start: int, stop: int) -> None:
        now = time.monotonic()
        for seq in range(max(start, stop - MAX_HOLES), stop):
            self._holes.setdefault(seq, now)

    def _fill_holes(self) -> None:
        """Apply changes that committed after later ones; forget gaps older than the wait."""
        if not self._holes:
            return
        cutoff = time.monotonic() - HOLE_WAIT_S
        self._holes = {s: t for s, t in self._holes.items() if t >= cutoff}
        if self._holes:
            self.apply(self.repository.changes_in(list(self._holes)))

    @property
    def holes(self) -> frozenset[int]:
        """The sequence numbers missing from the change feed that are still awaited."""
        return frozenset(self._holes)

    # -- lookups ------------------------------------------------------------------------------

    def banks(self) -> dict[int, Bank]:
        return dict(self._banks)

    def search(self, code: bytes, radius: int = MAX_RADIUS) -> list[Hit]:
        """Entry ids with a hash within ``radius`` (closest hash per entry)."""
        return self._index.search(code, radius)

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def staleness_s(self) -> float | None:
        """Seconds since the index last caught up with the database (None: never loaded)."""
        return None if self._seq < 0 else time.monotonic() - self._checked

    def __len__(self) -> int:
        return len(self._index)


def _refresh_loop(ref: weakref.ref[Matcher], stop: threading.Event, interval_s: float) -> None:
    """The refresher thread. It holds the matcher weakly: a matcher nobody uses any more (a
    service that was never closed) is collected and its thread ends."""
    while not stop.wait(interval_s):
        matcher = ref()
        if matcher is None:
            return
        try:
            matcher.refresh(force=True)
            matcher.last_error = None
        except Exception as exc:  # the database is down: keep the snapshot, retry
            matcher.last_error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            log.warning("bank feed refresh failed: %s", matcher.last_error)
        del matcher
