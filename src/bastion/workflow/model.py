"""The workflow's vocabulary: typed states, measures and the one decision record.

Names here are storage keys (they appear in the database, the API and reports): explicit,
lower_snake and stable. A :class:`ModerationDecision` is the single record from which the
statement to the user, the Transparency Database payload, the notifier's message, the audit
event and the report counters are all rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bastion.errors import Conflict


class NoticeType(StrEnum):
    DSA = "dsa_art16"
    TAKE_IT_DOWN = "take_it_down"
    TRUSTED_FLAGGER = "trusted_flagger"
    AUTHORITY_ORDER = "authority_order"
    OTHER = "other"


class NoticeStatus(StrEnum):
    RECEIVED = "received"
    DECIDED = "decided"


class CaseState(StrEnum):
    OPEN = "open"
    IN_REVIEW = "in_review"
    DECIDED = "decided"
    APPEALED = "appealed"


class ItemState(StrEnum):
    VISIBLE = "visible"
    REMOVED = "removed"
    DISABLED = "disabled"
    AGE_RESTRICTED = "age_restricted"
    LABELLED = "labelled"
    DEMOTED = "demoted"


class Visibility(StrEnum):
    """Measure on the item. ``none`` is a decision not to act on the item."""

    REMOVE = "remove"
    DISABLE = "disable"
    AGE_RESTRICT = "age_restrict"
    LABEL = "label"
    DEMOTE = "demote"
    NONE = "none"


VISIBILITY_STATE = {
    Visibility.REMOVE: ItemState.REMOVED,
    Visibility.DISABLE: ItemState.DISABLED,
    Visibility.AGE_RESTRICT: ItemState.AGE_RESTRICTED,
    Visibility.LABEL: ItemState.LABELLED,
    Visibility.DEMOTE: ItemState.DEMOTED,
    Visibility.NONE: ItemState.VISIBLE,
}

# Strictness, for "partially reversed" (a lighter measure than before).
VISIBILITY_RANK = {
    Visibility.NONE: 0,
    Visibility.LABEL: 1,
    Visibility.DEMOTE: 2,
    Visibility.AGE_RESTRICT: 3,
    Visibility.DISABLE: 4,
    Visibility.REMOVE: 5,
}


class AccountMeasure(StrEnum):
    NONE = "none"
    WARNING = "warning"
    SUSPENSION = "suspension"
    TERMINATION = "termination"
    # Art. 23(2): the account keeps working, but its notices and complaints are not processed.
    NOTICE_SUSPENSION = "notice_suspension"


ACCOUNT_RANK = {
    AccountMeasure.NONE: 0,
    AccountMeasure.WARNING: 1,
    AccountMeasure.NOTICE_SUSPENSION: 2,
    AccountMeasure.SUSPENSION: 3,
    AccountMeasure.TERMINATION: 4,
}


class Ground(StrEnum):
    ILLEGAL = "illegal"
    TERMS = "terms"
    NONE = "none"


class Automation(StrEnum):
    """Whether the decision was taken by automated means (TDB ``automated_decision``)."""

    FULLY = "fully"
    PARTIALLY = "partially"
    NOT = "not"


class SourceType(StrEnum):
    ARTICLE_16 = "article_16"
    TRUSTED_FLAGGER = "trusted_flagger"
    OTHER_NOTIFICATION = "other_notification"
    VOLUNTARY = "voluntary"


class NoticeAssessment(StrEnum):
    """What the reviewer concluded about the notices on a case (Art. 23(2) input)."""

    FOUNDED = "founded"
    UNFOUNDED = "unfounded"
    MANIFESTLY_UNFOUNDED = "manifestly_unfounded"


class DecisionStatus(StrEnum):
    IN_FORCE = "in_force"
    REVERSED = "reversed"
    SUPERSEDED = "superseded"


class AppealState(StrEnum):
    OPEN = "open"
    DECIDED = "decided"


class AppealOutcome(StrEnum):
    UPHELD = "upheld"
    PARTIALLY_REVERSED = "partially_reversed"
    REVERSED = "reversed"
    OMITTED = "omitted"


class Complainant(StrEnum):
    AFFECTED_USER = "affected_user"
    NOTIFIER = "notifier"


# -- state machines: every allowed transition, nothing else -------------------------------------


class InvalidTransition(Conflict):
    code = "invalid_transition"


CASE_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.OPEN: frozenset({CaseState.IN_REVIEW, CaseState.DECIDED}),
    CaseState.IN_REVIEW: frozenset({CaseState.OPEN, CaseState.DECIDED}),
    CaseState.DECIDED: frozenset({CaseState.APPEALED}),
    CaseState.APPEALED: frozenset({CaseState.DECIDED}),
}

APPEAL_TRANSITIONS: dict[AppealState, frozenset[AppealState]] = {
    AppealState.OPEN: frozenset({AppealState.DECIDED}),
    AppealState.DECIDED: frozenset(),
}


def check_case_transition(current: CaseState, target: CaseState) -> None:
    if target not in CASE_TRANSITIONS[current]:
        raise InvalidTransition(
            f"a case that is {current.value} cannot become {target.value}", field="state"
        )


def check_appeal_transition(current: AppealState, target: AppealState) -> None:
    if target not in APPEAL_TRANSITIONS[current]:
        raise InvalidTransition(
            f"an appeal that is {current.value} cannot become {target.value}", field="state"
        )


# -- the decision record ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModerationDecision:
    """One moderation decision about one item (and/or its account). Immutable once taken.

    Free-text fields written by reviewers (``explanation``) are kept as written for the user's
    statement; anything sent to the Transparency Database goes through the PII scrubber.
    """

    id: str
    case_id: str
    item_id: str
    decided_at: datetime
    reviewer: str
    reviewer_role: str
    visibility: Visibility
    account_measure: AccountMeasure
    ground: Ground
    category: str
    keywords: tuple[str, ...] = ()
    keyword_other: str | None = None
    category_addition: tuple[str, ...] = ()
    legal_ground: str | None = None
    legal_reference_url: str | None = None
    tc_clause: str | None = None
    tc_version: str | None = None
    tc_text: str | None = None
    tc_url: str | None = None
    ground_explanation: str = ""
    explanation: str = ""
    also_illegal: bool | None = None
    worldwide: bool = True
    territorial_scope: tuple[str, ...] = ()
    visibility_end: date | None = None
    account_end: date | None = None
    content_types: tuple[str, ...] = ("CONTENT_TYPE_IMAGE",)
    content_language: str | None = None
    content_date: date | None = None
    application_date: date | None = None
    source_type: SourceType = SourceType.VOLUNTARY
    notice_ids: tuple[str, ...] = ()
    notice_types: tuple[str, ...] = ()
    source_identity: str | None = None
    automated_detection: bool = False
    automated_decision: Automation = Automation.NOT
    detectors: tuple[str, ...] = ()
    manifestly_illegal: bool = False
    notice_assessment: NoticeAssessment | None = None
    account_id: str | None = None
    language: str = "en"
    copies_removed: tuple[str, ...] = ()
    supersedes: str | None = None
    appeal_id: str | None = None
    take_it_down: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def restricts(self) -> bool:
        """True when this decision imposes a restriction that needs a statement of reasons."""
        return self.visibility is not Visibility.NONE or self.account_measure in (
            AccountMeasure.SUSPENSION,
            AccountMeasure.TERMINATION,
            AccountMeasure.NOTICE_SUSPENSION,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime | date):
                data[key] = value.isoformat()
            elif isinstance(value, tuple):
                data[key] = list(value)
            elif isinstance(value, StrEnum):
                data[key] = value.value
        data["extra"] = dict(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModerationDecision:
        values = dict(data)
        values["decided_at"] = datetime.fromisoformat(values["decided_at"])
        for key in ("visibility_end", "account_end", "content_date", "application_date"):
            if values.get(key):
                values[key] = date.fromisoformat(values[key])
        values["visibility"] = Visibility(values["visibility"])
        values["account_measure"] = AccountMeasure(values["account_measure"])
        values["ground"] = Ground(values["ground"])
        values["source_type"] = SourceType(values["source_type"])
        values["automated_decision"] = Automation(values["automated_decision"])
        if values.get("notice_assessment"):
            values["notice_assessment"] = NoticeAssessment(values["notice_assessment"])
        for key in (
            "keywords",
            "category_addition",
            "territorial_scope",
            "content_types",
            "notice_ids",
            "notice_types",
            "detectors",
            "copies_removed",
        ):
            values[key] = tuple(values.get(key) or ())
        return cls(**values)
