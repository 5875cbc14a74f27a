"""Exact Hamming-radius search over 256-bit hashes.

``LinearIndex`` is the executable specification: compare the query with every stored hash.
``MultiIndex`` gives the same answers (tested against the linear index at exact distances)
by multi-index hashing: the 256 bits are cut into 12 segments of 21 bits; two hashes within
distance 31 agree within distance 2 on at least one segment (12 × 3 > 31, the pigeonhole
principle), so probing every segment's table at radius ≤ 2 finds every true match, and the
candidates are verified on all 256 bits. Tables are CSR arrays (offsets per key, then row
numbers), a few bytes per hash and segment; nothing is a Python object per hash.

Changes are incremental (log-structured): an ``add`` becomes a new small segment, searched
by brute force while small; segments of similar size are merged by a rebuild of just those
segments, so each hash is rebuilt O(log n) times in its life. ``remove`` is a tombstone,
dropped at the next merge. Ids need not be unique per row: one bank entry can have several
hashes (crops, mirrors); results are reduced to the closest hash per id.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Protocol

import numpy as np

BITS = 256
MAX_RADIUS = 31
SEGMENTS = 12
SEGMENT_BITS = 21  # 12 × 21 = 252 bits indexed; the pigeonhole bound holds on any subset
PROBE_RADIUS = MAX_RADIUS // SEGMENTS  # 2
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


def _reduce(ids: np.ndarray, distances: np.ndarray, dead: set[int]) -> list[Hit]:
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


def _segment_keys(codes: np.ndarray, segment: int) -> np.ndarray:
    """Bits [21·s, 21·s+21) of each code (bit 0 = the lowest bit of the first uint64)."""
    start = segment * SEGMENT_BITS
    word, shift = divmod(start, 64)
    low = codes[:, word] >> np.uint64(shift)
    if shift + SEGMENT_BITS > 64:
        low = low | (codes[:, word + 1] << np.uint64(64 - shift))
    return (low & np.uint64((1 << SEGMENT_BITS) - 1)).astype(np.int64)


def _probe_masks(bits: int, radius: int) -> np.ndarray:
    masks = [0]
    for r in range(1, radius + 1):
        masks.extend(sum(1 << b for b in combo) for combo in combinations(range(bits), r))
    return np.array(masks, dtype=np.int64)


_MASKS = _probe_masks(SEGMENT_BITS, PROBE_RADIUS)
_TABLE = 1 << SEGMENT_BITS


class _Segment:
    """An immutable batch of hashes; brute force when small, multi-index tables otherwise."""

    def __init__(self, ids: np.ndarray, codes: np.ndarray) -> None:
        self.size = len(ids)
        self.indexed = self.size > SMALL
        if not self.indexed:
            self.ids, self.codes = ids, codes
            return
        # Rows sorted by segment 0's key, so table 0 needs no row numbers of its own.
        keys0 = _segment_keys(codes, 0)
        order = np.argsort(keys0, kind="stable")
        self.codes = np.ascontiguousarray(codes[order])
        self.ids = np.ascontiguousarray(ids[order])
        counts = np.bincount(keys0, minlength=_TABLE)
        del keys0, order
        offsets = np.zeros((SEGMENTS, _TABLE + 1), dtype=np.uint32)
        offsets[0, 1:] = np.cumsum(counts)
        rows = np.empty((SEGMENTS - 1, self.size), dtype=np.uint32)
        for s in range(1, SEGMENTS):
            keys = _segment_keys(self.codes, s)
            rows[s - 1] = np.argsort(keys, kind="stable")
            offsets[s, 1:] = np.cumsum(np.bincount(keys, minlength=_TABLE))
        self.offsets = offsets.reshape(-1)
        self.rows = rows.reshape(-1)

    def candidates(self, query: np.ndarray) -> np.ndarray:
        """Row numbers that share a segment within the probe radius (with repeats)."""
        keys = np.array([_segment_keys(query[None, :], s)[0] for s in range(SEGMENTS)])
        probes = (keys[:, None] ^ _MASKS[None, :]) + (np.arange(SEGMENTS) * (_TABLE + 1))[:, None]
        probes = probes.reshape(-1)
        starts = self.offsets[probes].astype(np.int64)
        lengths = self.offsets[probes + 1].astype(np.int64) - starts
        nonzero = lengths > 0
        starts, lengths, probes = starts[nonzero], lengths[nonzero], probes[nonzero]
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64)
        table = probes // (_TABLE + 1)
        # Table 0 is the row order itself; tables 1.. store rows after a base of (s-1)·n.
        base = np.where(table == 0, -1, (table - 1) * self.size)
        ends = np.cumsum(lengths)
        flat = np.arange(total) - np.repeat(ends - lengths - starts, lengths)
        owner = np.repeat(base, lengths)
        direct = owner < 0
        out = np.empty(total, dtype=np.int64)
        out[direct] = flat[direct]
        out[~direct] = self.rows[flat[~direct] + owner[~direct]]
        return out

    def search(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        if self.indexed:
            rows = self.candidates(query)
            distances = np.bitwise_count(self.codes[rows] ^ query).sum(axis=1)
            hit = distances <= radius
            return self.ids[rows[hit]], distances[hit]
        distances = np.bitwise_count(self.codes ^ query).sum(axis=1)
        hit = distances <= radius
        return self.ids[hit], distances[hit]


class MultiIndex:
    """Exact radius search (radius ≤ 31) by multi-index hashing, with incremental changes.

    Thread-safe: searches read an immutable snapshot of the segment list; changes swap it.
    """

    def __init__(self, *, merge_factor: int = 4) -> None:
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
            segments = [*self._segments, _Segment(ids, codes)]
            dead = set(self._dead)
            dead.difference_update(ids.tolist())
            while len(segments) > 1 and (
                segments[-2].size <= self._merge_factor * segments[-1].size
                or segments[-1].size <= SMALL // 4 < segments[-2].size <= SMALL
            ):
                last, before = segments.pop(), segments.pop()
                segments.append(self._merge(before, last, dead))
            self._segments, self._dead = tuple(segments), frozenset(dead)

    @staticmethod
    def _merge(a: _Segment, b: _Segment, dead: set[int]) -> _Segment:
        ids = np.concatenate([a.ids, b.ids])
        codes = np.concatenate([a.codes, b.codes])
        if dead:
            keep = ~np.isin(ids, np.fromiter(dead, dtype=np.int64))
            ids, codes = ids[keep], codes[keep]
        return _Segment(ids, codes)

    def remove(self, ids: Iterable[int]) -> None:
        with self._lock:
            self._dead = self._dead | frozenset(int(i) for i in ids)

    def compact(self) -> None:
        """Rebuild everything into one segment without tombstones (e.g. after a bulk load)."""
        with self._lock:
            segments, dead = self._segments, set(self._dead)
            if not segments:
                return
            merged = segments[0]
            for segment in segments[1:]:
                merged = self._merge(merged, segment, dead)
            if len(segments) == 1 and dead:
                merged = self._merge(
                    merged, _Segment(np.zeros(0, np.int64), merged.codes[:0]), dead
                )
            self._segments, self._dead = (merged,), frozenset()

    def search(self, code: bytes, radius: int = MAX_RADIUS) -> list[Hit]:
        _check_radius(radius)
        query = as_codes([code])[0]
        segments, dead = self._segments, self._dead
        found = [segment.search(query, radius) for segment in segments]
        if not found:
            return []
        ids = np.concatenate([f[0] for f in found])
        distances = np.concatenate([f[1] for f in found])
        return _reduce(ids, distances, set(dead))

    def __len__(self) -> int:
        return sum(s.size for s in self._segments)

    @property
    def segment_sizes(self) -> list[int]:
        return [s.size for s in self._segments]
