"""The Transparency Database validator: valid payloads pass, every rule has a failing case."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bastion.workflow import tdb

ALL_30 = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI SK"

# spec/regulation.md §2.3, with the placeholders filled in.
VALID: dict[str, Any] = {
    "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
    "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
    "illegal_content_legal_ground": "Directive (EU) 2024/1385, Article 5",
    "illegal_content_explanation": "The image sexualises an identifiable adult without consent.",
    "decision_ground_reference_url": "https://eur-lex.europa.eu/eli/dir/2024/1385/oj",
    "content_type": ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_SYNTHETIC_MEDIA"],
    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "category_addition": ["STATEMENT_CATEGORY_CYBER_VIOLENCE"],
    "category_specification": ["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN"],
    "territorial_scope": ALL_30.split(),
    "content_date": "2026-01-03",
    "application_date": "2026-01-04",
    "decision_facts": "Generated image depicting an identifiable adult in a sexualised manner "
    "without consent; matched a hash list entry; confirmed by reviewer.",
    "source_type": "SOURCE_ARTICLE_16",
    "automated_detection": "Yes",
    "automated_decision": "AUTOMATED_DECISION_PARTIALLY",
    "puid": "sor-2026-000123",
}

VALID_TERMS: dict[str, Any] = {
    "decision_account": "DECISION_ACCOUNT_SUSPENDED",
    "end_date_account_restriction": "2026-02-04",
    "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "incompatible_content_ground": "Terms clause 9.1 (misuse policy)",
    "incompatible_content_explanation": "Repeated manifestly illegal uploads after a warning.",
    "incompatible_content_illegal": "Yes",
    "content_type": ["CONTENT_TYPE_OTHER"],
    "content_type_other": "An account",
    "category": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "category_specification": ["KEYWORD_OTHER"],
    "category_specification_other": "Repeat offender",
    "territorial_scope": ["DE", "GR"],
    "content_language": "DE",
    "content_date": "2025-12-01",
    "application_date": "2026-01-04",
    "decision_facts": "Account suspended under the misuse policy.",
    "source_type": "SOURCE_VOLUNTARY",
    "automated_detection": "No",
    "automated_decision": "AUTOMATED_DECISION_FULLY",
    "puid": "bst_0001-a",
    "content_id": {"EAN-13": "4006381333931"},
}


def with_changes(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(base)
    for key, value in changes.items():
        if value is DROP:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


DROP = object()


@pytest.mark.parametrize("payload", [VALID, VALID_TERMS], ids=["illegal", "terms"])
def test_valid_payloads_pass(payload: dict[str, Any]) -> None:
    assert tdb.violations(payload) == []
    tdb.check(payload)


def test_provision_only_and_other_visibility_are_valid() -> None:
    provision = with_changes(
        VALID, decision_visibility=DROP, decision_provision="DECISION_PROVISION_PARTIAL_SUSPENSION"
    )
    assert tdb.violations(provision) == []
    other = with_changes(
        VALID,
        decision_visibility=["DECISION_VISIBILITY_OTHER"],
        decision_visibility_other="Watermark added",
    )
    assert tdb.violations(other) == []
    monetary = with_changes(
        VALID,
        decision_visibility=DROP,
        decision_monetary="DECISION_MONETARY_OTHER",
        decision_monetary_other="Payouts held",
    )
    assert tdb.violations(monetary) == []


INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    # (id, base changes, field, rule)
    (
        "no restriction",
        {"decision_visibility": DROP},
        "decision_visibility",
        "required_without_all",
    ),
    (
        "visibility not array",
        {"decision_visibility": "DECISION_VISIBILITY_CONTENT_REMOVED"},
        "decision_visibility",
        "array",
    ),
    (
        "visibility enum",
        {"decision_visibility": ["DECISION_VISIBILITY_DELETED"]},
        "decision_visibility",
        "enum",
    ),
    (
        "visibility duplicate",
        {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"] * 2},
        "decision_visibility",
        "house_unique",
    ),
    (
        "visibility other missing",
        {"decision_visibility": ["DECISION_VISIBILITY_OTHER"]},
        "decision_visibility_other",
        "required_if",
    ),
    (
        "visibility other excluded",
        {"decision_visibility_other": "x"},
        "decision_visibility_other",
        "house_excluded",
    ),
    (
        "visibility other too long",
        {
            "decision_visibility": ["DECISION_VISIBILITY_OTHER"],
            "decision_visibility_other": "x" * 501,
        },
        "decision_visibility_other",
        "max",
    ),
    ("monetary enum", {"decision_monetary": "DECISION_MONETARY_FINE"}, "decision_monetary", "enum"),
    (
        "monetary other missing",
        {"decision_monetary": "DECISION_MONETARY_OTHER"},
        "decision_monetary_other",
        "required_if",
    ),
    (
        "provision enum",
        {"decision_provision": "DECISION_PROVISION_SOME"},
        "decision_provision",
        "enum",
    ),
    ("account enum", {"decision_account": "DECISION_ACCOUNT_BANNED"}, "decision_account", "enum"),
    ("account type enum", {"account_type": "ACCOUNT_TYPE_ROBOT"}, "account_type", "enum"),
    ("ground missing", {"decision_ground": DROP}, "decision_ground", "required"),
    ("ground enum", {"decision_ground": "DECISION_GROUND_OTHER"}, "decision_ground", "enum"),
    (
        "reference url",
        {"decision_ground_reference_url": "eur-lex/oj"},
        "decision_ground_reference_url",
        "url",
    ),
    (
        "reference url too long",
        {"decision_ground_reference_url": "https://x.eu/" + "a" * 500},
        "decision_ground_reference_url",
        "max",
    ),
    (
        "legal ground missing",
        {"illegal_content_legal_ground": DROP},
        "illegal_content_legal_ground",
        "required_if",
    ),
    (
        "legal ground too long",
        {"illegal_content_legal_ground": "x" * 501},
        "illegal_content_legal_ground",
        "max",
    ),
    (
        "legal explanation missing",
        {"illegal_content_explanation": DROP},
        "illegal_content_explanation",
        "required_if",
    ),
    (
        "legal explanation too long",
        {"illegal_content_explanation": "x" * 2001},
        "illegal_content_explanation",
        "max",
    ),
    (
        "incompatible ground with illegal",
        {"incompatible_content_ground": "clause 1"},
        "incompatible_content_ground",
        "house_excluded",
    ),
    (
        "incompatible illegal with illegal ground",
        {"incompatible_content_illegal": "Yes"},
        "incompatible_content_illegal",
        "house_excluded",
    ),
    ("content type missing", {"content_type": DROP}, "content_type", "required"),
    ("content type empty", {"content_type": []}, "content_type", "required"),
    ("content type enum", {"content_type": ["CONTENT_TYPE_PICTURE"]}, "content_type", "enum"),
    (
        "content type other missing",
        {"content_type": ["CONTENT_TYPE_OTHER"]},
        "content_type_other",
        "required_if",
    ),
    ("category missing", {"category": DROP}, "category", "required"),
    ("category enum", {"category": "STATEMENT_CATEGORY_NOT_SPECIFIED_ORDER"}, "category", "enum"),
    (
        "category addition enum",
        {"category_addition": ["CYBER_VIOLENCE"]},
        "category_addition",
        "enum",
    ),
    (
        "keyword enum",
        {"category_specification": ["KEYWORD_IMAGE_BASED_SEXUAL_ABUSE"]},
        "category_specification",
        "enum",
    ),
    (
        "keyword other text without KEYWORD_OTHER",
        {"category_specification_other": "x"},
        "category_specification_other",
        "house_excluded",
    ),
    (
        "territorial scope missing",
        {"territorial_scope": DROP},
        "territorial_scope",
        "house_required",
    ),
    ("territorial scope EL", {"territorial_scope": ["EL"]}, "territorial_scope", "enum"),
    ("territorial scope US", {"territorial_scope": ["US"]}, "territorial_scope", "enum"),
    ("language lower case", {"content_language": "en"}, "content_language", "enum"),
    ("content date missing", {"content_date": DROP}, "content_date", "required"),
    ("content date format", {"content_date": "03/01/2026"}, "content_date", "date_format"),
    ("content date not a day", {"content_date": "2026-02-30"}, "content_date", "date_format"),
    ("content date too early", {"content_date": "1999-12-31"}, "content_date", "date_range"),
    (
        "application date too early",
        {"application_date": "2019-12-31"},
        "application_date",
        "date_range",
    ),
    (
        "application date too late",
        {"application_date": "2038-01-02"},
        "application_date",
        "date_range",
    ),
    (
        "end date too late",
        {"end_date_visibility_restriction": "2038-01-02"},
        "end_date_visibility_restriction",
        "date_range",
    ),
    (
        "end date before application",
        {"end_date_visibility_restriction": "2026-01-01"},
        "end_date_visibility_restriction",
        "house_after_application",
    ),
    ("facts missing", {"decision_facts": DROP}, "decision_facts", "required"),
    ("facts blank", {"decision_facts": "   "}, "decision_facts", "required"),
    ("facts too long", {"decision_facts": "x" * 5001}, "decision_facts", "max"),
    ("facts not a string", {"decision_facts": 5}, "decision_facts", "string"),
    ("source missing", {"source_type": DROP}, "source_type", "required"),
    ("source enum", {"source_type": "SOURCE_USER"}, "source_type", "enum"),
    (
        "source identity with voluntary",
        {"source_type": "SOURCE_VOLUNTARY", "source_identity": "A hotline"},
        "source_identity",
        "excluded_if",
    ),
    (
        "automated detection key not label",
        {"automated_detection": "AUTOMATED_DETECTION_YES"},
        "automated_detection",
        "enum",
    ),
    ("automated detection boolean", {"automated_detection": True}, "automated_detection", "enum"),
    ("automated decision missing", {"automated_decision": DROP}, "automated_decision", "required"),
    (
        "automated decision enum",
        {"automated_decision": "AUTOMATED_DECISION_YES"},
        "automated_decision",
        "enum",
    ),
    ("puid missing", {"puid": DROP}, "puid", "required"),
    ("puid characters", {"puid": "sor 2026/1"}, "puid", "regex"),
    ("puid too long", {"puid": "a" * 501}, "puid", "max"),
    ("content id key", {"content_id": {"EAN": "4006381333931"}}, "content_id", "ean13"),
    ("content id digits", {"content_id": {"EAN-13": "400638133393"}}, "content_id", "ean13"),
    ("unknown field", {"decision_reason": "x"}, "decision_reason", "house_unknown"),
    (
        "email in facts",
        {"decision_facts": "Reported by jane.doe@example.org."},
        "decision_facts",
        "house_personal_data",
    ),
    (
        "url in explanation",
        {"illegal_content_explanation": "See https://pics.example/u/jane"},
        "illegal_content_explanation",
        "house_personal_data",
    ),
    (
        "handle in facts",
        {"decision_facts": "Uploaded by @janedoe."},
        "decision_facts",
        "house_personal_data",
    ),
    (
        "phone in facts",
        {"decision_facts": "Call +49 30 1234 5678."},
        "decision_facts",
        "house_personal_data",
    ),
    (
        "ip in facts",
        {"decision_facts": "From 192.168.10.20."},
        "decision_facts",
        "house_personal_data",
    ),
    (
        "titled name in facts",
        {"decision_facts": "Depicts Mrs Smith."},
        "decision_facts",
        "house_personal_data",
    ),
]


@pytest.mark.parametrize(
    ("changes", "field", "rule"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_each_rule_refuses(changes: dict[str, Any], field: str, rule: str) -> None:
    payload = with_changes(VALID, **changes)
    problems = tdb.violations(payload)
    assert (field, rule) in {(p.field, p.rule) for p in problems}, problems
    with pytest.raises(tdb.InvalidStatement) as caught:
        tdb.check(payload)
    assert caught.value.code == "invalid_statement"


def test_terms_rules() -> None:
    missing = with_changes(
        VALID_TERMS, incompatible_content_ground=DROP, incompatible_content_explanation=DROP
    )
    fields = {p.field for p in tdb.violations(missing)}
    assert {"incompatible_content_ground", "incompatible_content_explanation"} <= fields
    bad_flag = with_changes(VALID_TERMS, incompatible_content_illegal="yes")
    assert ("incompatible_content_illegal", "enum") in {
        (p.field, p.rule) for p in tdb.violations(bad_flag)
    }
    illegal_fields = with_changes(VALID_TERMS, illegal_content_legal_ground="x")
    assert ("illegal_content_legal_ground", "house_excluded") in {
        (p.field, p.rule) for p in tdb.violations(illegal_fields)
    }


def test_not_an_object() -> None:
    assert tdb.violations([])[0].rule == "object"  # type: ignore[arg-type]


def test_dates_and_law_references_are_not_personal_data() -> None:
    payload = with_changes(
        VALID,
        decision_facts="Decided on 2026-01-04 under Directive 2011/93/EU and section 201a; "
        "Regulation (EU) 2024/1385.",
    )
    assert tdb.violations(payload) == []
