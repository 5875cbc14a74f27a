"""Building a moderation decision from a reviewer's input: every choice validated against the
case, the statement-of-reasons vocabulary and the workflow's grounds, before anything is
written (:func:`build`; :mod:`bastion.workflow.decisions` records it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pycountry

from bastion.errors import InvalidInput
from bastion.policy.loader import sor_enums
from bastion.policy.model import new_id
from bastion.workflow.cases import validate_category
from bastion.workflow.model import (
    AccountMeasure,
    Automation,
    Ground,
    ModerationDecision,
    NoticeAssessment,
    NoticeType,
    SourceType,
    Visibility,
)
from bastion.workflow.records import Case, Item, Notice
from bastion.workflow.service import Actor, Workflow

REVIEWER_MEASURES = (
    AccountMeasure.NONE,
    AccountMeasure.WARNING,
    AccountMeasure.SUSPENSION,
    AccountMeasure.TERMINATION,
)


@dataclass(frozen=True, slots=True)
class DecisionInput:
    """A reviewer's decision as submitted. ``territorial_scope`` None means worldwide."""

    visibility: str = "none"
    account_measure: str = "none"
    ground: str | None = None
    legal_ground_id: str | None = None
    tc_ground_id: str | None = None
    explanation: str = ""
    category: str | None = None
    keywords: Sequence[str] | None = None
    keyword_other: str | None = None
    category_addition: Sequence[str] = ()
    territorial_scope: Sequence[str] | None = None
    visibility_end: date | None = None
    account_end: date | None = None
    manifestly_illegal: bool = False
    notice_assessment: str | None = None
    disclose_notifier: bool = False
    also_illegal: bool | None = None


def _choice(enum: Any, value: str, field: str, allowed: Sequence[Any] | None = None) -> Any:
    options = list(allowed or enum)
    try:
        parsed = enum(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed not in options:
        raise InvalidInput(
            f"{field} must be one of: {', '.join(o.value for o in options)}", field=field
        )
    return parsed


def build(
    wf: Workflow,
    given: DecisionInput,
    *,
    case: Case,
    item: Item,
    notices: Sequence[Notice],
    automated_detection: bool,
    detectors: Sequence[str],
    actor: Actor,
    decision_id: str | None = None,
    supersedes: str | None = None,
    appeal_id: str | None = None,
) -> ModerationDecision:
    """Validate ``given`` against the case and turn it into the decision record."""
    now = wf.clock.now()
    today = now.date()
    visibility = _choice(Visibility, given.visibility, "visibility")
    account = _choice(AccountMeasure, given.account_measure, "account_measure", REVIEWER_MEASURES)
    restricts = visibility is not Visibility.NONE or account in (
        AccountMeasure.SUSPENSION,
        AccountMeasure.TERMINATION,
    )
    ground = Ground.NONE
    legal = terms = None
    if restricts:
        if given.ground not in ("illegal", "terms"):
            raise InvalidInput("a restriction needs ground 'illegal' or 'terms'", field="ground")
        ground = Ground(given.ground)
        if ground is Ground.ILLEGAL:
            if not given.legal_ground_id:
                raise InvalidInput("cite the law: legal_ground_id", field="legal_ground_id")
            legal = wf.grounds.legal_ground(given.legal_ground_id)
        else:
            if not given.tc_ground_id:
                raise InvalidInput("cite the terms clause: tc_ground_id", field="tc_ground_id")
            terms = wf.grounds.terms_ground(given.tc_ground_id)
        if len(given.explanation.strip()) < 10:
            raise InvalidInput(
                "explain the decision for the person affected (at least 10 characters)",
                field="explanation",
            )
    elif given.ground not in (None, "none"):
        raise InvalidInput("a decision that restricts nothing has no ground", field="ground")
    if len(given.explanation) > 2000:
        raise InvalidInput("explanation is longer than 2000 characters", field="explanation")
    if given.also_illegal is not None and ground is not Ground.TERMS:
        raise InvalidInput("also_illegal is only for terms-based decisions", field="also_illegal")

    if account is not AccountMeasure.NONE and not item.account_id:
        raise InvalidInput(
            "the item has no known account; register it with account_id first",
            field="account_measure",
        )
    if account is AccountMeasure.SUSPENSION and (
        given.account_end is None or given.account_end <= today
    ):
        raise InvalidInput("a suspension needs an account_end in the future", field="account_end")
    if account is not AccountMeasure.SUSPENSION and given.account_end is not None:
        raise InvalidInput("account_end is only for suspensions", field="account_end")
    if given.visibility_end is not None and (
        visibility is Visibility.NONE or given.visibility_end <= today
    ):
        raise InvalidInput(
            "visibility_end must be a future date on a visibility measure", field="visibility_end"
        )

    worldwide = given.territorial_scope is None
    scope: tuple[str, ...] = ()
    if not worldwide:
        assert given.territorial_scope is not None
        scope = tuple(dict.fromkeys(c.strip().upper() for c in given.territorial_scope))
        bad = [c for c in scope if pycountry.countries.get(alpha_2=c) is None]
        if bad or not scope:
            raise InvalidInput(
                f"territorial_scope must be ISO country codes (bad: {bad or 'empty'})",
                field="territorial_scope",
            )

    category = given.category or case.category
    hierarchy = sor_enums()["CATEGORY_HIERARCHY_IR_2024_2835"].get(category, {})
    in_category = {k["keyword"] for k in hierarchy.get("keywords", [])}
    keywords = tuple(
        dict.fromkeys(
            given.keywords
            if given.keywords is not None
            else [k for k in case.keywords if k in in_category]
        )
    )
    validate_category(category, keywords)
    for addition in given.category_addition:
        validate_category(addition, (), field="category_addition")
    if category == "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE" and (not notices or restricts):
        raise InvalidInput(
            "choose the category the content falls under (not 'not specified')", field="category"
        )
    if "KEYWORD_OTHER" in keywords and not (given.keyword_other or "").strip():
        raise InvalidInput("describe the 'other' keyword: keyword_other", field="keyword_other")

    assessment = None
    if notices:
        default = "founded" if restricts else "unfounded"
        assessment = _choice(
            NoticeAssessment, given.notice_assessment or default, "notice_assessment"
        )
        if restricts and assessment is not NoticeAssessment.FOUNDED:
            raise InvalidInput(
                "a notice that led to a restriction is founded", field="notice_assessment"
            )
    elif given.notice_assessment:
        raise InvalidInput("the case has no notices to assess", field="notice_assessment")
    if given.manifestly_illegal and not restricts:
        raise InvalidInput(
            "manifestly illegal content is restricted, not left up", field="manifestly_illegal"
        )

    kinds = {n.type for n in notices}
    if NoticeType.TRUSTED_FLAGGER in kinds:
        source = SourceType.TRUSTED_FLAGGER
    elif kinds & {NoticeType.DSA, NoticeType.TAKE_IT_DOWN}:
        source = SourceType.ARTICLE_16
    elif kinds:
        source = SourceType.OTHER_NOTIFICATION
    else:
        source = SourceType.VOLUNTARY
    identity = None
    if given.disclose_notifier:
        entities = [
            str(n.details.get("trusted_flagger_name") or n.details.get("authority_name"))
            for n in notices
            if n.type in (NoticeType.TRUSTED_FLAGGER, NoticeType.AUTHORITY_ORDER)
        ]
        if not entities:
            raise InvalidInput(
                "only trusted flaggers and authorities (organisations) can be named",
                field="disclose_notifier",
            )
        identity = "; ".join(dict.fromkeys(entities))
    if actor.role == "system":
        automation = Automation.FULLY
    else:
        automation = Automation.PARTIALLY if automated_detection else Automation.NOT

    hosted = item.hosted_at or item.created_at
    return ModerationDecision(
        id=decision_id or new_id(),
        case_id=case.id,
        item_id=item.id,
        decided_at=now,
        reviewer=actor.id,
        reviewer_role=actor.role,
        visibility=visibility,
        account_measure=account,
        ground=ground,
        category=category,
        keywords=keywords,
        keyword_other=(given.keyword_other or "").strip() or None,
        category_addition=tuple(dict.fromkeys(given.category_addition)),
        legal_ground=legal.text if legal else None,
        legal_reference_url=legal.url if legal else None,
        tc_clause=terms.clause if terms else None,
        tc_version=terms.version if terms else None,
        tc_text=terms.text if terms else None,
        tc_url=_terms_url(wf, terms.clause, terms.version) if terms else None,
        ground_explanation=(legal.explanation if legal else terms.explanation if terms else ""),
        explanation=given.explanation.strip(),
        also_illegal=given.also_illegal,
        worldwide=worldwide,
        territorial_scope=scope,
        visibility_end=given.visibility_end,
        account_end=given.account_end,
        content_types=item.content_types,
        content_language=item.language,
        content_date=hosted.date(),
        application_date=today,
        source_type=source,
        notice_ids=tuple(n.id for n in notices),
        notice_types=tuple(dict.fromkeys(n.type.value for n in notices)),
        source_identity=identity,
        automated_detection=automated_detection,
        automated_decision=automation,
        detectors=tuple(dict.fromkeys(detectors)),
        manifestly_illegal=given.manifestly_illegal,
        notice_assessment=assessment,
        account_id=item.account_id,
        language=item.account_language or item.language or "en",
        supersedes=supersedes,
        appeal_id=appeal_id,
        take_it_down=NoticeType.TAKE_IT_DOWN in kinds,
    )


def _terms_url(wf: Workflow, clause: str, version: str) -> str | None:
    template = wf.settings.terms_url
    return template.replace("{clause}", clause).replace("{version}", version) if template else None
