"""Request and response models of the HTTP API (strict: wrong JSON types are 422 errors)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CheckContext(_Strict):
    verified_adult: bool | None = Field(
        default=None,
        description="The caller verified the user's adult age. Only honoured when the "
        "operator sets BASTION_ALLOW_VERIFIED_ADULT_CONTENT.",
    )
    user_id: str | None = Field(default=None, max_length=200)
    platform: str | None = Field(default=None, max_length=200)
    feature: str | None = Field(default=None, max_length=200)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class GenerationCheck(_Strict):
    prompt: str = Field(description="The prompt sent to the image model.")
    images: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="Input photos for an edit, base64-encoded (standard alphabet).",
    )
    context: CheckContext | None = None


class OutputCheck(_Strict):
    image: str = Field(description="The generated image, base64-encoded (standard alphabet).")
    request_id: str | None = Field(
        default=None,
        max_length=64,
        description="Id of the generation decision this image was made for: its prompt and "
        "input-photo findings are carried over and the edit-delta compares the two.",
    )
    context: CheckContext | None = None


class FindingOut(BaseModel):
    detector: str
    label: str
    score: float
    subject: str
    evidence: dict[str, Any]
    explanation: str


class ReasonOut(BaseModel):
    rule: str
    description: str
    action: str
    severity: str
    category: str | None
    keywords: list[str]
    escalate: bool
    findings: list[FindingOut]


class DecisionOut(BaseModel):
    id: str
    action: str = Field(description="allow | review | block")
    severity: str
    surface: str
    created_at: datetime
    policy: str
    request_id: str | None
    language: str | None
    content_sha256: str | None
    duration_ms: float | None
    category: str | None
    keywords: list[str]
    escalate: bool
    rules: list[str]
    reasons: list[ReasonOut]
    findings: list[FindingOut]


class CheckOut(BaseModel):
    name: str = Field(description="`database` or `detector:<name>`.")
    ok: bool
    detail: str | None = Field(default=None, description="What failed (null when ok).")


class ErrorOut(BaseModel):
    code: str
    message: str
    field: str | None = None


class Health(BaseModel):
    status: str = Field(description="`ok` when ready, `unavailable` when any check failed.")
    version: str
    database: str
    detectors: list[str]
    checks: list[CheckOut] = Field(default_factory=list)
    error: ErrorOut | None = Field(
        default=None,
        description="With a 503: code `not_ready`, the failed checks in the message "
        "(the same `error` object every failing API response carries).",
    )


class Alive(BaseModel):
    status: str = "ok"
