"""The audit chain: one test per kind of tampering, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, delete, insert, select, update

from bastion.errors import ConfigError
from bastion.storage.tables import wf_audit, wf_audit_head
from bastion.storage.workflow.audit import GENESIS, AuditEvent, AuditLogBroken, event_mac, events
from bastion.storage.workflow.audit_check import AuditCheck, Break
from bastion.testing import FrozenClock
from bastion.workflow.service import SYSTEM, Workflow


def log(wf: Workflow, count: int, *, start: int = 0) -> None:
    for n in range(start, start + count):
        with wf.db.begin() as conn:
            wf.audit(conn, SYSTEM, "test.event", "item", f"item-{n}", {"n": n})


def tamper(wf: Workflow, change: Callable[[Connection], object]) -> AuditCheck:
    with wf.db.begin() as conn:
        change(conn)
    return wf.verify_audit()


def at(seq: int) -> object:
    return wf_audit.c.seq == seq


def row(conn: Connection, seq: int) -> dict[str, object]:
    return dict(conn.execute(select(wf_audit).where(at(seq))).one()._mapping)


def assert_break(check: AuditCheck, kind: Break, position: int | None) -> None:
    assert (check.kind, check.position) == (kind, position), check.detail
    assert not check.intact


def test_an_untouched_log_is_intact(wf: Workflow) -> None:
    log(wf, 5)
    check = wf.verify_audit()
    assert check.intact
    assert check.events == 5
    assert check.head is not None
    assert (check.head.count, check.head.last_seq) == (5, 5)


def test_edited_data(wf: Workflow) -> None:
    log(wf, 5)
    check = tamper(wf, lambda c: c.execute(update(wf_audit).where(at(3)).values(data={"n": 9})))
    assert_break(check, Break.EDITED, 3)
    assert check.events == 2


def test_edited_last_event(wf: Workflow) -> None:
    log(wf, 5)
    check = tamper(wf, lambda c: c.execute(update(wf_audit).where(at(5)).values(actor="x")))
    assert_break(check, Break.EDITED, 5)


def test_deleted_middle_event(wf: Workflow) -> None:
    log(wf, 5)
    assert_break(tamper(wf, lambda c: c.execute(delete(wf_audit).where(at(3)))), Break.DELETED, 3)


def test_deleted_last_event(wf: Workflow) -> None:
    log(wf, 5)
    check = tamper(wf, lambda c: c.execute(delete(wf_audit).where(at(5))))
    assert_break(check, Break.TRUNCATED, 5)
    assert check.events == 4


def test_deleted_last_fifty_events(wf: Workflow) -> None:
    log(wf, 60)
    check = tamper(wf, lambda c: c.execute(delete(wf_audit).where(wf_audit.c.seq > 10)))
    assert_break(check, Break.TRUNCATED, 11)
    assert "60" in check.detail


def test_deleted_every_event(wf: Workflow) -> None:
    log(wf, 5)
    assert_break(tamper(wf, lambda c: c.execute(delete(wf_audit))), Break.TRUNCATED, 1)


def test_swapped_events(wf: Workflow) -> None:
    log(wf, 5)

    def swap(conn: Connection) -> None:
        second, third = row(conn, 2), row(conn, 3)
        conn.execute(update(wf_audit).where(at(2)).values(prev_hash="moving"))
        conn.execute(update(wf_audit).where(at(3)).values({**second, "seq": 3}))
        conn.execute(update(wf_audit).where(at(2)).values({**third, "seq": 2}))

    assert_break(tamper(wf, swap), Break.REORDERED, 2)


@pytest.mark.parametrize("wrong", ["wrong key", "sha256"])
def test_edit_with_every_later_hash_recomputed(wf: Workflow, wrong: str) -> None:
    log(wf, 5)

    def recompute(conn: Connection) -> None:
        conn.execute(update(wf_audit).where(at(3)).values(data={"n": 9}))
        prev = row(conn, 2)["hash"]
        for event in list(events(conn)):
            if event.seq < 3:
                continue
            moved = AuditEvent(**{**event.public(), "at": event.at, "prev_hash": prev})
            if wrong == "sha256":
                body = json.dumps(moved.public(), sort_keys=True).encode()
                value = hashlib.sha256(body).hexdigest()
            else:
                value = event_mac(hmac.new(b"not the key", b"x", "sha256").digest(), moved)
            conn.execute(update(wf_audit).where(at(event.seq)).values(prev_hash=prev, hash=value))
            prev = value
        conn.execute(update(wf_audit_head).values(last_mac=prev))

    check = tamper(wf, recompute)
    assert_break(check, Break.HEAD_MISMATCH, None)  # the head cannot be re-signed


def test_edit_with_later_hashes_recomputed_but_head_left_alone(wf: Workflow) -> None:
    log(wf, 5)

    def recompute(conn: Connection) -> None:
        conn.execute(update(wf_audit).where(at(3)).values(data={"n": 9}))
        prev = row(conn, 2)["hash"]
        for seq in (3, 4, 5):
            value = hashlib.sha256(f"{prev}{seq}".encode()).hexdigest()
            conn.execute(update(wf_audit).where(at(seq)).values(prev_hash=prev, hash=value))
            prev = value

    assert_break(tamper(wf, recompute), Break.FORGED, 3)


def test_forged_append(wf: Workflow, clock: FrozenClock) -> None:
    log(wf, 5)

    def forge(conn: Connection) -> None:
        last = row(conn, 5)
        conn.execute(
            insert(wf_audit).values(
                {**last, "seq": 6, "event": "forged", "prev_hash": last["hash"], "hash": "f" * 64}
            )
        )

    assert_break(tamper(wf, forge), Break.FORGED, 6)


def test_forged_append_with_the_head_moved(wf: Workflow) -> None:
    log(wf, 5)

    def forge(conn: Connection) -> None:
        last = row(conn, 5)
        conn.execute(insert(wf_audit).values({**last, "seq": 6, "prev_hash": last["hash"]}))
        conn.execute(update(wf_audit_head).values(count=6, last_seq=6))

    assert_break(tamper(wf, forge), Break.HEAD_MISMATCH, None)


def test_a_broken_head_stops_appends(wf: Workflow) -> None:
    log(wf, 2)
    with wf.db.begin() as conn:
        conn.execute(update(wf_audit_head).values(count=1))
    with pytest.raises(AuditLogBroken):
        log(wf, 1)


def test_deleted_head_with_a_witness(wf: Workflow, tmp_path: Path) -> None:
    witness = tmp_path / "witness.jsonl"
    wf.settings = wf.settings.model_copy(update={"audit_witness_file": witness})
    log(wf, 5)
    assert witness.stat().st_mode & 0o777 == 0o600
    assert len(witness.read_text().splitlines()) == 5
    assert wf.verify_audit(witness).witnessed == 5

    def rolled_back() -> None:
        with wf.db.begin() as conn:
            wf.audit(conn, SYSTEM, "test.event", "item", "item-x")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        rolled_back()
    assert len(witness.read_text().splitlines()) == 5

    check = tamper(wf, lambda c: c.execute(delete(wf_audit_head)))
    assert_break(check, Break.HEAD_MISMATCH, None)
    assert_break(wf.verify_audit(witness), Break.HEAD_MISMATCH, None)


def test_reset_to_a_fresh_log_is_caught_by_the_witness(wf: Workflow, tmp_path: Path) -> None:
    witness = tmp_path / "witness.jsonl"
    wf.settings = wf.settings.model_copy(update={"audit_witness_file": witness})
    log(wf, 5)

    def reset(conn: Connection) -> None:  # what an empty, freshly migrated database holds
        conn.execute(delete(wf_audit))
        conn.execute(
            update(wf_audit_head).values(
                since_seq=1, count=0, last_seq=0, last_mac=GENESIS, mac=None
            )
        )

    assert tamper(wf, reset).intact  # without the witness, nothing to compare with
    check = wf.verify_audit(witness)
    assert_break(check, Break.TRUNCATED, 1)
    assert "witness saw 5" in check.detail


def test_a_witness_from_another_key_is_refused(wf: Workflow, tmp_path: Path) -> None:
    witness = tmp_path / "witness.jsonl"
    witness.write_text(
        json.dumps(
            {"since_seq": 1, "count": 1, "last_seq": 1, "last_mac": GENESIS, "mac": "0" * 64}
        )
        + "\n"
    )
    with pytest.raises(ConfigError, match=r"witness\.jsonl:1"):
        wf.verify_audit(witness)


def test_concurrent_appends_keep_one_chain(wf: Workflow) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            log(wf, 10, start=n * 10)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    check = wf.verify_audit()
    assert check.intact, check.detail
    assert check.events == 40
    with wf.db.connect() as conn:
        assert [e.seq for e in events(conn)] == list(range(1, 41))
