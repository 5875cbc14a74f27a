"""Repeat offenders and abusive notifiers (DSA Art. 23).

Strikes are recorded when a reviewer marks content *manifestly illegal* (against the uploading
account) or notices / complaints *manifestly unfounded* (against the sender). After each one
the subject is assessed over a rolling window on (a) absolute numbers, (b) their proportion of
everything the subject provided or sent, and (c) gravity (child-safety content weighs 3,
intimate-image abuse 2, anything else 1). The first crossing brings a prior warning; only a
warned subject can be suspended. A suspension is a decision of its own with a statement of
reasons and a Transparency Database payload.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from sqlalchemy import Connection

from bastion.clock import utc
from bastion.policy.model import new_id
from bastion.storage.workflow import decisions as decision_repo
from bastion.storage.workflow import items as item_repo
from bastion.storage.workflow import notices as notice_repo
from bastion.storage.workflow import standing as repo
from bastion.workflow import measures, outbox
from bastion.workflow.clocks import is_intimate
from bastion.workflow.model import (
    AccountMeasure,
    Automation,
    Complainant,
    Ground,
    ModerationDecision,
    NoticeAssessment,
    SourceType,
    Visibility,
)
from bastion.workflow.records import Item, Notice, Standing
from bastion.workflow.service import SYSTEM, Workflow

ACCOUNT = "account"
NOTIFIER = "notifier"
MISUSE_CLAUSE = "tc_misuse"


def gravity(category: str, keywords: Sequence[str]) -> int:
    if category == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS":
        return 3
    return 2 if is_intimate(category, tuple(keywords)) else 1


def after_decision(
    conn: Connection,
    wf: Workflow,
    decision: ModerationDecision,
    item: Item,
    notices: Sequence[Notice],
) -> None:
    """Record the strikes a decision implies and assess each subject."""
    now = wf.clock.now()
    if decision.manifestly_illegal and decision.account_id:
        repo.add_strike(
            conn,
            id=new_id(),
            subject_kind=ACCOUNT,
            subject_ref=decision.account_id,
            kind="manifestly_illegal_content",
            gravity=gravity(decision.category, decision.keywords),
            at=now,
            source_id=decision.id,
        )
        assess(
            conn,
            wf,
            ACCOUNT,
            decision.account_id,
            trigger=decision,
            item=item,
            contact=item.account_contact,
            language=decision.language,
        )
    if decision.notice_assessment is NoticeAssessment.MANIFESTLY_UNFOUNDED:
        for notice in notices:
            if not notice.notifier_ref:
                continue
            repo.add_strike(
                conn,
                id=new_id(),
                subject_kind=NOTIFIER,
                subject_ref=notice.notifier_ref,
                kind="manifestly_unfounded_notice",
                gravity=1,
                at=now,
                source_id=decision.id,
            )
            assess(
                conn,
                wf,
                NOTIFIER,
                notice.notifier_ref,
                trigger=decision,
                item=item,
                contact=notice.notifier_email,
                language=notice.language,
            )


def complaint_unfounded(
    conn: Connection,
    wf: Workflow,
    *,
    subject_kind: str,
    subject_ref: str,
    appeal_id: str,
    decision: ModerationDecision,
    contact: str | None,
    language: str,
) -> None:
    """A complaint judged manifestly unfounded: a strike against its sender (Art. 23(2))."""
    repo.add_strike(
        conn,
        id=new_id(),
        subject_kind=subject_kind,
        subject_ref=subject_ref,
        kind="manifestly_unfounded_complaint",
        gravity=1,
        at=wf.clock.now(),
        source_id=appeal_id,
    )
    item = item_repo.get(conn, decision.item_id)
    assess(
        conn,
        wf,
        subject_kind,
        subject_ref,
        trigger=decision,
        item=item,
        contact=contact,
        language=language,
    )


def assess(
    conn: Connection,
    wf: Workflow,
    subject_kind: str,
    subject_ref: str,
    *,
    trigger: ModerationDecision,
    item: Item,
    contact: str | None,
    language: str,
) -> str | None:
    """Warn or suspend when the thresholds are crossed. Returns "warned", "suspended" or None."""
    s = wf.settings
    now = wf.clock.now()
    since = now - timedelta(days=s.offender_window_days)
    count, score = repo.strike_totals(conn, subject_kind, subject_ref, since)
    if subject_kind == ACCOUNT:
        total = item_repo.count_for_account(conn, subject_ref)
        metric, warn_at, suspend_at = score, s.offender_warn_score, s.offender_suspend_score
        min_share, days = s.offender_min_proportion, s.offender_suspension_days
    else:
        total = notice_repo.count_from(conn, subject_ref, since)
        metric, warn_at, suspend_at = count, s.notifier_warn_count, s.notifier_suspend_count
        min_share, days = s.notifier_min_proportion, s.notifier_suspension_days
    share = count / max(total, count, 1)
    standing = repo.get(conn, subject_kind, subject_ref) or Standing(
        subject_kind, subject_ref, "good", now
    )
    if standing.state == "terminated" or (
        standing.state == "suspended"
        and standing.suspended_until is not None
        and standing.suspended_until > now
    ):
        return None
    if share < min_share:
        return None
    warned_recently = standing.warned_at is not None and standing.warned_at >= since
    if not warned_recently:
        if metric < warn_at:
            return None
        repo.put(conn, Standing(subject_kind, subject_ref, "warned", now, now, None))
        if contact:
            _, subject, body = outbox.render(
                "warning",
                language,
                {
                    "platform": s.platform_name,
                    "subject_kind": subject_kind,
                    "window_days": s.offender_window_days,
                    "count": count,
                    "clause": wf.grounds.terms_ground(MISUSE_CLAUSE).clause,
                    "suspension_days": days,
                },
            )
            outbox.enqueue(
                conn,
                wf.clock,
                kind="warning",
                to=contact,
                subject=subject,
                body=body,
                ref_id=trigger.id,
            )
        wf.audit(
            conn,
            SYSTEM,
            "standing.warned",
            subject_kind,
            trigger.id,
            {"strikes": count, "score": score, "share": round(share, 3)},
        )
        return "warned"
    if metric < suspend_at:
        return None
    until = now + timedelta(days=days)
    decision = _suspension(wf, subject_kind, subject_ref, trigger, item, count, days, until)
    decision_repo.add(conn, decision)
    measures.apply(conn, wf, decision, item)
    if subject_kind != ACCOUNT:
        repo.put(
            conn,
            Standing(
                subject_kind,
                subject_ref,
                "suspended",
                now,
                standing.warned_at,
                utc(datetime.combine(until.date(), time.min)),
            ),
        )
    measures.issue_statements(
        conn,
        wf,
        decision,
        item,
        known=[*measures.known_personal_values(item, ()), *([contact] if contact else [])],
        recipient_contact=contact or "",
        recipient=Complainant.AFFECTED_USER,
    )
    wf.audit(
        conn,
        SYSTEM,
        "standing.suspended",
        subject_kind,
        decision.id,
        {"strikes": count, "score": score, "until": until.date().isoformat()},
    )
    return "suspended"


def _suspension(
    wf: Workflow,
    subject_kind: str,
    subject_ref: str,
    trigger: ModerationDecision,
    item: Item,
    count: int,
    days: int,
    until: datetime,
) -> ModerationDecision:
    clause = wf.grounds.terms_ground(MISUSE_CLAUSE)
    now = wf.clock.now()
    account = subject_kind == ACCOUNT
    what = (
        "items assessed as manifestly illegal"
        if account
        else "notices or complaints assessed as manifestly unfounded"
    )
    template = wf.settings.terms_url
    return ModerationDecision(
        id=new_id(),
        case_id=trigger.case_id,
        item_id=item.id,
        decided_at=now,
        reviewer=SYSTEM.id,
        reviewer_role=SYSTEM.role,
        visibility=Visibility.NONE,
        account_measure=AccountMeasure.SUSPENSION if account else AccountMeasure.NOTICE_SUSPENSION,
        ground=Ground.TERMS,
        category=trigger.category if account else "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        keywords=trigger.keywords if account else ("KEYWORD_OTHER",),
        keyword_other=trigger.keyword_other
        if account
        else "Manifestly unfounded notices or complaints",
        tc_clause=clause.clause,
        tc_version=clause.version,
        tc_text=clause.text,
        tc_url=template.replace("{clause}", clause.clause).replace("{version}", clause.version)
        if template
        else None,
        ground_explanation=clause.explanation,
        explanation=f"{count} {what} in the last {wf.settings.offender_window_days} days, "
        f"after a prior warning; suspended for {days} days.",
        also_illegal=True if account else None,
        account_end=until.date(),
        content_types=item.content_types if account else ("CONTENT_TYPE_TEXT",),
        content_language=item.language if account else None,
        content_date=(item.hosted_at or item.created_at).date() if account else now.date(),
        application_date=now.date(),
        source_type=SourceType.VOLUNTARY,
        automated_detection=False,
        automated_decision=Automation.FULLY,
        account_id=subject_ref if account else None,
        language=trigger.language,
        extra={} if account else {"notifier_ref": subject_ref},
    )
