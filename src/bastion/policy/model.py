"""The decision model: what the policy engine returns and everything downstream renders from.

A ``Decision`` carries the rules that fired (``reasons``) and the findings each used. A statement
of reasons, a report counter and an audit event are all rendered from this one record.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from bastion.clock import utcnow
from bastion.findings import DETECTOR_ERROR, Finding


class Action(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _ACTION_RANK[self]


_ACTION_RANK = {Action.ALLOW: 0, Action.REVIEW: 1, Action.BLOCK: 2}


class Severity(StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class Surface(StrEnum):
    """Where in the flow a decision was taken. Stored; part of the stable vocabulary."""

    GENERATION = "generation"
    OUTPUT = "output"
    UPLOAD = "upload"


def new_id() -> str:
    """A time-ordered, unique id (UUIDv7 layout): sortable in storage, unguessable enough."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand >> 66 & 0xFFF) << 64
    value |= 0b10 << 62 | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


# The built-in reason the engine adds for any detector failure: generation paths fail closed.
FAIL_CLOSED_RULE = "detector_failure"


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that fired, with the findings it consumed."""

    rule: str
    description: str
    action: Action
    severity: Severity
    findings: tuple[Finding, ...] = ()
    category: str | None = None
    keywords: tuple[str, ...] = ()
    escalate: bool = False

    @property
    def about_content(self) -> bool:
        """Whether the reason says something about the content. The fail-closed reason, and
        any rule that fired on detector failures alone, do not: such a block is an outage,
        never evidence — it is not banked for stay-down and opens no case."""
        if self.rule == FAIL_CLOSED_RULE:
            return False
        return not self.findings or any(f.label != DETECTOR_ERROR for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "description": self.description,
            "action": self.action.value,
            "severity": self.severity.value,
            "category": self.category,
            "keywords": list(self.keywords),
            "escalate": self.escalate,
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        return cls(
            rule=data["rule"],
            description=data.get("description", ""),
            action=Action(data["action"]),
            severity=Severity(data["severity"]),
            findings=tuple(Finding.from_dict(f) for f in data.get("findings", ())),
            category=data.get("category"),
            keywords=tuple(data.get("keywords", ())),
            escalate=bool(data.get("escalate", False)),
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one check. ``action`` is the strictest action of all reasons."""

    action: Action
    severity: Severity
    surface: Surface
    reasons: tuple[Reason, ...] = ()
    findings: tuple[Finding, ...] = ()
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utcnow)
    policy: str = "default"
    request_id: str | None = None
    language: str | None = None
    content_sha256: str | None = None
    duration_ms: float | None = None
    # The API key that asked for the check (None: an in-process call). Stored beside the
    # record, never in it: it decides who may pair or mark, and is not shown to callers.
    principal: str | None = None

    @property
    def rules(self) -> list[str]:
        return [r.rule for r in self.reasons]

    @property
    def blocked(self) -> bool:
        return self.action is Action.BLOCK

    @property
    def escalate(self) -> bool:
        return any(r.escalate for r in self.reasons)

    @property
    def content_action(self) -> Action:
        """The strictest action among the reasons about the content (``about_content``):
        what the decision says about the content itself, outages left out."""
        ranked = [r.action for r in self.reasons if r.about_content]
        return max(ranked, key=lambda a: a.rank, default=Action.ALLOW)

    @property
    def category(self) -> str | None:
        """The category of the most severe reason that names one."""
        ranked = sorted(
            (r for r in self.reasons if r.category),
            key=lambda r: (r.action.rank, r.severity.rank),
            reverse=True,
        )
        return ranked[0].category if ranked else None

    @property
    def keywords(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for reason in self.reasons:
            for keyword in reason.keywords:
                seen.setdefault(keyword, None)
        return tuple(seen)

    def with_timing(self, duration_ms: float) -> Decision:
        return replace(self, duration_ms=round(duration_ms, 3))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action.value,
            "severity": self.severity.value,
            "surface": self.surface.value,
            "created_at": self.created_at.isoformat(),
            "policy": self.policy,
            "request_id": self.request_id,
            "language": self.language,
            "content_sha256": self.content_sha256,
            "duration_ms": self.duration_ms,
            "category": self.category,
            "keywords": list(self.keywords),
            "escalate": self.escalate,
            "rules": self.rules,
            "reasons": [r.to_dict() for r in self.reasons],
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        return cls(
            id=data["id"],
            action=Action(data["action"]),
            severity=Severity(data["severity"]),
            surface=Surface(data["surface"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            policy=data.get("policy", "default"),
            request_id=data.get("request_id"),
            language=data.get("language"),
            content_sha256=data.get("content_sha256"),
            duration_ms=data.get("duration_ms"),
            reasons=tuple(Reason.from_dict(r) for r in data.get("reasons", ())),
            findings=tuple(Finding.from_dict(f) for f in data.get("findings", ())),
        )


def combine(reasons: Sequence[Reason]) -> tuple[Action, Severity]:
    """The strictest action and the highest severity over all reasons (allow/none if none)."""
    action, severity = Action.ALLOW, Severity.NONE
    for reason in reasons:
        if reason.action.rank > action.rank:
            action = reason.action
        if reason.severity.rank > severity.rank:
            severity = reason.severity
    return action, severity
