"""Table definitions (SQLAlchemy Core). Changing them needs a migration in migrations/."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)

from bastion.storage.metadata import metadata

decisions = Table(
    "decisions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("surface", String(16), nullable=False),
    Column("action", String(8), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("policy", String(64), nullable=False),
    Column("category", String(80)),
    Column("language", String(8)),
    Column("request_id", String(36)),
    # HMAC-SHA256 of the prompt under the service's secret key: lets identical prompts be
    # linked without keeping them in the clear.
    Column("prompt_hash", String(64)),
    # Only for allowed prompts and only while retention lasts (BASTION_PROMPT_RETENTION_HOURS).
    Column("prompt_text", Text),
    Column("prompt_expires_at", DateTime(timezone=True)),
    Column("duration_ms", Float),
    Column("record", JSON, nullable=False),
    # The API key that asked for the check (NULL: an in-process library call).
    Column("principal", String(36)),
    Index("ix_decisions_created_at", "created_at"),
    Index("ix_decisions_request_id", "request_id"),
    Index("ix_decisions_prompt_hash", "prompt_hash"),
    Index("ix_decisions_prompt_expires_at", "prompt_expires_at"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
)

# -- hash banks (issue 4) --------------------------------------------------------------------

banks = Table(
    "banks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    # What the bank holds (csam, ncii, blocked_generations, removed_content, terrorism,
    # false_positive, other): policy rules read it from hash-match findings.
    Column("kind", String(32), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("match_distance", SmallInteger, nullable=False),
    Column("enabled", Boolean, nullable=False),
    # A negative bank holds known false positives: matching one suppresses positive matches.
    Column("negative", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

bank_entries = Table(
    "bank_entries",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("bank_id", Integer, ForeignKey("banks.id"), nullable=False),
    Column("signal_type", String(16), nullable=False),
    Column("hash", String(64), nullable=False),  # hex, the exchange format
    Column("quality", SmallInteger),
    Column("source", String(200), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("added_by", String(200), nullable=False),
    Column("case_id", String(64)),
    Column("decision_id", String(36)),
    Column("note", String(500)),
    Column("enabled", Boolean, nullable=False),
    Column("disabled_at", DateTime(timezone=True)),
    Index("ix_bank_entries_bank_id", "bank_id"),
    Index("ix_bank_entries_hash", "hash"),
    Index("ix_bank_entries_case_id", "case_id"),
)

# Extra hashes of one entry (centred crops, ...) that the index also matches.
bank_entry_variants = Table(
    "bank_entry_variants",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("entry_id", BigInteger, ForeignKey("bank_entries.id"), nullable=False),
    Column("variant", String(32), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_bank_entry_variants_entry_id", "entry_id"),
)

# The change feed: every bank or entry change gets a sequence number, so each replica's
# in-memory index applies what changed since the sequence it last saw.
bank_changes = Table(
    "bank_changes",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("op", String(16), nullable=False),
    Column("bank_id", Integer, nullable=False),
    Column("entry_id", BigInteger),
    Column("at", DateTime(timezone=True), nullable=False),
)


# Issue 6: every marked output, so a watermark read from an upload links back to the decision.
output_marks = Table(
    "output_marks",
    metadata,
    Column("issuer", Integer, primary_key=True, autoincrement=False),
    # The watermark's 32-bit per-output id, as 8 lowercase hex digits.
    Column("output_id", String(8), primary_key=True),
    # The allowed decision the output was marked under (NULL: marked by an operator, unlinked).
    Column("decision_id", String(36)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # NULL until the marked image is complete (a reservation made before embedding).
    Column("media_type", String(32)),
    Column("source_sha256", String(64), nullable=False),
    Column("marked_sha256", String(64)),
    Column("manifest", String(200)),
    Column("signer", String(200)),
    Column("development_signer", Boolean, nullable=False, default=False),
    Index("ix_output_marks_decision_id", "decision_id"),
    Index("ix_output_marks_marked_sha256", "marked_sha256"),
)

# Issue 10: Idempotency-Key replays. One row per (principal scope, key): the request's hash,
# and once the first request finished, its status and body (NULL status: still in flight,
# held until ``locked_until``).
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(80), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True)),
    Column("status", SmallInteger),
    Column("content_type", String(100)),
    Column("body", Text),
    Index("ix_idempotency_keys_expires_at", "expires_at"),
)

# Issue 9: each output paired with a generation request, once; by the request's own principal.
output_pairings = Table(
    "output_pairings",
    metadata,
    Column("request_id", String(36), primary_key=True),
    Column("output_sha256", String(64), primary_key=True),
    Column("decision_id", String(36), nullable=False),
    Column("principal", String(36)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The workflow's tables live in their own module; they are part of the same metadata.
from bastion.storage.tables_workflow import (  # noqa: E402
    wf_appeal_tokens,
    wf_appeals,
    wf_audit,
    wf_audit_head,
    wf_case_notices,
    wf_cases,
    wf_deadlines,
    wf_decisions,
    wf_detections,
    wf_items,
    wf_notices,
    wf_outbox,
    wf_standings,
    wf_statements,
    wf_strikes,
    wf_trusted_flaggers,
)

__all__ = [
    "api_keys",
    "bank_changes",
    "bank_entries",
    "bank_entry_variants",
    "banks",
    "decisions",
    "idempotency_keys",
    "metadata",
    "output_marks",
    "output_pairings",
    "wf_appeal_tokens",
    "wf_appeals",
    "wf_audit",
    "wf_audit_head",
    "wf_case_notices",
    "wf_cases",
    "wf_deadlines",
    "wf_decisions",
    "wf_detections",
    "wf_items",
    "wf_notices",
    "wf_outbox",
    "wf_standings",
    "wf_statements",
    "wf_strikes",
    "wf_trusted_flaggers",
]
