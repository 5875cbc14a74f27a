"""One stay-down table: removed items' SHA-256 move from wf_stay_down into the stay-down bank
(``removed_content``) as ``sha256`` entries beside the PDQ ones (issue 9).

Revision ID: 0012_one_stay_down
Revises: 0011_audit_hmac
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0012_one_stay_down"
down_revision = "0011_audit_hmac"
branch_labels = None
depends_on = None

_stay_down = sa.table(
    "wf_stay_down",
    sa.column("id", sa.String),
    sa.column("sha256", sa.String),
    sa.column("pdq", sa.String),
    sa.column("item_id", sa.String),
    sa.column("decision_id", sa.String),
    sa.column("category", sa.String),
    sa.column("added_at", sa.DateTime(timezone=True)),
    sa.column("lifted_at", sa.DateTime(timezone=True)),
)
_banks = sa.table(
    "banks",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("kind", sa.String),
    sa.column("description", sa.Text),
    sa.column("match_distance", sa.SmallInteger),
    sa.column("enabled", sa.Boolean),
    sa.column("negative", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_entries = sa.table(
    "bank_entries",
    sa.column("id", sa.BigInteger),
    sa.column("bank_id", sa.Integer),
    sa.column("signal_type", sa.String),
    sa.column("hash", sa.String),
    sa.column("quality", sa.SmallInteger),
    sa.column("source", sa.String),
    sa.column("labels", sa.JSON),
    sa.column("added_at", sa.DateTime(timezone=True)),
    sa.column("added_by", sa.String),
    sa.column("case_id", sa.String),
    sa.column("decision_id", sa.String),
    sa.column("note", sa.String),
    sa.column("enabled", sa.Boolean),
    sa.column("disabled_at", sa.DateTime(timezone=True)),
)
_changes = sa.table(
    "bank_changes",
    sa.column("op", sa.String),
    sa.column("bank_id", sa.Integer),
    sa.column("entry_id", sa.BigInteger),
    sa.column("at", sa.DateTime(timezone=True)),
)


def _removed_bank(conn: sa.Connection) -> int:
    found = conn.execute(sa.select(_banks.c.id).where(_banks.c.name == "removed_content")).first()
    if found is not None:
        return int(found[0])
    now = datetime.now(UTC)
    conn.execute(
        _banks.insert().values(
            name="removed_content",
            kind="removed_content",
            description="stay-down bank filled automatically (removed_content)",
            match_distance=31,
            enabled=True,
            negative=False,
            created_at=now,
            updated_at=now,
        )
    )
    bank_id = conn.execute(
        sa.select(_banks.c.id).where(_banks.c.name == "removed_content")
    ).scalar_one()
    conn.execute(_changes.insert().values(op="bank", bank_id=bank_id, entry_id=None, at=now))
    return int(bank_id)


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_stay_down).order_by(_stay_down.c.added_at)).all()
    if rows:
        bank_id = _removed_bank(conn)
        for row in rows:
            entry_id = conn.execute(
                _entries.insert()
                .values(
                    bank_id=bank_id,
                    signal_type="sha256",
                    hash=row.sha256.lower(),
                    quality=None,
                    source="decision:removal",
                    labels=[row.category],
                    added_at=row.added_at,
                    added_by="workflow",
                    case_id=None,
                    decision_id=row.decision_id,
                    note=None,
                    enabled=row.lifted_at is None,
                    disabled_at=row.lifted_at,
                )
                .returning(_entries.c.id)
            ).scalar_one()
            if row.lifted_at is None:
                conn.execute(
                    _changes.insert().values(
                        op="add", bank_id=bank_id, entry_id=entry_id, at=row.added_at
                    )
                )
    op.drop_index("ix_wf_stay_down_sha256", table_name="wf_stay_down")
    op.drop_table("wf_stay_down")


def downgrade() -> None:
    op.create_table(
        "wf_stay_down",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("pdq", sa.String(64)),
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("decision_id", sa.String(36), nullable=False),
        sa.Column("category", sa.String(80), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_stay_down")),
    )
    op.create_index("ix_wf_stay_down_sha256", "wf_stay_down", ["sha256"], unique=False)
