"""Output marks: watermark output id → decision (issue 6).

Revision ID: 0006_output_marks
Revises: 0005_workflow
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_output_marks"
down_revision = "0005_workflow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "output_marks",
        sa.Column("issuer", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("output_id", sa.String(8), primary_key=True),
        sa.Column("decision_id", sa.String(36)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("media_type", sa.String(32)),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("marked_sha256", sa.String(64)),
        sa.Column("manifest", sa.String(200)),
        sa.Column("signer", sa.String(200)),
        sa.Column("development_signer", sa.Boolean, nullable=False),
    )
    op.create_index("ix_output_marks_decision_id", "output_marks", ["decision_id"])
    op.create_index("ix_output_marks_marked_sha256", "output_marks", ["marked_sha256"])


def downgrade() -> None:
    op.drop_table("output_marks")
