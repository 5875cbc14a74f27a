"""Multi-index hashing segments: layout choice, build and search (C fast path, numpy fallback).

A segment's 256-bit codes are cut into ``m`` tables of ``width`` bits each (bit 0 = the lowest
bit of the first uint64). A query probes, in table ``s``, every key within ``t_s`` bits of its
own key. By the generalised pigeonhole principle, if ``sum(t_s) >= radius + 1 - m`` then every
code within ``radius`` of the query is within ``t_s`` of it on some table ``s`` (otherwise the
distance would be at least ``sum(t_s + 1) > radius``), so it is a candidate; candidates are
verified on all 256 bits. ``t_s = -1`` skips a table. Thresholds are chosen per radius, and
the table count and widths per segment size, by a cost model (probes + candidates, each about
one cache miss) under a memory cap — a 10M-hash segment uses 12 tables of 21-22 bits with
thresholds 2 and 1; a 10k one uses narrower tables.

Layout in memory (identical whichever engine built it; tests compare the two builds):

* ``codes`` (n×4 uint64) and ``ids`` (n uint32, or int64 when an id does not fit), both in
  table 0's key order, so table 0's buckets are contiguous runs of codes;
* per table, ``offsets`` (uint32, 2**width + 1): bucket ``k`` is ``offsets[k]:offsets[k+1]``;
* per table ``s >= 1``, ``rows``: positions in ``codes`` in key order, 3 little-endian bytes
  each below 2**24 codes (plus one byte of padding), else 4.

The C extension (``_mih``, built by ``pip install -e .``) runs build and search without the
GIL, prefetching each stage's memory; the numpy functions here compute the same thing and are
the fallback when the extension is missing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from math import comb
from typing import Any

import numpy as np

log = logging.getLogger("bastion.hashing")

BITS = 256
MAX_RADIUS = 31
ABI = 3  # must equal MIH_ABI in _mih.c
MAX_TABLE_BYTES_PER_CODE = 50  # memory cap for tables (rows + offsets): per code, plus
MAX_TABLE_EXTRA = 16 << 20  # this much
MAX_PROBE = 3
MAX_WIDTH = 30
PROBE_COST = 1.5  # a probe: a bucket-bounds miss, plus a rows miss when the bucket is full


def _load_extension() -> Any:
    try:
        from bastion.hashing import _mih  # type: ignore[attr-defined]
    except ImportError as exc:  # pragma: no cover - depends on the install
        log.warning("bastion.hashing._mih is not built (%s); using the numpy index", exc)
        return None
    if getattr(_mih, "ABI", None) != ABI:  # pragma: no cover - a stale build
        log.warning("bastion.hashing._mih is stale (ABI %s, want %s); using numpy", _mih.ABI, ABI)
        return None
    return _mih


_C: Any = _load_extension()
ENGINES = ("c", "numpy") if _C is not None else ("numpy",)


def default_engine() -> str:
    return ENGINES[0]


# -- layout -----------------------------------------------------------------------------------


def _probes(width: int, t: int) -> int:
    return sum(comb(width, j) for j in range(t + 1)) if t >= 0 else 0


@dataclass(frozen=True, slots=True)
class Layout:
    """Tables as (start bit, width), and per radius 0..31 the probe threshold of each table."""

    tables: tuple[tuple[int, int], ...]
    thresholds: tuple[tuple[int, ...], ...]
    cost: float

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(w for _, w in self.tables)


def _plans(widths: Sequence[int], n: int) -> dict[int, tuple[float, tuple[int, ...]]]:
    """For every reachable sum of thresholds, the cheapest thresholds (a DP over tables)."""
    best: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}
    for width in widths:
        costs = [
            (t, PROBE_COST * _probes(width, t) + _probes(width, t) * n / (1 << width))
            for t in range(-1, MAX_PROBE + 1)
        ]
        nxt: dict[int, tuple[float, tuple[int, ...]]] = {}
        for total, (cost, chosen) in best.items():
            for t, c in costs:
                if total + t not in nxt or cost + c < nxt[total + t][0]:
                    nxt[total + t] = (cost + c, (*chosen, t))
        best = nxt
    return best


def _cheapest(
    plans: dict[int, tuple[float, tuple[int, ...]]], need: int
) -> tuple[float, tuple[int, ...]]:
    return min(v for k, v in plans.items() if k >= need)


def layout_for(n: int) -> Layout:
    """The cheapest layout for a segment of ``n`` codes whose tables fit the memory cap."""
    low, high = 1, 1 << 12
    while high < n:  # layouts are chosen for sizes in steps of 2**(1/4)
        low, high = high, int(high * 1.1892) + 1
    return _layout_for(low, high)


@lru_cache(maxsize=64)
def _layout_for(low: int, n: int) -> Layout:
    """Search table counts per threshold (2, 1 or 0) and a width per threshold class.

    The pigeonhole bound for radius 31 needs sum(t_s + 1) >= 32. Within that, narrow tables
    probed once (t = 1) and wide tables probed at t = 2 trade probes for candidates; the
    search minimises the cost model over (counts, widths) under the bit budget (256) and the
    memory cap. At 10M this picks 8 tables of 22 bits at t = 2 and 4 of 20 bits at t = 1.
    """
    log_n = max(8, round(np.log2(max(n, 2))))
    widths = np.arange(max(8, log_n - 6), min(MAX_WIDTH, log_n + 4) + 1)
    row_bytes = 3 if n < 1 << 24 else 4
    unit = {t: _unit_costs(widths, n, t) for t in (0, 1, 2)}
    best: tuple[float, tuple[int, ...], tuple[int, ...]] | None = None
    for c2 in range(12):
        for c1 in range(17):
            c0 = max(0, MAX_RADIUS + 1 - 3 * c2 - 2 * c1)
            m = c2 + c1 + c0
            if c0 > 4 or not 1 <= m <= 24:
                continue
            classes = [(t, c) for t, c in ((2, c2), (1, c1), (0, c0)) if c]
            grids = np.meshgrid(*([widths] * len(classes)), indexing="ij")
            cost = sum(c * unit[t][g - widths[0]] for (t, c), g in zip(classes, grids, strict=True))
            bits = sum(c * g for (_, c), g in zip(classes, grids, strict=True))
            offsets = sum(c * 4.0 * (2.0**g + 1) for (_, c), g in zip(classes, grids, strict=True))
            # the cap is checked at both ends of the size bucket (offsets do not scale)
            spare = MAX_TABLE_BYTES_PER_CODE - (m - 1) * row_bytes
            room = min(spare * low, spare * n) + MAX_TABLE_EXTRA
            ok = np.asarray((bits <= BITS) & (offsets <= room))
            if not ok.any():
                continue
            cost = np.where(ok, cost, np.inf)
            at = np.unravel_index(int(np.argmin(cost)), cost.shape)
            if best is None or cost[at] < best[0]:
                chosen = [int(g[at]) for g in grids]
                table_widths = tuple(
                    w for (_, c), w in zip(classes, chosen, strict=True) for _ in range(c)
                )
                table_ts = tuple(t for t, c in classes for _ in range(c))
                best = (float(cost[at]), table_widths, table_ts)
    assert best is not None  # 16 tables of 16 bits at t = 1 always fit
    cost, table_widths, _ = best
    starts = np.concatenate([[0], np.cumsum(table_widths)[:-1]]).tolist()
    tables = tuple((int(s), w) for s, w in zip(starts, table_widths, strict=True))
    plans = _plans(table_widths, n)
    per_radius = tuple(_cheapest(plans, r + 1 - len(tables))[1] for r in range(MAX_RADIUS + 1))
    return Layout(tables, per_radius, cost)


def _unit_costs(widths: np.ndarray, n: int, t: int) -> np.ndarray:
    probes = np.array([_probes(int(w), t) for w in widths], dtype=np.float64)
    costs: np.ndarray = PROBE_COST * probes + probes * n / np.exp2(widths)
    return costs


# -- keys and masks ---------------------------------------------------------------------------


def segment_keys(codes: np.ndarray, start: int, width: int) -> np.ndarray:
    """Bits [start, start + width) of each code, as int64."""
    word, shift = divmod(start, 64)
    value = codes[:, word] >> np.uint64(shift)
    if shift + width > 64:
        value = value | (codes[:, word + 1] << np.uint64(64 - shift))
    return (value & np.uint64((1 << width) - 1)).astype(np.int64)


@lru_cache(maxsize=128)
def probe_masks(width: int, t: int) -> np.ndarray:
    masks = [0]
    for r in range(1, t + 1):
        masks.extend(sum(1 << b for b in combo) for combo in combinations(range(width), r))
    out = np.array(masks, dtype=np.int64)
    out.setflags(write=False)
    return out


# -- segments ---------------------------------------------------------------------------------


class Segment:
    """An immutable multi-index segment: codes, ids and tables, searched by one engine."""

    def __init__(
        self,
        parts: Sequence[tuple[np.ndarray, np.ndarray]],
        *,
        engine: str | None = None,
        layout: Layout | None = None,
        row_bytes: int | None = None,
    ) -> None:
        engine = engine or default_engine()
        if engine not in ENGINES:
            raise ValueError(f"index engine {engine!r} is not available (have {ENGINES})")
        parts = [
            (np.ascontiguousarray(c, dtype=np.uint64), np.ascontiguousarray(i, dtype=np.int64))
            for c, i in parts
        ]
        n = sum(len(c) for c, _ in parts)
        self.size = n
        self.engine = engine
        self.layout = layout or layout_for(n)
        tables = self.layout.tables
        # Row numbers take 3 bytes below 2**24 codes; ids 4 bytes when they fit (they do for
        # database ids), which keeps a 10M-hash index under 1 GB.
        self.row_bytes = row_bytes or (3 if n < 1 << 24 else 4)
        if self.row_bytes not in (3, 4) or (self.row_bytes == 3 and n >= 1 << 24):
            raise ValueError(f"row_bytes must be 4, or 3 below 2**24 codes; got {row_bytes}")
        small_ids = all(
            not len(i) or (int(i.min()) >= 0 and int(i.max()) < 1 << 32) for _, i in parts
        )
        self.codes = np.empty((n, 4), dtype=np.uint64)
        self.ids = np.empty(n, dtype=np.uint32 if small_ids else np.int64)
        self.offsets = [np.empty((1 << w) + 1, dtype=np.uint32) for _, w in tables]
        rows_len = n * self.row_bytes + (self.row_bytes == 3)
        self.rows: list[np.ndarray | None] = [None] + [
            np.zeros(rows_len, dtype=np.uint8) for _ in tables[1:]
        ]
        if engine == "c":
            _C.build(
                parts,
                tables,
                self.codes,
                self.ids,
                self.offsets,
                self.rows,
                self.row_bytes,
                self.ids.itemsize,
            )
            self._c = _C.Segment(self.codes, tables, self.offsets, self.rows, self.row_bytes)
        else:
            self._build_numpy(parts)
            self._c = None

    def _build_numpy(self, parts: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
        codes = np.concatenate([c for c, _ in parts]) if parts else self.codes
        ids = np.concatenate([i for _, i in parts]) if parts else self.ids
        for s, (start, width) in enumerate(self.layout.tables):
            keys = segment_keys(codes if s == 0 else self.codes, start, width)
            order = np.argsort(keys, kind="stable")
            self.offsets[s][0] = 0
            np.cumsum(np.bincount(keys, minlength=1 << width), out=self.offsets[s][1:])
            if s == 0:
                self.codes[:] = codes[order]
                self.ids[:] = ids[order]
            else:
                rows = self.rows[s]
                assert rows is not None
                as_bytes = order.astype("<u4").view(np.uint8).reshape(-1, 4)
                rows[: self.size * self.row_bytes] = as_bytes[:, : self.row_bytes].reshape(-1)

    def _rows(self, table: int, positions: np.ndarray) -> np.ndarray:
        """Row numbers stored at ``positions`` of a table (3 or 4 little-endian bytes each)."""
        rows = self.rows[table]
        assert rows is not None
        at = positions * self.row_bytes
        out: np.ndarray = rows[at].astype(np.int64) | (rows[at + 1].astype(np.int64) << 8)
        out |= rows[at + 2].astype(np.int64) << 16
        if self.row_bytes == 4:
            out |= rows[at + 3].astype(np.int64) << 24
        return out

    def search(self, query: bytes, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids and distances of the codes within ``radius`` (an id may repeat)."""
        thresholds = self.layout.thresholds[radius]
        if self._c is not None:
            rows_bytes, dist_bytes = self._c.search(query, thresholds, radius)
            if not rows_bytes:
                return _EMPTY_IDS, _EMPTY_DIST
            rows = np.frombuffer(rows_bytes, dtype=np.uint32)
            ids = self.ids[rows].astype(np.int64)
            return ids, np.frombuffer(dist_bytes, dtype=np.uint8).astype(np.int64)
        return self._search_numpy(query, thresholds, radius)

    def _search_numpy(
        self, query: bytes, thresholds: Sequence[int], radius: int
    ) -> tuple[np.ndarray, np.ndarray]:
        q = np.frombuffer(query, dtype=np.uint64).reshape(1, 4)
        found = []
        for s, ((start, width), t) in enumerate(zip(self.layout.tables, thresholds, strict=True)):
            if t < 0:
                continue
            keys = int(segment_keys(q, start, width)[0]) ^ probe_masks(width, t)
            offsets = self.offsets[s]
            starts = offsets[keys].astype(np.int64)
            lengths = offsets[keys + 1].astype(np.int64) - starts
            total = int(lengths.sum())
            if not total:
                continue
            ends = np.cumsum(lengths)
            positions = np.arange(total) - np.repeat(ends - lengths - starts, lengths)
            found.append(positions if s == 0 else self._rows(s, positions))
        if not found:
            return _EMPTY_IDS, _EMPTY_DIST
        candidates = np.concatenate(found)
        distances = np.bitwise_count(self.codes[candidates] ^ q).sum(axis=1)
        hit = distances <= radius
        return self.ids[candidates[hit]].astype(np.int64), distances[hit].astype(np.int64)

    @property
    def nbytes(self) -> int:
        tables = sum(o.nbytes for o in self.offsets) + sum(
            r.nbytes for r in self.rows if r is not None
        )
        return self.codes.nbytes + self.ids.nbytes + tables


def scan(
    codes: np.ndarray, query: bytes, radius: int, engine: str
) -> tuple[np.ndarray, np.ndarray]:
    """Brute force: positions and distances of the codes within ``radius``."""
    if engine == "c" and _C is not None:
        rows_bytes, dist_bytes = _C.scan(codes, query, radius)
        if not rows_bytes:
            return _EMPTY_IDS, _EMPTY_DIST
        rows = np.frombuffer(rows_bytes, dtype=np.uint32).astype(np.int64)
        return rows, np.frombuffer(dist_bytes, dtype=np.uint8).astype(np.int64)
    q = np.frombuffer(query, dtype=np.uint64)
    distances = np.bitwise_count(codes ^ q).sum(axis=1)
    hit = np.nonzero(distances <= radius)[0]
    return hit, distances[hit].astype(np.int64)


_EMPTY_IDS = np.zeros(0, dtype=np.int64)
_EMPTY_DIST = np.zeros(0, dtype=np.int64)
_EMPTY_IDS.setflags(write=False)
_EMPTY_DIST.setflags(write=False)
