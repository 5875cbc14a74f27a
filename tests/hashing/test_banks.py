"""Banks on SQLite and PostgreSQL: metadata, distances, negative banks, disable, freshness."""

from __future__ import annotations

import time

import numpy as np
import pytest

from bastion.errors import Conflict, InvalidInput, NotFound
from bastion.hashing.banks import BankService, QueryHash
from bastion.hashing.model import EntryInput
from bastion.hashing.signals import Hash
from bastion.storage.db import Database


def near(hex_hash: str, bits: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    value = int(hex_hash, 16)
    for bit in rng.choice(256, size=bits, replace=False):
        value ^= 1 << int(bit)
    return f"{value:064x}"


H1 = "2d6b1af3a956c529e79ca3d2526fa834d4196c81cedd04de0a26b855fc99b724"
H2 = "8c629e779a663698b9a33866c026726c21a679f61eb6e1f8c79ba7e23c8299e0"


@pytest.fixture
def service(database: Database) -> BankService:
    return BankService(database, sync_interval_s=0.0)


def test_create_list_and_conflicts(service: BankService) -> None:
    bank = service.create_bank("StopNCII", "ncii", match_distance=20, description="d")
    assert bank.name == "stopncii"
    assert [b.name for b in service.banks()] == ["stopncii"]
    with pytest.raises(Conflict):
        service.create_bank("stopncii", "ncii")
    with pytest.raises(InvalidInput):
        service.create_bank("bad name!", "ncii")
    with pytest.raises(InvalidInput):
        service.create_bank("x", "nonsense")
    with pytest.raises(InvalidInput):
        service.create_bank("y", "ncii", match_distance=40)
    with pytest.raises(NotFound):
        service.bank("missing")


def test_match_carries_entry_metadata(service: BankService) -> None:
    service.create_bank("ncii", "ncii")
    entry = service.add_hash(
        "ncii", H1, added_by="alice", source="stopncii", labels=("ncii",), case_id="case-9"
    )
    found = service.lookup_hash(near(H1, 7))
    assert len(found.matches) == 1
    match = found.matches[0].to_dict()
    assert match["bank"] == "ncii"
    assert match["distance"] == 7
    assert match["entry_id"] == entry.id
    assert match["source"] == "stopncii"
    assert match["labels"] == ["ncii"]
    assert match["case_id"] == "case-9"
    assert match["added_by"] == "alice"
    assert match["added_at"]
    assert service.lookup_hash(H2).matches == ()


def test_per_bank_match_distance(service: BankService) -> None:
    service.create_bank("strict", "ncii", match_distance=5)
    service.create_bank("loose", "other", match_distance=31)
    service.add_hash("strict", H1, added_by="t")
    service.add_hash("loose", H1, added_by="t")
    names = [m.bank.name for m in service.lookup_hash(near(H1, 10)).matches]
    assert names == ["loose"]
    service.update_bank("strict", match_distance=12)
    assert {m.bank.name for m in service.lookup_hash(near(H1, 10)).matches} == {"loose", "strict"}


def test_disabled_bank_and_entry_do_not_match_but_are_kept(service: BankService) -> None:
    service.create_bank("b", "ncii")
    entry = service.add_hash("b", H1, added_by="t")
    service.set_entry_enabled(entry.id, False)
    assert service.lookup_hash(H1).matches == ()
    assert service.entry(entry.id).enabled is False
    assert service.entry(entry.id).disabled_at is not None
    service.set_entry_enabled(entry.id, True)
    assert len(service.lookup_hash(H1).matches) == 1
    service.update_bank("b", enabled=False)
    assert service.lookup_hash(H1).matches == ()
    raw = service.match([QueryHash(Hash.parse(H1))], raw=True)  # HMA's raw lookup
    assert [m.entry.id for m in raw.matches] == [entry.id]


def test_negative_bank_suppresses_a_known_false_positive(service: BankService) -> None:
    service.create_bank("ncii", "ncii")
    service.create_bank("known_fp", "false_positives")
    assert service.bank("known_fp").negative
    service.add_hash("ncii", H1, added_by="t")
    fp = service.add_hash("known_fp", near(H1, 3, seed=1), added_by="t", note="meme template")
    query = near(H1, 3, seed=1)
    found = service.lookup_hash(query)
    assert found.matches == ()
    assert [m.suppressed_by for m in found.suppressed] == [fp.id]
    # A query closer to the listed hash than to the false positive still matches.
    assert len(service.lookup_hash(H1).matches) == 1


def test_bank_filter(service: BankService) -> None:
    service.create_bank("a", "ncii")
    service.create_bank("b", "csam")
    service.add_hash("a", H1, added_by="t")
    service.add_hash("b", H1, added_by="t")
    assert [m.bank.name for m in service.lookup_hash(H1, banks=["b"]).matches] == ["b"]


def test_bad_hashes_are_refused_and_nothing_is_written(service: BankService) -> None:
    service.create_bank("b", "ncii")
    with pytest.raises(InvalidInput):
        service.add("b", [EntryInput(hash=H1), EntryInput(hash="zz")], added_by="t")
    assert list(service.entries("b")) == []


def test_import_progress_and_freshness_across_replicas(database: Database) -> None:
    writer = BankService(database, sync_interval_s=0.0)
    reader = BankService(database, sync_interval_s=0.2)  # another replica
    writer.create_bank("b", "ncii")
    assert reader.lookup_hash(H1).matches == ()  # reader has loaded its index
    seen: list[int] = []
    items = [EntryInput(hash=near(H2, 40, seed=i)) for i in range(2500)] + [EntryInput(hash=H1)]
    assert writer.import_entries("b", items, added_by="t", progress=seen.append) == 2501
    assert seen[-1] == 2501
    assert len(seen) >= 3
    assert len(writer.lookup_hash(H1).matches) == 1  # same process: at once
    deadline = time.monotonic() + 1.0
    while not reader.lookup_hash(H1).matches:  # other replica: within its sync interval
        assert time.monotonic() < deadline
        time.sleep(0.05)
    entry = writer.lookup_hash(H1).matches[0].entry
    writer.set_entry_enabled(entry.id, False)
    time.sleep(0.25)
    assert reader.lookup_hash(H1).matches == ()


def test_stay_down_helpers_create_their_banks(service: BankService) -> None:
    from bastion.staydown import StayDown

    entry = StayDown(service).add_removed_hash(H1, case_id="case-1", decision_id="d-1")
    assert entry is not None
    assert entry.bank == "removed_content"
    assert service.bank("removed_content").kind.value == "removed_content"
    match = service.lookup_hash(H1).matches[0]
    assert match.entry.case_id == "case-1"
    assert match.entry.decision_id == "d-1"
