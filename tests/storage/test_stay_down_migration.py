"""Migration 0012 moves the exact stay-down list (wf_stay_down) into the stay-down bank as
``sha256`` entries: removed content stays down across the upgrade, lifted content stays up."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bastion.hashing.banks import BankService
from bastion.staydown import StayDown
from bastion.storage.db import Database
from tests.storage.test_audit_migration import upgrade

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
KEPT, LIFTED = "ab" * 32, "cd" * 32


def test_removed_content_stays_down_across_the_upgrade(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db, "0011_audit_hmac")
    old = sa.table(
        "wf_stay_down",
        *(sa.column(c) for c in ("id", "sha256", "pdq", "item_id", "decision_id", "category")),
        sa.column("added_at", sa.DateTime(timezone=True)),
        sa.column("lifted_at", sa.DateTime(timezone=True)),
    )
    with db.engine.begin() as conn:
        conn.execute(
            old.insert(),
            [
                {
                    "id": "s1",
                    "sha256": KEPT,
                    "pdq": None,
                    "item_id": "i1",
                    "decision_id": "d1",
                    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
                    "added_at": AT,
                    "lifted_at": None,
                },
                {
                    "id": "s2",
                    "sha256": LIFTED,
                    "pdq": None,
                    "item_id": "i2",
                    "decision_id": "d2",
                    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
                    "added_at": AT,
                    "lifted_at": AT,
                },
            ],
        )
    db.migrate()
    stay_down = StayDown(BankService(db))
    with db.connect() as conn:
        kept = stay_down.lookup(conn, KEPT)
        assert stay_down.lookup(conn, LIFTED) is None
        assert "wf_stay_down" not in sa.inspect(conn).get_table_names()
    assert kept is not None
    assert kept["decision_id"] == "d1"
    assert kept["category"] == "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    entries = list(stay_down.banks.entries("removed_content"))
    assert sorted((e.hash, e.enabled) for e in entries) == [(KEPT, True), (LIFTED, False)]
    db.dispose()
