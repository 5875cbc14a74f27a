"""The signed head of the audit chain (HMAC-SHA256 from here on).

Migrations never see the secret, so existing events keep their SHA-256 chain: the head row
records where the keyed chain starts (``since_seq``) and the legacy tail, unsigned (``mac``
NULL). The first keyed append signs it; its first MAC covers the last legacy hash.

Revision ID: 0011_audit_hmac
Revises: 0010_output_pairings
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_audit_hmac"
down_revision = "0010_output_pairings"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    head = op.create_table(
        "wf_audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("since_seq", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_mac", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_audit_head")),
    )
    audit = sa.table("wf_audit", sa.column("seq", sa.Integer()), sa.column("hash", sa.String()))
    conn = op.get_bind()
    count, last_seq = conn.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(audit.c.seq), 0))
    ).one()
    last = conn.execute(sa.select(audit.c.hash).where(audit.c.seq == last_seq)).scalar()
    op.bulk_insert(
        head,
        [
            {
                "id": 1,
                "since_seq": last_seq + 1,
                "count": count,
                "last_seq": last_seq,
                "last_mac": last or GENESIS,
                "mac": None,
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("wf_audit_head")
