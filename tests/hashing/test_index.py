"""The multi-index gives exactly the linear oracle's answers, at every distance up to 31.

Both engines (the C extension and the numpy fallback) are tested on the same seeded hashes,
and must build byte-identical tables.
"""

from __future__ import annotations

import numpy as np
import pytest

from bastion.hashing import index as index_module
from bastion.hashing import mih
from bastion.hashing.index import SMALL, LinearIndex, MultiIndex

ENGINES = ["c", "numpy"]


def flip(code: np.ndarray, bits: int, rng: np.random.Generator) -> bytes:
    unpacked = np.unpackbits(code.view(np.uint8))
    unpacked[rng.choice(256, size=bits, replace=False)] ^= 1
    return np.packbits(unpacked).tobytes()


def answers(index: object, query: bytes, radius: int = 31) -> list[tuple[int, int]]:
    return [(h.id, h.distance) for h in index.search(query, radius)]  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def seeded() -> tuple[np.ndarray, np.ndarray, np.random.Generator]:
    rng = np.random.default_rng(20261125)
    n = SMALL * 3  # big enough that the multi-index tables are used
    codes = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    return np.arange(n, dtype=np.int64), codes, rng


def test_the_compiled_engine_is_built() -> None:
    # `make install` / `pip install -e .` compiles it with the system's C compiler; without
    # it the index still works (numpy) but misses its latency target, so say so loudly.
    assert mih.ENGINES == ("c", "numpy"), "bastion.hashing._mih was not built"
    assert mih.default_engine() == "c"
    assert MultiIndex().engine == "c"


@pytest.mark.parametrize("engine", ENGINES)
def test_planted_matches_at_every_exact_distance(seeded: tuple, engine: str) -> None:  # type: ignore[type-arg]
    ids, codes, rng = seeded
    fast, oracle = MultiIndex(engine=engine), LinearIndex()
    fast.add(ids, codes)
    oracle.add(ids, codes)
    assert fast.segment_sizes == [len(ids)]
    for distance in [*range(0, 34), 40, 64]:
        for _ in range(3):
            target = int(rng.integers(len(ids)))
            query = flip(codes[target], distance, rng)
            expected = answers(oracle, query)
            assert answers(fast, query) == expected
            assert ((target, distance) in expected) == (distance <= 31)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("n", [5_000, 70_000])
def test_every_radius_matches_the_oracle(engine: str, n: int) -> None:
    """Smaller radii probe fewer keys (per-radius thresholds); answers must not change."""
    rng = np.random.default_rng(n)
    codes = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    fast, oracle = MultiIndex(engine=engine), LinearIndex()
    fast.add(np.arange(n), codes)
    oracle.add(np.arange(n), codes)
    for radius in range(32):
        for distance in {max(0, radius - 1), radius, radius + 1}:
            target = int(rng.integers(n))
            query = flip(codes[target], distance, rng)
            expected = answers(oracle, query, radius)
            assert answers(fast, query, radius) == expected
            assert ((target, distance) in expected) == (distance <= radius)


@pytest.mark.parametrize("n", [5_000, 100_000, 1_000_000, 10_000_000, 20_000_000])
def test_layouts_satisfy_the_pigeonhole_bound_at_every_radius(n: int) -> None:
    layout = mih.layout_for(n)
    assert sum(w for _, w in layout.tables) <= 256
    ends = [start + width for start, width in layout.tables]
    assert all(e <= s for e, (s, _) in zip(ends, layout.tables[1:], strict=False))  # disjoint
    for radius, thresholds in enumerate(layout.thresholds):
        assert len(thresholds) == len(layout.tables)
        # a code within `radius` differs by more than t_s on every table only if
        # sum(t_s + 1) <= radius; the chosen thresholds rule that out
        assert sum(t + 1 for t in thresholds) > radius
        assert all(-1 <= t <= mih.MAX_PROBE for t in thresholds)


def test_a_10m_layout_fits_the_memory_target() -> None:
    n = 10_000_000
    layout = mih.layout_for(n)
    tables = (len(layout.tables) - 1) * 3 * n + sum(4 << w for _, w in layout.tables)
    assert 32 * n + 4 * n + tables < 850 * 2**20  # codes + ids + tables; RSS target 1 GB


@pytest.mark.parametrize("row_bytes", [3, 4])
def test_both_engines_build_identical_tables(row_bytes: int) -> None:
    rng = np.random.default_rng(row_bytes)
    codes = rng.integers(0, 2**64, size=(30_000, 4), dtype=np.uint64)
    ids = np.arange(30_000, dtype=np.int64) * 400_000 + 7  # ids past 2**32: kept as int64
    rng.shuffle(ids)
    parts = [(codes[:20_000], ids[:20_000]), (codes[20_000:], ids[20_000:])]
    c = mih.Segment(parts, engine="c", row_bytes=row_bytes)
    py = mih.Segment(parts, engine="numpy", row_bytes=row_bytes)
    assert c.ids.dtype == np.int64
    assert np.array_equal(c.codes, py.codes)
    assert np.array_equal(c.ids, py.ids)
    for a, b in zip(c.offsets, py.offsets, strict=True):
        assert np.array_equal(a, b)
    for a, b in zip(c.rows[1:], py.rows[1:], strict=True):
        assert a is not None
        assert b is not None
        assert np.array_equal(a, b)
    for target in rng.integers(0, 30_000, 20).tolist():
        query = flip(codes[target], int(rng.integers(0, 32)), rng)
        got = [
            sorted(zip(*(a.tolist() for a in s.search(query, 31)), strict=True)) for s in (c, py)
        ]
        assert got[0] == got[1]
        assert int(ids[target]) in {i for i, _ in got[0]}


@pytest.mark.parametrize("engine", ENGINES)
def test_skewed_buckets_return_every_duplicate(engine: str) -> None:
    """Thousands of identical hashes (e.g. a flat image) land in one bucket of every table."""
    rng = np.random.default_rng(9)
    same = np.full((7_000, 4), 0x5A5A5A5A5A5A5A5A, dtype=np.uint64)
    codes = np.concatenate([same, rng.integers(0, 2**64, size=(3_000, 4), dtype=np.uint64)])
    fast = MultiIndex(engine=engine)
    fast.add(np.arange(len(codes)), codes)
    query = flip(same[0], 5, rng)
    hits = answers(fast, query)
    assert [i for i, _ in hits] == list(range(7_000))
    assert {d for _, d in hits} == {5}


def test_the_extension_refuses_inconsistent_tables() -> None:
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 2**64, size=(6_000, 4), dtype=np.uint64)
    segment = mih.Segment([(codes, np.arange(6_000))], engine="c")
    broken = [o.copy() for o in segment.offsets]
    broken[1][5] = broken[1][6] + 1  # not monotonic: a search could read out of bounds
    with pytest.raises(ValueError, match="monotonic"):
        mih._C.Segment(segment.codes, segment.layout.tables, broken, segment.rows, 3)
    rows = [None if r is None else r.copy() for r in segment.rows]
    assert rows[1] is not None
    rows[1][:3] = 255  # a row number past the end
    with pytest.raises(ValueError, match="outside"):
        mih._C.Segment(segment.codes, segment.layout.tables, segment.offsets, rows, 3)
    with pytest.raises(ValueError):
        segment.search(b"short", 31)


@pytest.mark.parametrize("engine", ENGINES)
def test_incremental_adds_removes_and_merges_match_the_oracle(seeded: tuple, engine: str) -> None:  # type: ignore[type-arg]
    ids, codes, rng = seeded
    fast, oracle = MultiIndex(engine=engine), LinearIndex()
    for start in range(0, len(ids), 1500):  # many batches: small segments get merged
        fast.add(ids[start : start + 1500], codes[start : start + 1500])
        oracle.add(ids[start : start + 1500], codes[start : start + 1500])
    assert len(fast) == len(ids)
    assert len(fast.segment_sizes) < len(ids) // 1500
    removed = rng.choice(len(ids), 500, replace=False).tolist()
    fast.remove(removed)
    oracle.remove(removed)
    for _ in range(60):
        target = int(rng.integers(len(ids)))
        query = flip(codes[target], int(rng.integers(0, 32)), rng)
        assert answers(fast, query) == answers(oracle, query)
    fast.compact()
    assert fast.segment_sizes == [len(ids) - 500]
    for target in removed[:20]:
        assert target not in [h.id for h in fast.search(codes[target].tobytes())]
    for _ in range(30):
        target = int(rng.integers(len(ids)))
        query = flip(codes[target], int(rng.integers(0, 32)), rng)
        assert answers(fast, query) == answers(oracle, query)


def test_small_segments_do_not_allocate_big_tables() -> None:
    fast = MultiIndex()
    rng = np.random.default_rng(5)
    fast.add(np.arange(SMALL + 1), rng.integers(0, 2**64, size=(SMALL + 1, 4), dtype=np.uint64))
    assert fast.nbytes < 4 * 2**20  # the old fixed 12×2**21 offsets took 100 MB here


def test_adding_does_not_alias_the_callers_array() -> None:
    codes = np.zeros((3, 4), dtype=np.uint64)
    fast = MultiIndex()
    fast.add([1, 2, 3], codes)
    codes[:] = 0xFF
    assert answers(fast, np.zeros(4, dtype=np.uint64).tobytes()) == [(1, 0), (2, 0), (3, 0)]


def test_one_id_many_hashes_reports_the_closest() -> None:
    rng = np.random.default_rng(3)
    base = rng.integers(0, 2**64, size=(1, 4), dtype=np.uint64)
    near = np.frombuffer(flip(base[0], 5, rng), dtype=np.uint64).reshape(1, 4)
    fast = MultiIndex()
    fast.add([9, 9], np.concatenate([base, near]))
    assert answers(fast, near.tobytes()) == [(9, 0)]


def test_readd_after_remove_is_found_again() -> None:
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 2**64, size=(10, 4), dtype=np.uint64)
    fast = MultiIndex()
    fast.add(np.arange(10), codes)
    fast.remove([3])
    assert answers(fast, codes[3].tobytes()) == []
    fast.add([3], codes[3:4])
    assert answers(fast, codes[3].tobytes()) == [(3, 0)]


def test_one_hash_index_matches() -> None:  # HMA's issue 1318: a one-hash index found nothing
    code = np.full((1, 4), 0x0123456789ABCDEF, dtype=np.uint64)
    fast = MultiIndex()
    fast.add([1], code)
    assert answers(fast, code.tobytes()) == [(1, 0)]


def test_radius_is_respected(seeded: tuple) -> None:  # type: ignore[type-arg]
    ids, codes, rng = seeded
    fast = MultiIndex()
    fast.add(ids, codes)
    query = flip(codes[7], 12, rng)
    assert (7, 12) in answers(fast, query, 12)
    assert (7, 12) not in answers(fast, query, 11)
    with pytest.raises(ValueError):
        fast.search(query, 32)


def test_codes_and_engines_must_be_well_formed() -> None:
    with pytest.raises(ValueError):
        index_module.as_codes(np.zeros((2, 3), dtype=np.uint64))
    with pytest.raises(ValueError):
        MultiIndex().add([1, 2], np.zeros((1, 4), dtype=np.uint64))
    with pytest.raises(ValueError):
        MultiIndex().search(b"\x00" * 31)
    with pytest.raises(ValueError, match="engine"):
        MultiIndex(engine="gpu")
