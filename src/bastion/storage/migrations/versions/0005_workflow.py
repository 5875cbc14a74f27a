"""Notice-and-action workflow: items, notices, cases, deadlines, decisions, statements,
appeals, strikes and standings, stay-down, outbox and the hash-chained audit log.

Revision ID: 0005_workflow
Revises: 0004_banks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_workflow"
down_revision = "0004_banks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wf_audit",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("subject_kind", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_wf_audit")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_wf_audit_prev_hash")),
    )
    op.create_index("ix_wf_audit_subject_id", "wf_audit", ["subject_id"], unique=False)
    op.create_table(
        "wf_items",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("content_id", sa.String(length=200), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("pdq", sa.String(length=64), nullable=True),
        sa.Column("account_id", sa.String(length=200), nullable=True),
        sa.Column("account_contact", sa.String(length=320), nullable=True),
        sa.Column("account_language", sa.String(length=8), nullable=True),
        sa.Column("content_types", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("hosted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_items")),
        sa.UniqueConstraint("content_id", name=op.f("uq_wf_items_content_id")),
    )
    op.create_index("ix_wf_items_account_id", "wf_items", ["account_id"], unique=False)
    op.create_index("ix_wf_items_sha256", "wf_items", ["sha256"], unique=False)
    op.create_index("ix_wf_items_url", "wf_items", ["url"], unique=False)
    op.create_table(
        "wf_outbox",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("ref_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_outbox")),
    )
    op.create_index("ix_wf_outbox_status", "wf_outbox", ["status"], unique=False)
    op.create_table(
        "wf_standings",
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_ref", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("suspended_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject_kind", "subject_ref", name=op.f("pk_wf_standings")),
    )
    op.create_table(
        "wf_stay_down",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pdq", sa.String(length=64), nullable=True),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_stay_down")),
    )
    op.create_index("ix_wf_stay_down_sha256", "wf_stay_down", ["sha256"], unique=False)
    op.create_table(
        "wf_strikes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_ref", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("gravity", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_id", sa.String(length=36), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_strikes")),
    )
    op.create_index(
        "ix_wf_strikes_subject", "wf_strikes", ["subject_kind", "subject_ref"], unique=False
    )
    op.create_table(
        "wf_trusted_flaggers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("member_state", sa.String(length=2), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("api_key_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_trusted_flaggers")),
        sa.UniqueConstraint("api_key_id", name=op.f("uq_wf_trusted_flaggers_api_key_id")),
    )
    op.create_table(
        "wf_cases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("child_safety", sa.Boolean(), nullable=False),
        sa.Column("trusted_flagger", sa.Boolean(), nullable=False),
        sa.Column("assignee", sa.String(length=36), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["wf_items.id"], name=op.f("fk_wf_cases_item_id_wf_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_cases")),
    )
    op.create_index("ix_wf_cases_item_id", "wf_cases", ["item_id"], unique=False)
    op.create_index("ix_wf_cases_queue", "wf_cases", ["state", "priority", "due_at"], unique=False)
    op.create_table(
        "wf_notices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("keyword_other", sa.String(length=500), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("locations", sa.JSON(), nullable=False),
        sa.Column("notifier_name", sa.String(length=200), nullable=True),
        sa.Column("notifier_email", sa.String(length=320), nullable=True),
        sa.Column("notifier_ref", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("jurisdiction", sa.String(length=2), nullable=False),
        sa.Column("bona_fide", sa.Boolean(), nullable=False),
        sa.Column("child_sexual_abuse", sa.Boolean(), nullable=False),
        sa.Column("trusted_flagger_id", sa.String(length=36), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notifier_informed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["trusted_flagger_id"],
            ["wf_trusted_flaggers.id"],
            name=op.f("fk_wf_notices_trusted_flagger_id_wf_trusted_flaggers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_notices")),
    )
    op.create_index("ix_wf_notices_notifier_ref", "wf_notices", ["notifier_ref"], unique=False)
    op.create_index("ix_wf_notices_received_at", "wf_notices", ["received_at"], unique=False)
    op.create_table(
        "wf_case_notices",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("notice_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["wf_cases.id"], name=op.f("fk_wf_case_notices_case_id_wf_cases")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["wf_notices.id"], name=op.f("fk_wf_case_notices_notice_id_wf_notices")
        ),
        sa.PrimaryKeyConstraint("case_id", "notice_id", name=op.f("pk_wf_case_notices")),
    )
    op.create_table(
        "wf_deadlines",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("notice_id", sa.String(length=36), nullable=True),
        sa.Column("regime", sa.String(length=32), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("basis", sa.String(length=300), nullable=False),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["wf_cases.id"], name=op.f("fk_wf_deadlines_case_id_wf_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_deadlines")),
    )
    op.create_index("ix_wf_deadlines_case_id", "wf_deadlines", ["case_id"], unique=False)
    op.create_index("ix_wf_deadlines_due_at", "wf_deadlines", ["due_at"], unique=False)
    op.create_table(
        "wf_decisions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewer", sa.String(length=36), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("account_measure", sa.String(length=24), nullable=False),
        sa.Column("ground", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("automated_decision", sa.String(length=16), nullable=False),
        sa.Column("supersedes", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["wf_cases.id"], name=op.f("fk_wf_decisions_case_id_wf_cases")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["wf_items.id"], name=op.f("fk_wf_decisions_item_id_wf_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_decisions")),
    )
    op.create_index("ix_wf_decisions_case_id", "wf_decisions", ["case_id"], unique=False)
    op.create_index("ix_wf_decisions_decided_at", "wf_decisions", ["decided_at"], unique=False)
    op.create_table(
        "wf_detections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("rule", sa.String(length=80), nullable=True),
        sa.Column("guard_decision_id", sa.String(length=36), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["wf_cases.id"], name=op.f("fk_wf_detections_case_id_wf_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_detections")),
    )
    op.create_index("ix_wf_detections_case_id", "wf_detections", ["case_id"], unique=False)
    op.create_table(
        "wf_appeal_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("notice_id", sa.String(length=36), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("informed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["wf_decisions.id"],
            name=op.f("fk_wf_appeal_tokens_decision_id_wf_decisions"),
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_wf_appeal_tokens")),
    )
    op.create_table(
        "wf_appeals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("basis", sa.String(length=40), nullable=False),
        sa.Column("lodged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("reviewer", sa.String(length=36), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("new_decision_id", sa.String(length=36), nullable=True),
        sa.Column("new_restriction", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["wf_decisions.id"],
            name=op.f("fk_wf_appeals_decision_id_wf_decisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_appeals")),
    )
    op.create_index("ix_wf_appeals_decision_id", "wf_appeals", ["decision_id"], unique=False)
    op.create_index("ix_wf_appeals_token_hash", "wf_appeals", ["token_hash"], unique=False)
    op.create_table(
        "wf_statements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=16), nullable=False),
        sa.Column("puid", sa.String(length=500), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tdb_status", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["wf_decisions.id"],
            name=op.f("fk_wf_statements_decision_id_wf_decisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wf_statements")),
        sa.UniqueConstraint("puid", name=op.f("uq_wf_statements_puid")),
    )
    op.create_index("ix_wf_statements_decision_id", "wf_statements", ["decision_id"], unique=False)


def downgrade() -> None:
    op.drop_table("wf_statements")
    op.drop_table("wf_appeals")
    op.drop_table("wf_appeal_tokens")
    op.drop_table("wf_detections")
    op.drop_table("wf_decisions")
    op.drop_table("wf_deadlines")
    op.drop_table("wf_case_notices")
    op.drop_table("wf_notices")
    op.drop_table("wf_cases")
    op.drop_table("wf_trusted_flaggers")
    op.drop_table("wf_strikes")
    op.drop_table("wf_stay_down")
    op.drop_table("wf_standings")
    op.drop_table("wf_outbox")
    op.drop_table("wf_items")
    op.drop_table("wf_audit")
