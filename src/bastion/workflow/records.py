"""Frozen records of what the workflow stores: items, notices, cases, deadlines, statements,
appeals, trusted flaggers and account standings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bastion.workflow.model import (
    AppealOutcome,
    AppealState,
    CaseState,
    Complainant,
    ItemState,
    NoticeStatus,
    NoticeType,
)


@dataclass(frozen=True, slots=True)
class Item:
    """A piece of content on the platform. Bastion keeps its hashes and ids, never the bytes."""

    id: str
    created_at: datetime
    state: ItemState
    state_changed_at: datetime
    content_id: str | None = None
    url: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    account_id: str | None = None
    account_contact: str | None = None
    account_language: str | None = None
    content_types: tuple[str, ...] = ("CONTENT_TYPE_IMAGE",)
    language: str | None = None
    hosted_at: datetime | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "content_id": self.content_id,
            "url": self.url,
            "sha256": self.sha256,
            "account_id": self.account_id,
            "content_types": list(self.content_types),
            "language": self.language,
            "hosted_at": self.hosted_at.isoformat() if self.hosted_at else None,
            "state": self.state.value,
            "state_changed_at": self.state_changed_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Notice:
    id: str
    received_at: datetime
    type: NoticeType
    channel: str
    status: NoticeStatus
    category: str
    keywords: tuple[str, ...]
    explanation: str
    locations: tuple[str, ...]
    language: str
    jurisdiction: str
    bona_fide: bool
    child_sexual_abuse: bool
    keyword_other: str | None = None
    notifier_name: str | None = None
    notifier_email: str | None = None
    notifier_ref: str | None = None
    trusted_flagger_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    outcome: str | None = None
    decided_at: datetime | None = None
    notifier_informed_at: datetime | None = None

    def public(self) -> dict[str, Any]:
        """What the API shows staff (contact details included; never sent to the TDB)."""
        return {
            "id": self.id,
            "received_at": self.received_at.isoformat(),
            "type": self.type.value,
            "channel": self.channel,
            "status": self.status.value,
            "category": self.category,
            "keywords": list(self.keywords),
            "keyword_other": self.keyword_other,
            "explanation": self.explanation,
            "locations": list(self.locations),
            "language": self.language,
            "jurisdiction": self.jurisdiction,
            "bona_fide": self.bona_fide,
            "child_sexual_abuse": self.child_sexual_abuse,
            "notifier_name": self.notifier_name,
            "notifier_email": self.notifier_email,
            "trusted_flagger_id": self.trusted_flagger_id,
            "details": dict(self.details),
            "outcome": self.outcome,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }


@dataclass(frozen=True, slots=True)
class Deadline:
    id: str
    case_id: str
    regime: str
    starts_at: datetime
    due_at: datetime
    basis: str
    notice_id: str | None = None
    met_at: datetime | None = None

    def overdue(self, now: datetime) -> bool:
        return self.met_at is None and self.due_at < now

    def public(self, now: datetime) -> dict[str, Any]:
        return {
            "regime": self.regime,
            "starts_at": self.starts_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "hours": round((self.due_at - self.starts_at).total_seconds() / 3600, 2),
            "basis": self.basis,
            "notice_id": self.notice_id,
            "met_at": self.met_at.isoformat() if self.met_at else None,
            "overdue": self.overdue(now),
        }


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    item_id: str
    state: CaseState
    opened_at: datetime
    updated_at: datetime
    priority: int
    category: str
    keywords: tuple[str, ...]
    child_safety: bool
    trusted_flagger: bool
    due_at: datetime | None = None
    assignee: str | None = None
    decided_at: datetime | None = None
    decision_id: str | None = None


@dataclass(frozen=True, slots=True)
class Detection:
    id: str
    case_id: str
    detected_at: datetime
    source: str
    category: str
    keywords: tuple[str, ...]
    rule: str | None = None
    guard_decision_id: str | None = None
    score: float | None = None


@dataclass(frozen=True, slots=True)
class Statement:
    id: str
    decision_id: str
    kind: str  # "user" (Art. 17 text) or "tdb" (Transparency Database payload)
    recipient: str  # affected_user | notifier | commission
    language: str
    created_at: datetime
    body: str | None = None
    payload: Mapping[str, Any] | None = None
    puid: str | None = None
    tdb_status: str | None = None


@dataclass(frozen=True, slots=True)
class AppealToken:
    token_hash: str
    decision_id: str
    role: Complainant
    issued_at: datetime
    notice_id: str | None = None
    message_id: str | None = None
    informed_at: datetime | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Appeal:
    id: str
    decision_id: str
    token_hash: str
    role: Complainant
    basis: str
    lodged_at: datetime
    explanation: str
    state: AppealState
    new_restriction: bool = False
    outcome: AppealOutcome | None = None
    reviewer: str | None = None
    decided_at: datetime | None = None
    response: str | None = None
    new_decision_id: str | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "decision_id": self.decision_id,
            "role": self.role.value,
            "basis": self.basis,
            "lodged_at": self.lodged_at.isoformat(),
            "explanation": self.explanation,
            "state": self.state.value,
            "outcome": self.outcome.value if self.outcome else None,
            "reviewer": self.reviewer,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "response": self.response,
            "new_decision_id": self.new_decision_id,
            "new_restriction": self.new_restriction,
        }


@dataclass(frozen=True, slots=True)
class TrustedFlagger:
    id: str
    name: str
    member_state: str
    areas: tuple[str, ...]
    api_key_id: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Standing:
    subject_kind: str  # "account" | "notifier"
    subject_ref: str
    state: str  # good | warned | suspended
    updated_at: datetime
    warned_at: datetime | None = None
    suspended_until: datetime | None = None
