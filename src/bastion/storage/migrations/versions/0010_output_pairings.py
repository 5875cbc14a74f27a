"""Who made each decision, and which outputs were paired with which generation request.

Revision ID: 0010_output_pairings
Revises: 0009_intake_idempotency
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_output_pairings"
down_revision = "0009_intake_idempotency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("principal", sa.String(36)))
    op.create_table(
        "output_pairings",
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("output_sha256", sa.String(64), nullable=False),
        sa.Column("decision_id", sa.String(36), nullable=False),
        sa.Column("principal", sa.String(36)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "output_sha256", name=op.f("pk_output_pairings")),
    )


def downgrade() -> None:
    op.drop_table("output_pairings")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("principal")
