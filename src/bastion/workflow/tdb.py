"""Validation of Transparency Database statement-of-reasons payloads.

The rules are those of the Commission's validator as written in spec/regulation.md §2.2 (the
``StatementStoreRequest`` field table), plus a few house rules that make our payloads safer
than the minimum (marked ``house`` below): no unknown fields, no fields that the Commission
would silently drop, no duplicates in arrays, ``territorial_scope`` always sent, end dates not
before the application date, and no personal data in free text.

:func:`violations` lists every problem; :func:`check` raises :class:`InvalidStatement`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from bastion.errors import InvalidInput
from bastion.policy.loader import sor_enums
from bastion.workflow.pii import find_personal_data

FIELDS = (
    "decision_visibility",
    "decision_visibility_other",
    "decision_monetary",
    "decision_monetary_other",
    "decision_provision",
    "decision_account",
    "account_type",
    "decision_ground",
    "decision_ground_reference_url",
    "illegal_content_legal_ground",
    "illegal_content_explanation",
    "incompatible_content_ground",
    "incompatible_content_explanation",
    "incompatible_content_illegal",
    "content_type",
    "content_type_other",
    "category",
    "category_addition",
    "category_specification",
    "category_specification_other",
    "territorial_scope",
    "content_language",
    "content_date",
    "application_date",
    "end_date_visibility_restriction",
    "end_date_monetary_restriction",
    "end_date_service_restriction",
    "end_date_account_restriction",
    "decision_facts",
    "source_type",
    "source_identity",
    "automated_detection",
    "automated_decision",
    "puid",
    "content_id",
)

# Free-text fields checked for personal data (Art. 24(5)).
FREE_TEXT = (
    "decision_visibility_other",
    "decision_monetary_other",
    "illegal_content_legal_ground",
    "illegal_content_explanation",
    "incompatible_content_ground",
    "incompatible_content_explanation",
    "content_type_other",
    "category_specification_other",
    "decision_facts",
    "source_identity",
)

MAX_LENGTH = {
    "decision_visibility_other": 500,
    "decision_monetary_other": 500,
    "decision_ground_reference_url": 500,
    "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000,
    "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000,
    "content_type_other": 500,
    "category_specification_other": 500,
    "decision_facts": 5000,
    "source_identity": 500,
    "puid": 500,
}

PUID = re.compile(r"^[a-zA-Z0-9\-_]+$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
END_DATES = (
    "end_date_visibility_restriction",
    "end_date_monetary_restriction",
    "end_date_service_restriction",
    "end_date_account_restriction",
)
LATEST = date(2038, 1, 1)


@dataclass(frozen=True, slots=True)
class Violation:
    field: str
    rule: str
    message: str


class InvalidStatement(InvalidInput):
    code = "invalid_statement"

    def __init__(self, problems: list[Violation]) -> None:
        summary = "; ".join(f"{p.field}: {p.message}" for p in problems[:8])
        super().__init__(f"statement of reasons is invalid: {summary}", field=problems[0].field)
        self.problems = problems


@cache
def enums() -> dict[str, frozenset[str]]:
    data = sor_enums()
    return {
        "decision_visibility": frozenset(data["DECISION_VISIBILITIES"]),
        "decision_monetary": frozenset(data["DECISION_MONETARIES"]),
        "decision_provision": frozenset(data["DECISION_PROVISIONS"]),
        "decision_account": frozenset(data["DECISION_ACCOUNTS"]),
        "account_type": frozenset(data["ACCOUNT_TYPES"]),
        "decision_ground": frozenset(data["DECISION_GROUNDS"]),
        "content_type": frozenset(data["CONTENT_TYPES"]),
        "category": frozenset(data["STATEMENT_CATEGORIES"]),
        "category_addition": frozenset(data["STATEMENT_CATEGORIES"]),
        "category_specification": frozenset(data["KEYWORDS"]),
        "territorial_scope": frozenset(data["TERRITORIAL_SCOPE_CODES"]),
        "content_language": frozenset(data["CONTENT_LANGUAGE_CODES"]),
        "source_type": frozenset(data["SOURCE_TYPES"]),
        "automated_detection": frozenset(data["AUTOMATED_DETECTIONS"]),
        "automated_decision": frozenset(data["AUTOMATED_DECISIONS"]),
        "incompatible_content_illegal": frozenset(data["INCOMPATIBLE_CONTENT_ILLEGALS"]),
    }


class _Check:
    def __init__(self, payload: Mapping[str, Any]) -> None:
        self.p = payload
        self.problems: list[Violation] = []

    def add(self, name: str, rule: str, message: str) -> None:
        self.problems.append(Violation(name, rule, message))

    def has(self, name: str) -> bool:
        return self.p.get(name) is not None

    def enum(self, name: str, *, required: bool = False) -> None:
        if not self.has(name):
            if required:
                self.add(name, "required", "is required")
            return
        value = self.p[name]
        if not isinstance(value, str) or value not in enums()[name]:
            self.add(name, "enum", f"{value!r} is not an allowed value")

    def enum_array(self, name: str, *, required: bool = False) -> None:
        if not self.has(name):
            if required:
                self.add(name, "required", "is required")
            return
        value = self.p[name]
        if not isinstance(value, list):
            self.add(name, "array", "must be an array")
            return
        if required and not value:
            self.add(name, "required", "must not be empty")
        for element in value:
            if not isinstance(element, str) or element not in enums()[name]:
                self.add(name, "enum", f"{element!r} is not an allowed value")
        if len(set(map(repr, value))) != len(value):
            self.add(name, "house_unique", "has duplicate values")

    def text(self, name: str, *, required: bool = False) -> None:
        if not self.has(name):
            if required:
                self.add(name, "required", "is required")
            return
        value = self.p[name]
        if not isinstance(value, str):
            self.add(name, "string", "must be a string")
            return
        if not value.strip():
            self.add(name, "required", "must not be blank")
        limit = MAX_LENGTH.get(name)
        if limit is not None and len(value) > limit:
            self.add(name, "max", f"is longer than {limit} characters")

    def conditional(self, name: str, trigger: bool, why: str) -> None:
        """Required iff ``trigger``; the Commission drops it otherwise (house: refuse it)."""
        if trigger:
            self.text(name, required=True)
            if not self.has(name):
                self.problems[-1] = Violation(name, "required_if", f"is required when {why}")
        elif name in self.p:
            self.add(name, "house_excluded", f"must be absent unless {why}")

    def day(self, name: str, lowest: date | None, *, required: bool = False) -> date | None:
        if not self.has(name):
            if required:
                self.add(name, "required", "is required")
            return None
        value = self.p[name]
        if not isinstance(value, str) or not DATE.match(value):
            self.add(name, "date_format", "must be a date in YYYY-MM-DD form")
            return None
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            self.add(name, "date_format", f"{value!r} is not a calendar date")
            return None
        if lowest is not None and parsed < lowest:
            self.add(name, "date_range", f"must be on or after {lowest.isoformat()}")
        if parsed > LATEST:
            self.add(name, "date_range", f"must be on or before {LATEST.isoformat()}")
        return parsed


def violations(payload: Mapping[str, Any]) -> list[Violation]:
    """Every rule ``payload`` breaks (empty when valid)."""
    if not isinstance(payload, Mapping):
        return [Violation("payload", "object", "must be a JSON object")]
    c = _Check(payload)
    p = payload
    for name in p:
        if name not in FIELDS:
            c.add(name, "house_unknown", "is not a statement-of-reasons field")

    # Decisions (1-6): at least one of the four kinds of restriction.
    kinds = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
    if not any(c.has(k) for k in kinds):
        c.add(
            "decision_visibility",
            "required_without_all",
            "is required unless decision_monetary, decision_provision or decision_account is given",
        )
    c.enum_array("decision_visibility")
    visibility = (
        p.get("decision_visibility") if isinstance(p.get("decision_visibility"), list) else []
    )
    c.conditional(
        "decision_visibility_other",
        "DECISION_VISIBILITY_OTHER" in (visibility or []),
        "decision_visibility contains DECISION_VISIBILITY_OTHER",
    )
    c.enum("decision_monetary")
    c.conditional(
        "decision_monetary_other",
        p.get("decision_monetary") == "DECISION_MONETARY_OTHER",
        "decision_monetary is DECISION_MONETARY_OTHER",
    )
    c.enum("decision_provision")
    c.enum("decision_account")
    c.enum("account_type")

    # Grounds (8-14).
    c.enum("decision_ground", required=True)
    ground = p.get("decision_ground")
    if c.has("decision_ground_reference_url"):
        c.text("decision_ground_reference_url")
        url = p["decision_ground_reference_url"]
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            c.add("decision_ground_reference_url", "url", "must be an http(s) URL")
    illegal = ground == "DECISION_GROUND_ILLEGAL_CONTENT"
    incompatible = ground == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    c.conditional("illegal_content_legal_ground", illegal, "the ground is illegal content")
    c.conditional("illegal_content_explanation", illegal, "the ground is illegal content")
    c.conditional("incompatible_content_ground", incompatible, "the ground is incompatible content")
    c.conditional(
        "incompatible_content_explanation", incompatible, "the ground is incompatible content"
    )
    if "incompatible_content_illegal" in p:
        if not incompatible:
            c.add(
                "incompatible_content_illegal",
                "house_excluded",
                "is only sent with DECISION_GROUND_INCOMPATIBLE_CONTENT",
            )
        else:
            c.enum("incompatible_content_illegal")

    # Content (15-22).
    c.enum_array("content_type", required=True)
    content_types = p.get("content_type") if isinstance(p.get("content_type"), list) else []
    c.conditional(
        "content_type_other",
        "CONTENT_TYPE_OTHER" in (content_types or []),
        "content_type contains CONTENT_TYPE_OTHER",
    )
    c.enum("category", required=True)
    c.enum_array("category_addition")
    if c.has("category_specification"):
        c.enum_array("category_specification")
    specification = p.get("category_specification")
    if c.has("category_specification_other"):
        c.text("category_specification_other")
        if not isinstance(specification, list) or "KEYWORD_OTHER" not in specification:
            c.add(
                "category_specification_other",
                "house_excluded",
                "is only sent with KEYWORD_OTHER in category_specification",
            )
    if c.has("territorial_scope"):
        c.enum_array("territorial_scope", required=True)
    else:
        c.add("territorial_scope", "house_required", "is always sent")
    c.enum("content_language")

    # Dates (23-28).
    c.day("content_date", date(2000, 1, 1), required=True)
    applied = c.day("application_date", date(2020, 1, 1), required=True)
    for name in END_DATES:
        end = c.day(name, None)
        if end is not None and applied is not None and end < applied:
            c.add(name, "house_after_application", "must not be before application_date")

    # Facts, source, automation, id (29-35).
    c.text("decision_facts", required=True)
    c.enum("source_type", required=True)
    if p.get("source_type") == "SOURCE_VOLUNTARY" and "source_identity" in p:
        c.add(
            "source_identity", "excluded_if", "must be absent when source_type is SOURCE_VOLUNTARY"
        )
    else:
        c.text("source_identity")
    c.enum("automated_detection", required=True)
    c.enum("automated_decision", required=True)
    c.text("puid", required=True)
    puid = p.get("puid")
    if isinstance(puid, str) and puid and not PUID.match(puid):
        c.add("puid", "regex", "may contain only letters, digits, '-' and '_'")
    if "content_id" in p:
        content_id = p["content_id"]
        if (
            not isinstance(content_id, Mapping)
            or set(content_id) != {"EAN-13"}
            or not isinstance(content_id["EAN-13"], str)
            or not re.fullmatch(r"\d{13}", content_id["EAN-13"])
        ):
            c.add("content_id", "ean13", 'must be {"EAN-13": "<13 digits>"}')

    # Art. 24(5): no personal data in any free-text field.
    for name in FREE_TEXT:
        value = p.get(name)
        if isinstance(value, str):
            found = find_personal_data(value)
            if found:
                c.add(name, "house_personal_data", f"looks like personal data ({', '.join(found)})")
    return c.problems


def check(payload: Mapping[str, Any]) -> None:
    problems = violations(payload)
    if problems:
        raise InvalidStatement(problems)
