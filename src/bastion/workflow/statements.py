"""Statements of reasons, rendered only from the decision record.

* :func:`user_statement` — the Art. 17 statement to the affected person (all six elements of
  Art. 17(3) and the redress options), in their language where a template exists.
* :func:`tdb_payload` — the Transparency Database payload (spec/regulation.md §2.2), scrubbed of
  personal data and validated by :mod:`bastion.workflow.tdb` before anything stores it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from bastion.policy.loader import sor_enums
from bastion.settings import Settings
from bastion.workflow import tdb
from bastion.workflow.model import (
    AccountMeasure,
    Automation,
    Ground,
    ModerationDecision,
    SourceType,
    Visibility,
)
from bastion.workflow.outbox import render
from bastion.workflow.pii import scrub

VISIBILITY_TDB = {
    Visibility.REMOVE: "DECISION_VISIBILITY_CONTENT_REMOVED",
    Visibility.DISABLE: "DECISION_VISIBILITY_CONTENT_DISABLED",
    Visibility.AGE_RESTRICT: "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    Visibility.LABEL: "DECISION_VISIBILITY_CONTENT_LABELLED",
    Visibility.DEMOTE: "DECISION_VISIBILITY_CONTENT_DEMOTED",
}
SOURCE_TDB = {
    SourceType.ARTICLE_16: "SOURCE_ARTICLE_16",
    SourceType.TRUSTED_FLAGGER: "SOURCE_TRUSTED_FLAGGER",
    SourceType.OTHER_NOTIFICATION: "SOURCE_TYPE_OTHER_NOTIFICATION",
    SourceType.VOLUNTARY: "SOURCE_VOLUNTARY",
}
AUTOMATION_TDB = {
    Automation.FULLY: "AUTOMATED_DECISION_FULLY",
    Automation.PARTIALLY: "AUTOMATED_DECISION_PARTIALLY",
    Automation.NOT: "AUTOMATED_DECISION_NOT_AUTOMATED",
}
MEASURE_TEXT = {
    Visibility.REMOVE: "removed",
    Visibility.DISABLE: "access to it disabled",
    Visibility.AGE_RESTRICT: "restricted to adults",
    Visibility.LABEL: "labelled",
    Visibility.DEMOTE: "demoted",
}


@dataclass(frozen=True, slots=True)
class RenderedStatement:
    language: str
    subject: str
    body: str


def keyword_label(keyword: str) -> str:
    return str(sor_enums()["KEYWORDS"].get(keyword, keyword))


def category_label(category: str) -> str:
    return str(sor_enums()["STATEMENT_CATEGORIES"].get(category, category))


def _ground_context(decision: ModerationDecision) -> dict[str, Any]:
    return {
        "ground": decision.ground.value,
        "legal_ground": decision.legal_ground,
        "legal_reference_url": decision.legal_reference_url,
        "tc_clause": decision.tc_clause,
        "tc_version": decision.tc_version,
        "tc_text": decision.tc_text,
        "tc_url": decision.tc_url,
        "also_illegal": decision.also_illegal,
        "ground_explanation": decision.ground_explanation,
    }


def user_statement(
    decision: ModerationDecision, settings: Settings, *, item_ref: str, appeal_url: str
) -> RenderedStatement:
    """The Art. 17 statement to the person whose content or account was restricted."""
    context: dict[str, Any] = {
        "platform": settings.platform_name,
        "decision_id": decision.id,
        "decided_on": decision.decided_at.date().isoformat(),
        "item_ref": item_ref,
        "visibility": decision.visibility.value,
        "visibility_end": decision.visibility_end.isoformat() if decision.visibility_end else None,
        "account_measure": decision.account_measure.value,
        "account_end": decision.account_end.isoformat() if decision.account_end else None,
        "worldwide": decision.worldwide,
        "territories": list(decision.territorial_scope),
        "source": decision.source_type.value,
        "source_identity": decision.source_identity,
        "take_it_down": decision.take_it_down,
        "copy_of_removed": bool(decision.extra.get("copy_of")),
        "copy_basis": decision.extra.get("copy_basis", "sha256"),
        "category_label": category_label(decision.category),
        "keyword_labels": [keyword_label(k) for k in decision.keywords if k != "KEYWORD_OTHER"]
        + ([decision.keyword_other] if decision.keyword_other else []),
        "explanation": decision.explanation,
        "automated_detection": decision.automated_detection,
        "automated_decision": decision.automated_decision.value,
        "appeal_url": appeal_url,
        "ods_url": settings.ods_url,
        **_ground_context(decision),
    }
    language, subject, body = render("statement", decision.language, context)
    return RenderedStatement(language, subject, body)


# -- Transparency Database ----------------------------------------------------------------------


def _facts(decision: ModerationDecision, known: Iterable[str]) -> str:
    kinds = {
        "CONTENT_TYPE_IMAGE": "image",
        "CONTENT_TYPE_VIDEO": "video",
        "CONTENT_TYPE_TEXT": "text",
        "CONTENT_TYPE_AUDIO": "audio",
    }
    what = " and ".join(kinds[c] for c in decision.content_types if c in kinds) or "item"
    if "CONTENT_TYPE_SYNTHETIC_MEDIA" in decision.content_types:
        what = f"AI-generated or AI-edited {what}"
    if decision.account_measure is AccountMeasure.NOTICE_SUSPENSION:
        sentences = ["Notices and complaints sent by an account."]
    else:
        sentences = [f"{what[0].upper()}{what[1:]} hosted on the service."]
    source = {
        SourceType.ARTICLE_16: "Reported in a notice under Article 16 DSA",
        SourceType.TRUSTED_FLAGGER: "Reported by a trusted flagger under Article 22 DSA",
        SourceType.OTHER_NOTIFICATION: "Reported in a notification outside Article 16 DSA",
        SourceType.VOLUNTARY: "Identified on the provider's own initiative",
    }[decision.source_type]
    if decision.take_it_down:
        source += ", which was also a valid removal request under the US TAKE IT DOWN Act"
    sentences.append(source + ".")
    if decision.extra.get("copy_of") and decision.extra.get("copy_basis") == "pdq":
        sentences.append(
            "Copy of the same image (perceptual hash match) as an item removed after that request."
        )
    elif decision.extra.get("copy_of"):
        sentences.append(
            "Identical copy (same SHA-256 hash) of an item removed after that request."
        )
    if decision.automated_detection:
        sentences.append("Detected by automated means (hash matching or classifiers).")
    sentences.append(
        {
            Automation.FULLY: "Decided by automated means without human review.",
            Automation.PARTIALLY: "Decided by a human reviewer with the support of automated "
            "means.",
            Automation.NOT: "Decided by a human reviewer.",
        }[decision.automated_decision]
    )
    sentences.append(f"Assessed as: {category_label(decision.category)}.")
    if decision.account_measure is AccountMeasure.SUSPENSION:
        sentences.append("The account was suspended under the provider's misuse policy.")
    elif decision.account_measure is AccountMeasure.TERMINATION:
        sentences.append("The account was terminated.")
    elif decision.account_measure is AccountMeasure.NOTICE_SUSPENSION:
        sentences.append(
            "Processing of the account's notices and complaints was suspended under the "
            "provider's misuse policy after a prior warning."
        )
    if decision.visibility in MEASURE_TEXT:
        sentences.append(f"The item was {MEASURE_TEXT[decision.visibility]}.")
    if decision.explanation:
        sentences.append(f"Reviewer's assessment: {scrub(decision.explanation, known)}")
    return " ".join(sentences)


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def tdb_payload(
    decision: ModerationDecision, *, puid: str, known: Iterable[str] = ()
) -> dict[str, Any] | None:
    """The validated Transparency Database payload, or None when the decision restricts
    nothing in the EU/EEA (no restriction, or a territorial scope outside the 30 codes)."""
    if not decision.restricts:
        return None
    known = list(known)
    codes = sor_enums()["TERRITORIAL_SCOPE_CODES"]
    scope = (
        list(codes)
        if decision.worldwide
        else sorted(code for code in decision.territorial_scope if code in codes)
    )
    if not scope:
        return None
    payload: dict[str, Any] = {}
    if decision.visibility in VISIBILITY_TDB:
        payload["decision_visibility"] = [VISIBILITY_TDB[decision.visibility]]
        if decision.visibility_end:
            payload["end_date_visibility_restriction"] = decision.visibility_end.isoformat()
    if decision.account_measure is AccountMeasure.SUSPENSION:
        payload["decision_account"] = "DECISION_ACCOUNT_SUSPENDED"
    elif decision.account_measure is AccountMeasure.TERMINATION:
        payload["decision_account"] = "DECISION_ACCOUNT_TERMINATED"
    elif decision.account_measure is AccountMeasure.NOTICE_SUSPENSION:
        payload["decision_provision"] = "DECISION_PROVISION_PARTIAL_SUSPENSION"
    if decision.account_end and decision.account_measure is AccountMeasure.SUSPENSION:
        payload["end_date_account_restriction"] = decision.account_end.isoformat()
    if decision.account_end and decision.account_measure is AccountMeasure.NOTICE_SUSPENSION:
        payload["end_date_service_restriction"] = decision.account_end.isoformat()

    if decision.ground is Ground.ILLEGAL:
        payload["decision_ground"] = "DECISION_GROUND_ILLEGAL_CONTENT"
        payload["illegal_content_legal_ground"] = _cut(
            scrub(decision.legal_ground or "", known), 500
        )
        explanation = decision.ground_explanation
        if decision.explanation:
            explanation += " " + decision.explanation
        payload["illegal_content_explanation"] = _cut(scrub(explanation, known), 2000)
        if decision.legal_reference_url:
            payload["decision_ground_reference_url"] = decision.legal_reference_url
    else:
        payload["decision_ground"] = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        ground = (
            f"Terms and conditions clause {decision.tc_clause} (version {decision.tc_version}): "
        )
        payload["incompatible_content_ground"] = _cut(
            scrub(ground + (decision.tc_text or ""), known), 500
        )
        explanation = decision.ground_explanation
        if decision.explanation:
            explanation += " " + decision.explanation
        payload["incompatible_content_explanation"] = _cut(scrub(explanation, known), 2000)
        if decision.also_illegal is not None:
            payload["incompatible_content_illegal"] = "Yes" if decision.also_illegal else "No"
        if decision.tc_url:
            payload["decision_ground_reference_url"] = decision.tc_url

    payload["content_type"] = list(dict.fromkeys(decision.content_types))
    payload["category"] = decision.category
    additions = [c for c in dict.fromkeys(decision.category_addition) if c != decision.category]
    if additions:
        payload["category_addition"] = additions
    if decision.keywords:
        payload["category_specification"] = list(dict.fromkeys(decision.keywords))
        if "KEYWORD_OTHER" in decision.keywords and decision.keyword_other:
            payload["category_specification_other"] = _cut(
                scrub(decision.keyword_other, known), 500
            )
    payload["territorial_scope"] = scope
    language = (decision.content_language or "").upper()
    if language in sor_enums()["CONTENT_LANGUAGE_CODES"]:
        payload["content_language"] = language
    content_date = decision.content_date or decision.decided_at.date()
    payload["content_date"] = max(content_date, date(2000, 1, 1)).isoformat()
    applied = decision.application_date or decision.decided_at.date()
    payload["application_date"] = applied.isoformat()
    payload["decision_facts"] = _cut(_facts(decision, known), 5000)
    payload["source_type"] = SOURCE_TDB[decision.source_type]
    if decision.source_type is not SourceType.VOLUNTARY and decision.source_identity:
        payload["source_identity"] = _cut(scrub(decision.source_identity, known), 500)
    payload["automated_detection"] = "Yes" if decision.automated_detection else "No"
    payload["automated_decision"] = AUTOMATION_TDB[decision.automated_decision]
    payload["puid"] = puid
    tdb.check(payload)
    return payload
