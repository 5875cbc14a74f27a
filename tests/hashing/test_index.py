"""The multi-index gives exactly the linear oracle's answers, at every distance up to 31."""

from __future__ import annotations

import numpy as np
import pytest

from bastion.hashing import index as index_module
from bastion.hashing.index import SMALL, LinearIndex, MultiIndex


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


def test_planted_matches_at_every_exact_distance(seeded: tuple) -> None:  # type: ignore[type-arg]
    ids, codes, rng = seeded
    fast, oracle = MultiIndex(), LinearIndex()
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


def test_radius_is_respected(seeded: tuple) -> None:  # type: ignore[type-arg]
    ids, codes, rng = seeded
    fast = MultiIndex()
    fast.add(ids, codes)
    query = flip(codes[7], 12, rng)
    assert (7, 12) in answers(fast, query, 12)
    assert (7, 12) not in answers(fast, query, 11)
    with pytest.raises(ValueError):
        fast.search(query, 32)


def test_incremental_adds_removes_and_merges_match_the_oracle(seeded: tuple) -> None:  # type: ignore[type-arg]
    ids, codes, rng = seeded
    fast, oracle = MultiIndex(), LinearIndex()
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


def test_codes_must_be_well_formed() -> None:
    with pytest.raises(ValueError):
        index_module.as_codes(np.zeros((2, 3), dtype=np.uint64))
    with pytest.raises(ValueError):
        MultiIndex().add([1, 2], np.zeros((1, 4), dtype=np.uint64))
