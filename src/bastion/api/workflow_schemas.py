"""Request models of the workflow routes (strict JSON types; completeness is checked by the
workflow itself so that every missing element gets its own precise message)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class NoticeIn(_Strict):
    type: str = Field(
        default="dsa_art16",
        description="dsa_art16 | take_it_down | trusted_flagger | authority_order | other",
    )
    explanation: str = ""
    locations: list[str] = Field(default_factory=list, max_length=200)
    category: str = Field(default="", description="STATEMENT_CATEGORY_* (see sor_enums)")
    keywords: list[str] = Field(default_factory=list, max_length=20)
    keyword_other: str | None = None
    jurisdiction: str = Field(default="", description="Notifier's country, ISO 3166-1 alpha-2")
    notifier_name: str | None = None
    notifier_email: str | None = None
    bona_fide: bool = False
    language: str = Field(default="en", max_length=8)
    signature: str | None = None
    non_consent_statement: str | None = None
    requester_role: str | None = Field(default=None, description="individual | authorised_person")
    authority_name: str | None = None
    order_reference: str | None = None


class ItemIn(_Strict):
    content_id: str | None = None
    url: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    account_id: str | None = Field(default=None, max_length=200)
    account_contact: str | None = Field(default=None, max_length=320)
    account_language: str | None = Field(default=None, max_length=8)
    content_types: list[str] = Field(default_factory=lambda: ["CONTENT_TYPE_IMAGE"])
    language: str | None = Field(default=None, max_length=8)
    hosted_at: datetime | None = Field(default=None, strict=False)


class DetectionIn(_Strict):
    item: ItemIn
    source: str = Field(description="lower_snake name of the detector or hash list")
    category: str
    keywords: list[str] = Field(default_factory=list)
    rule: str | None = None
    score: float | None = None
    guard_decision_id: str | None = None


class DecisionIn(_Strict):
    visibility: str = Field(
        default="none", description="remove | disable | age_restrict | label | demote | none"
    )
    account_measure: str = Field(
        default="none", description="none | warning | suspension | termination"
    )
    ground: str | None = Field(default=None, description="illegal | terms")
    legal_ground_id: str | None = None
    tc_ground_id: str | None = None
    explanation: str = ""
    category: str | None = None
    keywords: list[str] | None = None
    keyword_other: str | None = None
    category_addition: list[str] = Field(default_factory=list)
    territorial_scope: list[str] | None = Field(default=None, description="null = worldwide")
    visibility_end: date | None = Field(default=None, strict=False)
    account_end: date | None = Field(default=None, strict=False)
    manifestly_illegal: bool = False
    notice_assessment: str | None = Field(
        default=None, description="founded | unfounded | manifestly_unfounded"
    )
    disclose_notifier: bool = False
    also_illegal: bool | None = None


class AppealIn(_Strict):
    token: str = Field(max_length=200, description="From the appeal link in the statement")
    explanation: str = Field(max_length=5000)


class AppealDecisionIn(_Strict):
    outcome: Literal["upheld", "partially_reversed", "reversed", "omitted"]
    response: str = Field(default="", max_length=5000)
    decision: DecisionIn | None = None
    manifestly_unfounded: bool = False
