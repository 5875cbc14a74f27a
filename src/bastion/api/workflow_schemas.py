"""Request models of the workflow routes (strict JSON types; completeness is checked by the
workflow itself so that every missing element gets its own precise message).

Every text field has a size limit (documented in docs/workflow.md): a 20 MiB ``signature`` is a
typed 422 (``string_too_long``), never a row in the database.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

# Per-field limits, by what a field holds.
Code = Annotated[str, Field(max_length=100)]  # an enum value, an id, a role
Name = Annotated[str, Field(max_length=300)]  # a person's or an authority's name
Email = Annotated[str, Field(max_length=320)]  # RFC 5321
Url = Annotated[str, Field(max_length=2048)]
Hex = Annotated[str, Field(max_length=64)]  # SHA-256, PDQ
Text = Annotated[str, Field(max_length=10_000)]  # an explanation, a statement
Short = Annotated[str, Field(max_length=1000)]  # a signature, a keyword description


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class NoticeIn(_Strict):
    type: Code = Field(
        default="dsa_art16",
        description="dsa_art16 | take_it_down | trusted_flagger | authority_order | other",
    )
    explanation: Text = ""
    locations: list[Url] = Field(default_factory=list, max_length=200)
    category: Code = Field(default="", description="STATEMENT_CATEGORY_* (see sor_enums)")
    keywords: list[Code] = Field(default_factory=list, max_length=20)
    keyword_other: Short | None = None
    jurisdiction: Code = Field(default="", description="Notifier's country, ISO 3166-1 alpha-2")
    notifier_name: Name | None = None
    notifier_email: Email | None = None
    bona_fide: bool = False
    language: str = Field(default="en", max_length=8)
    signature: Short | None = None
    non_consent_statement: Text | None = None
    requester_role: Code | None = Field(default=None, description="individual | authorised_person")
    authority_name: Name | None = None
    order_reference: Name | None = None


class ItemIn(_Strict):
    content_id: Name | None = None
    url: Url | None = None
    sha256: Hex | None = None
    pdq: Hex | None = None
    account_id: str | None = Field(default=None, max_length=200)
    account_contact: str | None = Field(default=None, max_length=320)
    account_language: str | None = Field(default=None, max_length=8)
    content_types: list[Code] = Field(default_factory=lambda: ["CONTENT_TYPE_IMAGE"], max_length=10)
    language: str | None = Field(default=None, max_length=8)
    hosted_at: datetime | None = Field(default=None, strict=False)


class DetectionIn(_Strict):
    item: ItemIn
    source: Code = Field(description="lower_snake name of the detector or hash list")
    category: Code
    keywords: list[Code] = Field(default_factory=list, max_length=20)
    rule: Code | None = None
    score: float | None = None
    guard_decision_id: Code | None = None


class DecisionIn(_Strict):
    visibility: Code = Field(
        default="none", description="remove | disable | age_restrict | label | demote | none"
    )
    account_measure: Code = Field(
        default="none", description="none | warning | suspension | termination"
    )
    ground: Code | None = Field(default=None, description="illegal | terms")
    legal_ground_id: Code | None = None
    tc_ground_id: Code | None = None
    explanation: Text = ""
    category: Code | None = None
    keywords: list[Code] | None = Field(default=None, max_length=20)
    keyword_other: Short | None = None
    category_addition: list[Code] = Field(default_factory=list, max_length=20)
    territorial_scope: list[Code] | None = Field(
        default=None, max_length=300, description="null = worldwide"
    )
    visibility_end: date | None = Field(default=None, strict=False)
    account_end: date | None = Field(default=None, strict=False)
    manifestly_illegal: bool = False
    notice_assessment: Code | None = Field(
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
