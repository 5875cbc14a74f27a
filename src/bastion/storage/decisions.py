"""Decision repository: every decision is stored with its reasons and findings.

Prompts are kept as a salted hash; the clear text only for allowed prompts while the configured
retention lasts (never for blocked ones), and :meth:`purge_expired` removes it afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from bastion.clock import as_utc
from bastion.errors import NotFound
from bastion.policy.model import Decision
from bastion.storage.db import Database
from bastion.storage.tables import decisions


@dataclass(frozen=True, slots=True)
class StoredPrompt:
    """What is kept about a prompt next to its decision."""

    hash: str
    text: str | None = None
    expires_at: datetime | None = None


def _row(decision: Decision, prompt: StoredPrompt | None) -> dict[str, Any]:
    return {
        "id": decision.id,
        "created_at": decision.created_at,
        "surface": decision.surface.value,
        "action": decision.action.value,
        "severity": decision.severity.value,
        "policy": decision.policy,
        "category": decision.category,
        "language": decision.language,
        "request_id": decision.request_id,
        "duration_ms": decision.duration_ms,
        "record": decision.to_dict(),
        "principal": decision.principal,
        "prompt_hash": prompt.hash if prompt else None,
        "prompt_text": prompt.text if prompt else None,
        "prompt_expires_at": prompt.expires_at if prompt else None,
    }


class DecisionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, decision: Decision, prompt: StoredPrompt | None = None) -> None:
        self.add_many([(decision, prompt)])

    def add_many(self, items: Sequence[tuple[Decision, StoredPrompt | None]]) -> None:
        """Insert decisions in one transaction: all or none."""
        if not items:
            return
        rows = [_row(decision, prompt) for decision, prompt in items]
        with self.db.begin() as connection:
            connection.execute(decisions.insert(), rows)

    def get(self, decision_id: str) -> Decision:
        with self.db.connect() as connection:
            row = connection.execute(
                select(decisions.c.record, decisions.c.principal).where(
                    decisions.c.id == decision_id
                )
            ).one_or_none()
        if row is None:
            raise NotFound(f"no decision with id {decision_id!r}", field="decision_id")
        return replace(Decision.from_dict(row.record), principal=row.principal)

    def prompt_of(self, decision_id: str) -> StoredPrompt | None:
        with self.db.connect() as connection:
            row = connection.execute(
                select(
                    decisions.c.prompt_hash, decisions.c.prompt_text, decisions.c.prompt_expires_at
                ).where(decisions.c.id == decision_id)
            ).one_or_none()
        if row is None:
            raise NotFound(f"no decision with id {decision_id!r}", field="decision_id")
        if row.prompt_hash is None:
            return None
        return StoredPrompt(row.prompt_hash, row.prompt_text, as_utc(row.prompt_expires_at))

    def purge_expired(self, now: datetime) -> int:
        """Erase clear-text prompts whose retention has ended. Returns how many."""
        with self.db.begin() as connection:
            result = connection.execute(
                update(decisions)
                .where(decisions.c.prompt_expires_at <= now, decisions.c.prompt_text.is_not(None))
                .values(prompt_text=None)
            )
        return result.rowcount or 0

    def count_by_action(self) -> dict[str, int]:
        with self.db.connect() as connection:
            rows = connection.execute(
                select(decisions.c.action, func.count()).group_by(decisions.c.action)
            ).all()
        return {action: count for action, count in rows}
