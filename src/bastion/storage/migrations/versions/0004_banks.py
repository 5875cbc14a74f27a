"""Hash banks: banks, entries, entry variants and the change feed.

Revision ID: 0004_banks
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_banks"
down_revision = "0001"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "banks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("match_distance", sa.SmallInteger, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("negative", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", name="uq_banks_name"),
    )
    op.create_table(
        "bank_entries",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column(
            "bank_id",
            sa.Integer,
            sa.ForeignKey("banks.id", name="fk_bank_entries_bank_id_banks"),
            nullable=False,
        ),
        sa.Column("signal_type", sa.String(16), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("quality", sa.SmallInteger),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("case_id", sa.String(64)),
        sa.Column("decision_id", sa.String(36)),
        sa.Column("note", sa.String(500)),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_bank_entries_bank_id", "bank_entries", ["bank_id"])
    op.create_index("ix_bank_entries_hash", "bank_entries", ["hash"])
    op.create_index("ix_bank_entries_case_id", "bank_entries", ["case_id"])
    op.create_table(
        "bank_entry_variants",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column(
            "entry_id",
            sa.BigInteger,
            sa.ForeignKey("bank_entries.id", name="fk_bank_entry_variants_entry_id_bank_entries"),
            nullable=False,
        ),
        sa.Column("variant", sa.String(32), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_bank_entry_variants_entry_id", "bank_entry_variants", ["entry_id"])
    op.create_table(
        "bank_changes",
        sa.Column("seq", _id(), primary_key=True, autoincrement=True),
        sa.Column("op", sa.String(16), nullable=False),
        sa.Column("bank_id", sa.Integer, nullable=False),
        sa.Column("entry_id", sa.BigInteger),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bank_changes")
    op.drop_table("bank_entry_variants")
    op.drop_table("bank_entries")
    op.drop_table("banks")
