"""Stay-down in the hash banks (both database backends): a removal banks the item's PDQ in
``removed_content`` inside the decision's transaction, a reversal disables it (never deletes),
the TAKE IT DOWN sweep also finds PDQ near-duplicates, and a change that commits after a later
one still reaches the in-memory index."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import delete, func, insert, select

from bastion.errors import NotFound
from bastion.guard import Guard
from bastion.hashing.banks import BankService
from bastion.hashing.model import EntryInput
from bastion.settings import Settings
from bastion.staydown import RemovedContent, StayDown
from bastion.storage.db import Database
from bastion.storage.tables import bank_changes, bank_entries
from bastion.storage.workflow import decisions as decision_repo
from bastion.storage.workflow import items as item_repo
from bastion.testing import FrozenClock
from bastion.workflow import appeals, decisions, notices, tdb
from bastion.workflow.decisions import DecisionInput
from bastion.workflow.model import ItemState
from bastion.workflow.outbox import FileTransport
from bastion.workflow.service import PUBLIC, Workflow
from tests.conftest import TEST_SECRET
from tests.workflow.conftest import (
    CYBER_W,
    MOD_A,
    MOD_B,
    Tokens,
    add_item,
    dsa_notice,
    tidk_notice,
)

REMOVE = DecisionInput(
    visibility="remove",
    ground="illegal",
    legal_ground_id="eu_2024_1385_art5",
    explanation="Sexualised deepfake of a real person.",
)
SHA = "5a" * 32
PDQ = "2d6b1af3a956c529e79ca3d2526fa834d4196c81cedd04de0a26b855fc99b724"


def near(hex_hash: str, bits: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    value = int(hex_hash, 16)
    for bit in rng.choice(256, size=bits, replace=False):
        value ^= 1 << int(bit)
    return f"{value:064x}"


@pytest.fixture
def banks(database: Database) -> BankService:
    # The default sync interval: the workflow's commit must make changes visible at once.
    return BankService(database)


@pytest.fixture
def wf(
    database: Database, tmp_path: Path, clock: FrozenClock, tokens: Tokens, banks: BankService
) -> Workflow:
    settings = Settings.load(data_dir=tmp_path / "data", secret_key=TEST_SECRET)
    return Workflow(
        database,
        settings,
        TEST_SECRET.encode(),
        clock=clock,
        new_token=tokens,
        transport=FileTransport(tmp_path / "outbox"),
        stay_down=StayDown(banks),
    )


def matched(banks: BankService, hex_hash: str) -> list[str]:
    return [m.bank.name for m in banks.lookup_hash(hex_hash).matches]


def removed_entries(banks: BankService, signal: str = "pdq") -> list[Any]:
    """The ``removed_content`` entries of one signal type (each removal banks a ``sha256``
    entry and, when the PDQ is known, a ``pdq`` one)."""
    try:
        return [e for e in banks.entries("removed_content") if e.signal_type.value == signal]
    except NotFound:
        return []


def count_changes(db: Database) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(bank_changes)).scalar_one())


def test_a_removal_banks_the_pdq_with_its_decision(wf: Workflow, banks: BankService) -> None:
    add_item(wf, "img-1", sha256=SHA, pdq=PDQ)
    assert matched(banks, PDQ) == []  # the index is loaded before the decision
    case_id = notices.submit(wf, dsa_notice(), channel="web", actor=PUBLIC).case_ids[0]
    decision = decisions.decide(wf, case_id, REMOVE, MOD_A)

    (entry,) = removed_entries(banks)
    assert entry.hash == PDQ
    assert entry.source == "decision:removal"
    assert entry.added_by == "workflow"
    assert entry.decision_id == decision.id
    assert entry.case_id == case_id
    assert entry.labels == (CYBER_W,)
    # Matchable by this process as soon as the decision returns (no sync wait).
    assert matched(banks, near(PDQ, 9)) == ["removed_content"]
    with wf.db.connect() as conn:  # the SHA-256 record stays as it was
        assert wf.stay_down.lookup(conn, SHA) is not None


def test_an_item_without_pdq_keeps_only_its_sha256(wf: Workflow, banks: BankService) -> None:
    add_item(wf, "img-1", sha256=SHA)
    case_id = notices.submit(wf, dsa_notice(), channel="web", actor=PUBLIC).case_ids[0]
    decisions.decide(wf, case_id, REMOVE, MOD_A)
    assert removed_entries(banks) == []
    with wf.db.connect() as conn:
        assert wf.stay_down.lookup(conn, SHA) is not None


def test_a_decision_that_fails_banks_nothing(
    wf: Workflow, banks: BankService, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_item(wf, "img-1", sha256=SHA, pdq=PDQ)
    case_id = notices.submit(wf, dsa_notice(), channel="web", actor=PUBLIC).case_ids[0]
    before = count_changes(wf.db)

    def refuse(payload: Any) -> None:
        raise tdb.InvalidStatement([tdb.Violation("decision_facts", "max", "too long")])

    monkeypatch.setattr(tdb, "check", refuse)
    with pytest.raises(tdb.InvalidStatement):
        decisions.decide(wf, case_id, REMOVE, MOD_A)
    assert removed_entries(banks) == []
    assert count_changes(wf.db) == before
    assert matched(banks, PDQ) == []


def test_reversal_on_appeal_disables_the_entry_and_keeps_it(
    wf: Workflow, banks: BankService, tokens: Tokens
) -> None:
    add_item(wf, "img-1", sha256=SHA, pdq=PDQ)
    case_id = notices.submit(wf, dsa_notice(), channel="web", actor=PUBLIC).case_ids[0]
    decision = decisions.decide(wf, case_id, REMOVE, MOD_A)
    assert matched(banks, PDQ) == ["removed_content"]
    appeal = appeals.lodge(wf, tokens.issued[0], "It is my own picture, I posted it myself.")
    appeals.decide(wf, appeal.id, outcome="reversed", response="Consent shown.", actor=MOD_B)

    (entry,) = removed_entries(banks)
    assert entry.decision_id == decision.id
    assert entry.enabled is False
    assert entry.disabled_at is not None
    assert matched(banks, PDQ) == []
    with wf.db.connect() as conn:
        assert wf.stay_down.lookup(conn, SHA) is None


def test_take_it_down_sweeps_identical_and_near_duplicate_copies(
    wf: Workflow, banks: BankService
) -> None:
    original = add_item(wf, "img-1", sha256=SHA, pdq=PDQ)
    same_bytes = add_item(wf, "img-2", sha256=SHA)
    reencoded = add_item(wf, "img-3", sha256="3c" * 32, pdq=near(PDQ, 6, seed=1))
    different = add_item(wf, "img-4", sha256="4d" * 32, pdq=near(PDQ, 40, seed=2))
    unhashed = add_item(wf, "img-5", sha256="5e" * 32)
    case_id = notices.submit(wf, tidk_notice(), channel="web", actor=PUBLIC).case_ids[0]
    decision = decisions.decide(wf, case_id, REMOVE, MOD_A)

    assert decision.copies_removed == (same_bytes.id, reencoded.id)  # exact copies first
    with wf.db.connect() as conn:
        states = {i.id: item_repo.get(conn, i.id).state for i in (original, different, unhashed)}
        derived = [d for d in decision_repo.for_case(conn, case_id) if d.extra.get("copy_of")]
        payloads = {s.decision_id: s.payload for s in decision_repo.tdb_statements(conn)}
        users = {
            d.item_id: [s for s in decision_repo.statements_for(conn, d.id) if s.kind == "user"]
            for d in derived
        }
        assert item_repo.get(conn, reencoded.id).state is ItemState.REMOVED
    assert states == {
        original.id: ItemState.REMOVED,
        different.id: ItemState.VISIBLE,
        unhashed.id: ItemState.VISIBLE,
    }
    by_item = {d.item_id: d for d in derived}
    assert by_item[same_bytes.id].detectors == ("sha256_identical_copy",)
    assert by_item[reencoded.id].detectors == ("pdq_same_image",)
    assert by_item[reencoded.id].extra["copy_distance"] == 6
    pdq_payload = payloads[by_item[reencoded.id].id]
    assert pdq_payload is not None
    tdb.check(pdq_payload)
    assert "perceptual hash match" in pdq_payload["decision_facts"]
    assert "Identical copy (same SHA-256" in str(payloads[by_item[same_bytes.id].id])
    assert "a copy of the same image as" in (users[reencoded.id][0].body or "")
    # Both removed hashes stay down: the original's and the re-encoded copy's.
    assert sorted(e.hash for e in removed_entries(banks)) == sorted([PDQ, near(PDQ, 6, seed=1)])


def test_the_sweep_distance_is_tight(wf: Workflow) -> None:
    first = add_item(wf, "img-1", sha256="3c" * 32, pdq=near(PDQ, 12, seed=3))
    add_item(wf, "img-2", sha256="4d" * 32, pdq=near(PDQ, 13, seed=3))
    stay_down = wf.stay_down
    assert stay_down.banks is not None
    entry = RemovedContent("removed-item", "d", SHA, CYBER_W, wf.clock.now(), PDQ)
    with wf.db.connect() as conn:
        copies = stay_down.find_copies(conn, entry)
    # 13 bits apart is not swept as a copy (uploads still match the bank up to 31).
    assert [(c.item_id, c.basis, c.distance) for c in copies] == [(first.id, "pdq", 12)]


def test_a_change_that_commits_late_reaches_the_index(
    database: Database, banks: BankService
) -> None:
    bank = banks.create_bank("known", "other")
    assert matched(banks, PDQ) == []  # loaded
    late, other = PDQ, near(PDQ, 100, seed=4)
    now = banks.clock.now()
    (late_id,) = banks.repository.add_entries(bank, [EntryInput(hash=late)], "t", now)
    banks.repository.add_entries(bank, [EntryInput(hash=other)], "t", now)
    with database.begin() as conn:  # the first change has not "committed" yet
        row = conn.execute(select(bank_changes).where(bank_changes.c.entry_id == late_id)).one()
        conn.execute(delete(bank_changes).where(bank_changes.c.seq == row.seq))
    banks.refresh()
    assert matched(banks, other) == ["known"]
    assert matched(banks, late) == []
    assert row.seq in banks.matcher.holes
    # A process that loads now also awaits the gap among the newest changes.
    fresh = BankService(database)
    fresh.matcher.load()
    assert row.seq in fresh.matcher.holes
    with database.begin() as conn:  # ... now it commits, with its earlier sequence number
        conn.execute(insert(bank_changes).values(**row._asdict()))
    banks.refresh()
    assert matched(banks, late) == ["known"]
    assert row.seq not in banks.matcher.holes
    fresh.refresh()
    assert row.seq not in fresh.matcher.holes
    assert matched(fresh, late) == ["known"]


def test_concurrent_transactions_commit_out_of_order(
    database: Database, banks: BankService
) -> None:
    """On Postgres a long decision can commit after a later bank change (on SQLite one
    writer at a time makes it impossible)."""
    if database.dialect != "postgresql":
        pytest.skip("only PostgreSQL lets two writers interleave")
    banks.create_bank("known", "other")
    assert matched(banks, PDQ) == []
    with database.begin() as conn:
        StayDown(banks).add_removed(
            conn, RemovedContent("item-1", "d-1", SHA, CYBER_W, datetime.now(UTC), PDQ)
        )
        banks.add(  # committed while the decision's transaction is still open
            "known", [EntryInput(hash=near(PDQ, 100, seed=5))], added_by="t"
        )
        assert matched(banks, PDQ) == []
    banks.refresh()
    assert matched(banks, PDQ) == ["removed_content"]
    with database.connect() as conn:
        # The removal's sha256 and pdq entries, and the other bank's.
        assert conn.execute(select(func.count()).select_from(bank_entries)).scalar_one() == 3


def test_the_guards_workflow_and_the_cli_use_the_banks(guard: Guard, tmp_path: Path) -> None:
    from bastion.cli.workflow import _workflow

    wf = guard.workflow()
    assert wf.stay_down.banks is not None
    assert wf.stay_down.banks is guard.banks
    cli = _workflow(guard.settings.data_dir)
    assert cli.stay_down.banks is not None
    cli.db.dispose()
