"""Table definitions (SQLAlchemy Core). Changing them needs a migration in migrations/."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

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
