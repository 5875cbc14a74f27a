"""Idempotency keys and outbox claims (issue 10).

Revision ID: 0009_intake_idempotency
Revises: 0006_output_marks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_intake_idempotency"
down_revision = "0006_output_marks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wf_outbox") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(36)))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True)))
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(80), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("status", sa.SmallInteger),
        sa.Column("content_type", sa.String(100)),
        sa.Column("body", sa.Text),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("wf_outbox") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("claim_token")
