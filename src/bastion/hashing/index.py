"""Exact Hamming-radius search over 256-bit hashes.

``LinearIndex`` is the executable specification: compare the query with every stored hash.
``MultiIndex`` gives the same answers (tested against the linear index at exact distances,
with both engines) by multi-index hashing (:mod:`bastion.hashing.mih`): the bits are cut into
tables of about log2(n) bits, and a query probes each table's keys within a small per-table
threshold; by the generalised pigeonhole principle every hash within the radius shares a
probed key, and candidates are verified on all 256 bits. Tables are CSR arrays (offsets per
key, then 3-byte row numbers); nothing is a Python object per hash. The compiled engine does
a 10M-hash lookup in a fraction of a millisecond; numpy is the fallback.

Changes are incremental (log-structured): an ``add`` becomes a new small segment, searched
by brute force while small; segments of similar size are merged by a rebuild of just those
segments, so each hash is rebuilt O(log n) times in its life. ``remove`` is a tombstone,
dropped at the next merge. Ids need not be unique per row: one bank entry can have several
hashes (crops, mirrors); results are reduced to the closest hash per id. Re-adding a removed
id revives its earlier rows as well (bank entries keep their hashes for life).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bastion.hashing import mih

BITS = 256
MAX_RADIUS = 31
SMALL = 4096  # segments up to this many rows are searched by brute force


def as_codes(hashes: Iterable[bytes] | np.ndarray) -> np.ndarray:
    """Hashes as an (n, 4) uint64 array (32 bytes each, native order; popcount ignores it)."""
    if isinstance(hashes, np.ndarray):
        array = np.ascontiguousarray(hashes)
        if array.dtype == np.uint64 and array.ndim == 2 and array.shape[1] == 4:
            return array
        if array.dtype == np.uint8 and array.ndim == 2 and array.shape[1] == 32:
            return array.view(np.uint64)
        raise ValueError("expected (n, 32) uint8 or (n, 4) uint64 codes")
    data = b"".join(hashes)
    if len(data) % 32:
        raise ValueError("every hash must be 32 bytes")
    return np.frombuffer(data, dtype=np.uint64).reshape(-1, 4).copy()


@dataclass(frozen=True, slots=True)
class Hit:
    id: int
    distance: int


class Index(Protocol):
    def add(self, ids: Sequence[int] | np.ndarray, codes: np.ndarray) -> None: ...
    def remove(self, ids: Iterable[int]) -> None: ...
    def search(self, code: bytes, radius: int = MAX_RADIUS) -> list[Hit]: ...
    def __len__(self) -> int: ...


def _reduce(ids: np.ndarray, distances: np.ndarray, dead: Set[int]) -> list[Hit]:
    best: dict[int, int] = {}
    for i, d in zip(ids.tolist(), distances.tolist(), strict=True):
        if i in dead:
            continue
        if d < best.get(i, BITS + 1):
            best[i] = d
    return sorted((Hit(i, d) for i, d in best.items()), key=lambda h: (h.distance, h.id))


def _check_radius(radius: int) -> None:
    if not 0 <= radius <= MAX_RADIUS:
        raise ValueError(f"radius must be between 0 and {MAX_RADIUS}, got {radius}")


class LinearIndex:
    """The reference: a brute-force scan. Obviously correct; O(n) per query."""

    def __init__(self) -> None:
        self._codes = np.zeros((0, 4), dtype=np.uint64)
        self._ids = np.zeros(0, dtype=np.int64)
        self._dead: set[int] = set()

    def add(self, ids: Sequence[int] | np.ndarray, codes: np.ndarray) -> None:
        codes = as_codes(codes)
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) != len(codes):
            raise ValueError("ids and codes differ in length")
        self._codes = np.concatenate([self._codes, codes])
        self._ids = np.concatenate([self._ids, ids])
        self._dead.difference_update(ids.tolist())

    def remove(self, ids: Iterable[int]) -> None:
        gone = set(ids)
        keep = ~np.isin(self._ids, list(gone))
        self._codes, self._ids = self._codes[keep], self._ids[keep]

    def search(self, code: bytes, radius: int = MAX_RADIUS) -> list[Hit]:
        _check_radius(radius)
        query = as_codes([code])[0]
        distances = np.bitwise_count(self._codes ^ query).sum(axis=1)
        hit = distances <= radius
        return _reduce(self._ids[hit], distances[hit], self._dead)

    def __len__(self) -> int:
        return len(self._ids)


class _Segment:
    """An immutable batch of hashes: brute force while small, multi-index tables otherwise."""

    def __init__(self, parts: Sequence[tuple[np.ndarray, np.ndarray]], engine: str) -> None:
        self.size = sum(len(ids) for _, ids in parts)
        self.engine = engine
        self.indexed = self.size > SMALL
        self.tables: mih.Segment | None = None
        if self.indexed:
            self.tables = mih.Segment(parts, engine=engine)
            self.ids, self.codes = self.tables.ids, self.tables.codes
        else:
            self.codes = np.concatenate([codes for codes, _ in parts])
            self.ids = np.concatenate([ids for _, ids in parts])

    @property
    def nbytes(self) -> int:
        if self.tables is not None:
            return self.tables.nbytes
        return int(self.codes.nbytes + self.ids.nbytes)

    def search(self, query: bytes, radius: int) -> tuple[np.ndarray, np.ndarray]:
        if self.tables is not None:
            return self.tables.search(query, radius)
        rows, distances = mih.scan(self.codes, query, radius, self.engine)
        return self.ids[rows].astype(np.int64), distances


class MultiIndex:
    """Exact radius search (radius ≤ 31) by multi-index hashing, with incremental changes.

    ``engine`` is ``"c"`` (the compiled fast path, the default when built) or ``"numpy"``;
    both build the same tables and give the same answers. Thread-safe: searches read an
    immutable snapshot of the segment list; changes swap it.
    """

    def __init__(self, *, merge_factor: int = 4, engine: str | None = None) -> None:
        self.engine = engine or mih.default_engine()
        if self.engine not in mih.ENGINES:
            raise ValueError(f"index engine {self.engine!r} is not available ({mih.ENGINES})")
        self._segments: tuple[_Segment, ...] = ()
        self._dead: frozenset[int] = frozenset()
        self._lock = threading.Lock()
        self._merge_factor = merge_factor

    def add(self, ids: Sequence[int] | np.ndarray, codes: np.ndarray) -> None:
        codes = as_codes(codes)
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) != len(codes):
            raise ValueError("ids and codes differ in length")
        if not len(ids):
            return
        with self._lock:
            segments = [*self._segments, _Segment([(codes, ids)], self.engine)]
            dead = set(self._dead)
            if dead:  # re-added ids are alive again (no per-id Python objects for big adds)
                gone = np.fromiter(dead, dtype=np.int64, count=len(dead))
                dead.difference_update(np.intersect1d(ids, gone).tolist())
            while len(segments) > 1 and (
                segments[-2].size <= self._merge_factor * segments[-1].size
                or segments[-1].size <= SMALL // 4 < segments[-2].size <= SMALL
            ):
                last, before = segments.pop(), segments.pop()
                segments.append(self._merge([before, last], dead))
            self._segments, self._dead = tuple(segments), frozenset(dead)

    def _merge(self, segments: Sequence[_Segment], dead: set[int]) -> _Segment:
        """One segment of the live rows of ``segments`` (no concatenated copy on the way)."""
        gone = np.fromiter(dead, dtype=np.int64, count=len(dead)) if dead else None
        parts = []
        for segment in segments:
            codes, ids = segment.codes, segment.ids.astype(np.int64, copy=False)
            if gone is not None:
                keep = ~np.isin(ids, gone)
                if not keep.all():
                    codes, ids = codes[keep], ids[keep]
            parts.append((codes, ids))
        return _Segment(parts, self.engine)

    def remove(self, ids: Iterable[int]) -> None:
        with self._lock:
            self._dead = self._dead | frozenset(int(i) for i in ids)

    def compact(self) -> None:
        """Rebuild everything into one segment without tombstones (e.g. after a bulk load)."""
        with self._lock:
            segments, dead = self._segments, set(self._dead)
            if not segments or (len(segments) == 1 and not dead):
                return
            self._segments, self._dead = (self._merge(segments, dead),), frozenset()

    def search(self, code: bytes, radius: int = MAX_RADIUS) -> list[Hit]:
        _check_radius(radius)
        if not isinstance(code, bytes) or len(code) != BITS // 8:
            code = as_codes([bytes(code)]).tobytes()
        segments, dead = self._segments, self._dead
        found = [f for f in (segment.search(code, radius) for segment in segments) if len(f[0])]
        if not found:
            return []
        if len(found) == 1:
            return _reduce(found[0][0], found[0][1], dead)
        ids = np.concatenate([f[0] for f in found])
        distances = np.concatenate([f[1] for f in found])
        return _reduce(ids, distances, dead)

    def __len__(self) -> int:
        return sum(s.size for s in self._segments)

    @property
    def segment_sizes(self) -> list[int]:
        return [s.size for s in self._segments]

    @property
    def nbytes(self) -> int:
        """Bytes held by codes, ids and tables (the index's memory, less Python overhead)."""
        return sum(s.nbytes for s in self._segments)
