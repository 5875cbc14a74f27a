"""The notice-and-action workflow's tables (SQLAlchemy Core); re-exported by
:mod:`bastion.storage.tables`. Changing them needs a migration in migrations/."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from bastion.storage.metadata import metadata

# -- notice-and-action workflow (issue 5; migration 0005_workflow) -------------------------------

wf_items = Table(
    "wf_items",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("content_id", String(200), unique=True),
    Column("url", String(2000)),
    Column("sha256", String(64)),
    Column("pdq", String(64)),
    Column("account_id", String(200)),
    Column("account_contact", String(320)),
    Column("account_language", String(8)),
    Column("content_types", JSON, nullable=False),
    Column("language", String(8)),
    Column("hosted_at", DateTime(timezone=True)),
    Column("state", String(16), nullable=False),
    Column("state_changed_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_wf_items_url", "url"),
    Index("ix_wf_items_sha256", "sha256"),
    Index("ix_wf_items_account_id", "account_id"),
)

wf_trusted_flaggers = Table(
    "wf_trusted_flaggers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("member_state", String(2), nullable=False),
    Column("areas", JSON, nullable=False),
    Column("api_key_id", String(36), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

wf_notices = Table(
    "wf_notices",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("type", String(24), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("category", String(80), nullable=False),
    Column("keywords", JSON, nullable=False),
    Column("keyword_other", String(500)),
    Column("explanation", Text, nullable=False),
    Column("locations", JSON, nullable=False),
    Column("notifier_name", String(200)),
    Column("notifier_email", String(320)),
    # HMAC of the normalised email: links a sender's notices without a clear-text join.
    Column("notifier_ref", String(64)),
    Column("language", String(8), nullable=False),
    Column("jurisdiction", String(2), nullable=False),
    Column("bona_fide", Boolean, nullable=False),
    Column("child_sexual_abuse", Boolean, nullable=False),
    Column("trusted_flagger_id", String(36), ForeignKey("wf_trusted_flaggers.id")),
    Column("details", JSON, nullable=False),
    Column("outcome", String(24)),
    Column("decided_at", DateTime(timezone=True)),
    Column("notifier_informed_at", DateTime(timezone=True)),
    Index("ix_wf_notices_received_at", "received_at"),
    Index("ix_wf_notices_notifier_ref", "notifier_ref"),
)

wf_cases = Table(
    "wf_cases",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("item_id", String(36), ForeignKey("wf_items.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("due_at", DateTime(timezone=True)),
    Column("category", String(80), nullable=False),
    Column("keywords", JSON, nullable=False),
    Column("child_safety", Boolean, nullable=False),
    Column("trusted_flagger", Boolean, nullable=False),
    Column("assignee", String(36)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision_id", String(36)),
    Index("ix_wf_cases_item_id", "item_id"),
    Index("ix_wf_cases_queue", "state", "priority", "due_at"),
)

wf_case_notices = Table(
    "wf_case_notices",
    metadata,
    Column("case_id", String(36), ForeignKey("wf_cases.id"), primary_key=True),
    Column("notice_id", String(36), ForeignKey("wf_notices.id"), primary_key=True),
)

wf_detections = Table(
    "wf_detections",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), ForeignKey("wf_cases.id"), nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("source", String(80), nullable=False),
    Column("rule", String(80)),
    Column("guard_decision_id", String(36)),
    Column("score", Float),
    Column("category", String(80), nullable=False),
    Column("keywords", JSON, nullable=False),
    Index("ix_wf_detections_case_id", "case_id"),
)

wf_deadlines = Table(
    "wf_deadlines",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), ForeignKey("wf_cases.id"), nullable=False),
    Column("notice_id", String(36)),
    Column("regime", String(32), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("basis", String(300), nullable=False),
    Column("met_at", DateTime(timezone=True)),
    Index("ix_wf_deadlines_case_id", "case_id"),
    Index("ix_wf_deadlines_due_at", "due_at"),
)

wf_decisions = Table(
    "wf_decisions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), ForeignKey("wf_cases.id"), nullable=False),
    Column("item_id", String(36), ForeignKey("wf_items.id"), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("reviewer", String(36), nullable=False),
    Column("visibility", String(16), nullable=False),
    Column("account_measure", String(24), nullable=False),
    Column("ground", String(16), nullable=False),
    Column("category", String(80), nullable=False),
    Column("automated_decision", String(16), nullable=False),
    Column("supersedes", String(36)),
    Column("status", String(16), nullable=False),
    Column("record", JSON, nullable=False),
    Index("ix_wf_decisions_case_id", "case_id"),
    Index("ix_wf_decisions_decided_at", "decided_at"),
)

wf_statements = Table(
    "wf_statements",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("decision_id", String(36), ForeignKey("wf_decisions.id"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("recipient", String(16), nullable=False),
    Column("puid", String(500), unique=True),
    Column("language", String(8), nullable=False),
    Column("body", Text),
    Column("payload", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("tdb_status", String(16)),
    Index("ix_wf_statements_decision_id", "decision_id"),
)

wf_appeal_tokens = Table(
    "wf_appeal_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("decision_id", String(36), ForeignKey("wf_decisions.id"), nullable=False),
    Column("notice_id", String(36)),
    Column("role", String(16), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    # The outbox message that informs the person; the appeal window starts when it is sent.
    Column("message_id", String(36)),
    Column("informed_at", DateTime(timezone=True)),
    Column("expires_at", DateTime(timezone=True)),
)

wf_appeals = Table(
    "wf_appeals",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("decision_id", String(36), ForeignKey("wf_decisions.id"), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("basis", String(40), nullable=False),
    Column("lodged_at", DateTime(timezone=True), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("outcome", String(24)),
    Column("reviewer", String(36)),
    Column("decided_at", DateTime(timezone=True)),
    Column("response", Text),
    Column("new_decision_id", String(36)),
    Column("new_restriction", Boolean, nullable=False),
    Index("ix_wf_appeals_decision_id", "decision_id"),
    Index("ix_wf_appeals_token_hash", "token_hash"),
)

wf_strikes = Table(
    "wf_strikes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_ref", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("gravity", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("source_id", String(36), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_wf_strikes_subject", "subject_kind", "subject_ref"),
)

wf_standings = Table(
    "wf_standings",
    metadata,
    Column("subject_kind", String(16), primary_key=True),
    Column("subject_ref", String(200), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("warned_at", DateTime(timezone=True)),
    Column("suspended_until", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

wf_outbox = Table(
    "wf_outbox",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("to_address", String(320), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("ref_id", String(36), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("error", String(500)),
    # Issue 10: a sender claims a row (token + lease) before sending it, so several
    # processes never send one message twice; an expired lease makes the row claimable again.
    Column("claim_token", String(36)),
    Column("claimed_until", DateTime(timezone=True)),
    Index("ix_wf_outbox_status", "status"),
)

# Append-only; each row's hash covers its content and the previous row's hash. The unique
# prev_hash makes a fork impossible: two writers racing for the same tail cannot both commit.
wf_audit = Table(
    "wf_audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("event", String(40), nullable=False),
    Column("subject_kind", String(24), nullable=False),
    Column("subject_id", String(36), nullable=False),
    Column("data", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False),
    Index("ix_wf_audit_subject_id", "subject_id"),
)

# The signed head of the audit chain: one row (id 1), re-signed with every append.
wf_audit_head = Table(
    "wf_audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("since_seq", Integer, nullable=False),
    Column("count", Integer, nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("last_mac", String(64), nullable=False),
    Column("mac", String(64)),
)
