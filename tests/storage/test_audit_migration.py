"""Events written before migration 0011 keep their SHA-256 chain and are bound into the
keyed chain by its first MAC."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import insert, update

from bastion.storage.db import Database
from bastion.storage.tables import wf_audit
from bastion.storage.workflow.audit import GENESIS, AuditEvent, append, chain_key, legacy_digest
from bastion.storage.workflow.audit_check import Break, verify
from tests.conftest import TEST_SECRET

KEY = chain_key(TEST_SECRET.encode())
AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def upgrade(db: Database, revision: str) -> None:
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("bastion.storage").joinpath("migrations"))
    )
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def legacy_log(db: Database, count: int) -> None:
    prev = GENESIS
    with db.engine.begin() as conn:
        for n in range(1, count + 1):
            event = AuditEvent(n, AT, "system", "old.event", "item", f"i-{n}", {"n": n}, prev, "")
            value = legacy_digest(event)
            conn.execute(insert(wf_audit).values({**event.public(), "at": AT, "hash": value}))
            prev = value


def add(db: Database) -> None:
    with db.begin() as conn:
        append(conn, KEY, at=AT, actor="system", event="new", subject_kind="item", subject_id="x")


def test_legacy_events_are_bound_into_the_keyed_chain(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db, "0010_output_pairings")
    legacy_log(db, 3)
    db.migrate()
    with db.connect() as conn:
        check = verify(conn, KEY)
    assert check.intact
    assert check.head is not None
    assert (check.head.since_seq, check.head.count, check.head.mac) == (4, 3, None)

    add(db)
    add(db)
    with db.connect() as conn:
        check = verify(conn, KEY)
    assert check.intact, check.detail
    assert check.events == 5
    assert check.head is not None
    assert check.head.mac is not None

    with db.begin() as conn:  # an old event edited, and its SHA-256 recomputed
        conn.execute(update(wf_audit).where(wf_audit.c.seq == 3).values(actor="someone"))
        edited = AuditEvent(3, AT, "someone", "old.event", "item", "i-3", {"n": 3}, "", "")
        with db.connect() as read:
            prev = read.execute(wf_audit.select().where(wf_audit.c.seq == 2)).one().hash
        value = legacy_digest(AuditEvent(**{**edited.public(), "at": AT, "prev_hash": prev}))
        conn.execute(update(wf_audit).where(wf_audit.c.seq == 3).values(hash=value))
    with db.connect() as conn:
        check = verify(conn, KEY)
    assert (check.kind, check.position) == (Break.EDITED, 3)  # the first MAC holds the old hash
    db.dispose()
