"""Table definitions (SQLAlchemy Core). Changing them needs a migration in migrations/."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    Index,
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
