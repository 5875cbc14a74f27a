"""Notices: intake with the DSA Art. 16 elements (and the TAKE IT DOWN, trusted-flagger and
authority-order variants), precise errors for incomplete notices, one transaction per notice.

A notice about several items opens or joins one case per item. Its clocks start at receipt.
A confirmation of receipt is queued when the notifier gave an e-mail address (Art. 16(4)).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pycountry

from bastion.errors import BastionError, InvalidInput
from bastion.policy.loader import sor_enums
from bastion.policy.model import new_id
from bastion.storage.workflow import cases as case_repo
from bastion.storage.workflow import notices as repo
from bastion.storage.workflow import standing as standing_repo
from bastion.workflow import outbox
from bastion.workflow.cases import absorb, case_for_item, item_for_location
from bastion.workflow.clocks import CHILD_SEXUAL_ABUSE_KEYWORDS, NoticeFacts, notice_clocks
from bastion.workflow.identity import canonical_email
from bastion.workflow.model import NoticeStatus, NoticeType
from bastion.workflow.records import Deadline, Notice, TrustedFlagger
from bastion.workflow.service import Actor, Workflow

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")
URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
CONTENT_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,200}$")
MIN_EXPLANATION = 20
MAX_LOCATIONS = 50


class IncompleteNotice(InvalidInput):
    """A notice that misses or mis-states required elements; lists every problem."""

    code = "incomplete_notice"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        message = "the notice is incomplete: " + "; ".join(f"{f}: {m}" for f, m in problems)
        super().__init__(message, field=problems[0][0])
        self.problems = problems


class NoticeProcessingSuspended(BastionError):
    code = "notice_processing_suspended"
    status = 403


@dataclass(frozen=True, slots=True)
class NoticeInput:
    """A notice as submitted (API or web form), before validation. Strings may be empty."""

    type: str = NoticeType.DSA.value
    explanation: str = ""
    locations: Sequence[str] = ()
    category: str = ""
    keywords: Sequence[str] = ()
    keyword_other: str | None = None
    jurisdiction: str = ""
    notifier_name: str | None = None
    notifier_email: str | None = None
    bona_fide: bool = False
    language: str = "en"
    signature: str | None = None
    non_consent_statement: str | None = None
    requester_role: str | None = None
    authority_name: str | None = None
    order_reference: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NoticeReceipt:
    notice: Notice
    case_ids: tuple[str, ...]
    deadlines: tuple[Deadline, ...]


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def is_child_sexual_abuse(category: str, keywords: Sequence[str]) -> bool:
    """Offences of Arts 3-7 of Directive 2011/93/EU: the notifier may stay anonymous."""
    return category == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS" and bool(
        CHILD_SEXUAL_ABUSE_SET.intersection(keywords)
    )


CHILD_SEXUAL_ABUSE_SET = CHILD_SEXUAL_ABUSE_KEYWORDS


def validate(
    given: NoticeInput, *, flagger: TrustedFlagger | None, staff: bool
) -> list[tuple[str, str]]:
    """Every problem with the notice as (field, message); empty when it is complete."""
    problems: list[tuple[str, str]] = []
    try:
        kind = NoticeType(given.type)
    except ValueError:
        allowed = ", ".join(t.value for t in NoticeType)
        return [("type", f"must be one of: {allowed}")]

    explanation = (given.explanation or "").strip()
    if len(explanation) < MIN_EXPLANATION:
        problems.append(
            (
                "explanation",
                f"explain why the content is illegal or breaks the rules "
                f"(at least {MIN_EXPLANATION} characters)",
            )
        )
    elif len(explanation) > 10_000:
        problems.append(("explanation", "is longer than 10000 characters"))

    locations = [loc.strip() for loc in given.locations if loc and loc.strip()]
    if not locations:
        problems.append(("locations", "give at least one exact location (URL or content id)"))
    elif len(locations) > MAX_LOCATIONS:
        problems.append(("locations", f"at most {MAX_LOCATIONS} locations per notice"))
    for location in locations:
        if len(location) > 2000 or not (URL.match(location) or CONTENT_ID.match(location)):
            problems.append(
                ("locations", f"{location[:80]!r} is neither an http(s) URL nor a content id")
            )

    hierarchy = sor_enums()["CATEGORY_HIERARCHY_IR_2024_2835"]
    keywords = list(dict.fromkeys(given.keywords))
    if given.category not in sor_enums()["STATEMENT_CATEGORIES"]:
        problems.append(("category", "choose the kind of illegal or prohibited content"))
    else:
        allowed_keywords = {
            k["keyword"] for k in hierarchy.get(given.category, {}).get("keywords", [])
        }
        for keyword in keywords:
            if keyword not in allowed_keywords:
                problems.append(("keywords", f"{keyword} does not belong to {given.category}"))
    if "KEYWORD_OTHER" in keywords and _blank(given.keyword_other):
        problems.append(("keyword_other", "describe the 'other' kind of content"))
    if given.keyword_other and len(given.keyword_other) > 500:
        problems.append(("keyword_other", "is longer than 500 characters"))

    jurisdiction = (given.jurisdiction or "").strip().upper()
    if not jurisdiction or pycountry.countries.get(alpha_2=jurisdiction) is None:
        problems.append(("jurisdiction", "give your country as a two-letter ISO code"))

    anonymous_allowed = is_child_sexual_abuse(given.category, keywords) and kind in (
        NoticeType.DSA,
        NoticeType.OTHER,
        NoticeType.TRUSTED_FLAGGER,
    )
    if not anonymous_allowed:
        if _blank(given.notifier_name):
            problems.append(("notifier_name", "give your name (or your organisation's)"))
        if _blank(given.notifier_email):
            problems.append(("notifier_email", "give an e-mail address for the confirmation"))
    if given.notifier_name and len(given.notifier_name) > 200:
        problems.append(("notifier_name", "is longer than 200 characters"))
    if not _blank(given.notifier_email) and not EMAIL.match((given.notifier_email or "").strip()):
        problems.append(("notifier_email", "is not a valid e-mail address"))

    if kind is not NoticeType.AUTHORITY_ORDER and given.bona_fide is not True:
        problems.append(
            ("bona_fide", "confirm that you believe the information in the notice is accurate")
        )

    if kind is NoticeType.TAKE_IT_DOWN:
        if _blank(given.signature):
            problems.append(("signature", "sign the request (type your full name)"))
        if (
            _blank(given.non_consent_statement)
            or len((given.non_consent_statement or "").strip()) < 10
        ):
            problems.append(
                (
                    "non_consent_statement",
                    "state briefly why you believe the depiction was published without consent",
                )
            )
        if given.requester_role not in ("individual", "authorised_person"):
            problems.append(
                (
                    "requester_role",
                    "say whether you are the person depicted "
                    "(individual) or act for them (authorised_person)",
                )
            )
    if kind is NoticeType.TRUSTED_FLAGGER:
        if flagger is None:
            problems.append(
                ("type", "trusted-flagger notices must be sent with a trusted flagger's API key")
            )
        elif given.category not in flagger.areas:
            problems.append(
                (
                    "category",
                    "outside this trusted flagger's designated area; send it as a dsa_art16 notice",
                )
            )
    if kind is NoticeType.AUTHORITY_ORDER:
        if not staff:
            problems.append(("type", "authority orders are entered by staff (moderator key)"))
        if _blank(given.authority_name):
            problems.append(("authority_name", "name the issuing authority"))
        if _blank(given.order_reference):
            problems.append(("order_reference", "give the order's reference"))
    return problems


def submit(
    wf: Workflow,
    given: NoticeInput,
    *,
    channel: str,
    actor: Actor,
    flagger: TrustedFlagger | None = None,
) -> NoticeReceipt:
    """Validate and store a notice with its cases, clocks, receipt message and audit event."""
    staff = actor.role in ("moderator", "child_safety", "admin")
    problems = validate(given, flagger=flagger, staff=staff)
    if problems:
        raise IncompleteNotice(problems)
    kind = NoticeType(given.type)
    keywords = tuple(dict.fromkeys(given.keywords))
    csa = is_child_sexual_abuse(given.category, keywords)
    email = (given.notifier_email or "").strip() or None
    # Every spelling of one mailbox is one notifier (suspensions cannot be dodged with +tags).
    notifier_ref = wf.ref(canonical_email(email)) if email else None
    now = wf.clock.now()
    details: dict[str, Any] = dict(given.extra)
    if kind is NoticeType.TAKE_IT_DOWN:
        details.update(
            signature=given.signature,
            non_consent_statement=given.non_consent_statement,
            requester_role=given.requester_role,
        )
    if kind is NoticeType.AUTHORITY_ORDER:
        details.update(authority_name=given.authority_name, order_reference=given.order_reference)
    if flagger is not None:
        details["trusted_flagger_name"] = flagger.name
    notice = Notice(
        id=new_id(),
        received_at=now,
        type=kind,
        channel=channel,
        status=NoticeStatus.RECEIVED,
        category=given.category,
        keywords=keywords,
        keyword_other=(given.keyword_other or "").strip() or None,
        explanation=given.explanation.strip(),
        locations=tuple(dict.fromkeys(loc.strip() for loc in given.locations if loc.strip())),
        language=outbox.language_for(given.language),
        jurisdiction=given.jurisdiction.strip().upper(),
        bona_fide=bool(given.bona_fide),
        child_sexual_abuse=csa,
        notifier_name=(given.notifier_name or "").strip() or None,
        notifier_email=email,
        notifier_ref=notifier_ref,
        trusted_flagger_id=flagger.id if flagger else None,
        details=details,
    )
    facts = NoticeFacts(kind, now, notice.category, keywords, notice.jurisdiction, csa)
    clocks = notice_clocks(wf.settings, facts)
    trusted = kind in (NoticeType.TRUSTED_FLAGGER, NoticeType.AUTHORITY_ORDER)
    with wf.db.begin() as conn:
        if notifier_ref is not None and not csa:
            _refuse_if_suspended(conn, notifier_ref, now)
        repo.add(conn, notice)
        case_ids: list[str] = []
        for location in notice.locations:
            item = item_for_location(conn, wf, location)
            case, _ = case_for_item(conn, wf, item, category=notice.category, keywords=keywords)
            if case.id in case_ids:
                continue
            case_repo.link_notice(conn, case.id, notice.id)
            absorb(
                conn,
                wf,
                case,
                category=notice.category,
                keywords=keywords,
                clocks=clocks,
                notice_id=notice.id,
                trusted=trusted,
                child_safety=csa,
            )
            case_ids.append(case.id)
        if email:
            _, subject, body = outbox.render(
                "receipt",
                notice.language,
                {
                    "platform": wf.settings.platform_name,
                    "notice_id": notice.id,
                    "received_at": now.strftime("%Y-%m-%d %H:%M"),
                    "locations": notice.locations,
                    "take_it_down": kind is NoticeType.TAKE_IT_DOWN,
                },
            )
            outbox.enqueue(
                conn,
                wf.clock,
                kind="receipt",
                to=email,
                subject=subject,
                body=body,
                ref_id=notice.id,
            )
        wf.audit(
            conn,
            actor,
            "notice.received",
            "notice",
            notice.id,
            {
                "type": kind.value,
                "channel": channel,
                "cases": case_ids,
                "category": notice.category,
            },
        )
        deadlines = tuple(
            d
            for cid in case_ids
            for d in case_repo.deadlines(conn, cid)
            if d.notice_id == notice.id
        )
    wf.after_commit()
    return NoticeReceipt(notice, tuple(case_ids), deadlines)


def _refuse_if_suspended(conn: Any, notifier_ref: str, now: datetime) -> None:
    standing = standing_repo.get(conn, "notifier", notifier_ref)
    if (
        standing is not None
        and standing.state == "suspended"
        and standing.suspended_until is not None
        and standing.suspended_until > now
    ):
        raise NoticeProcessingSuspended(
            "processing of notices from this sender is suspended until "
            f"{standing.suspended_until.date().isoformat()} under the misuse policy "
            "(DSA Art. 23(2)); notices about child sexual abuse are still accepted"
        )


def get(wf: Workflow, notice_id: str) -> dict[str, Any]:
    with wf.db.connect() as conn:
        notice = repo.get(conn, notice_id)
        return {**notice.public(), "case_ids": repo.case_ids(conn, notice_id)}


def flagger_for(wf: Workflow, api_key_id: str) -> TrustedFlagger | None:
    with wf.db.connect() as conn:
        return repo.flagger_for_key(conn, api_key_id)


def register_flagger(
    wf: Workflow, *, name: str, member_state: str, areas: Sequence[str], api_key_id: str
) -> TrustedFlagger:
    if not name.strip() or len(name) > 200:
        raise InvalidInput("name must be 1-200 characters", field="name")
    if member_state.upper() not in sor_enums()["TERRITORIAL_SCOPE_CODES"]:
        raise InvalidInput("member_state must be an EU/EEA country code", field="member_state")
    unknown = [a for a in areas if a not in sor_enums()["STATEMENT_CATEGORIES"]]
    if unknown or not areas:
        raise InvalidInput(f"areas must be SoR categories (got {unknown or 'none'})", field="areas")
    flagger = TrustedFlagger(
        id=new_id(),
        name=name.strip(),
        member_state=member_state.upper(),
        areas=tuple(dict.fromkeys(areas)),
        api_key_id=api_key_id,
        created_at=wf.clock.now(),
    )
    with wf.db.begin() as conn:
        repo.add_flagger(conn, flagger)
        wf.audit(conn, Actor("system", "system"), "flagger.registered", "flagger", flagger.id)
    return flagger
