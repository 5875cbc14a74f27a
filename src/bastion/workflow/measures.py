"""What a decision does, and undoes, inside its transaction: item states, stay-down, account
standing, statements of reasons (user text + validated TDB payload), messages with appeal links.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time
from typing import Any

from sqlalchemy import Connection

from bastion.clock import utc
from bastion.policy.model import new_id
from bastion.staydown import RemovedContent
from bastion.storage.workflow import appeals as appeal_repo
from bastion.storage.workflow import cases as case_repo
from bastion.storage.workflow import decisions as repo
from bastion.storage.workflow import items as item_repo
from bastion.storage.workflow import standing as standing_repo
from bastion.workflow import outbox
from bastion.workflow.model import (
    VISIBILITY_STATE,
    AccountMeasure,
    Complainant,
    DecisionStatus,
    ItemState,
    ModerationDecision,
    Visibility,
)
from bastion.workflow.records import AppealToken, Item, Notice, Standing, Statement
from bastion.workflow.service import Actor, Workflow
from bastion.workflow.statements import MEASURE_TEXT, tdb_payload, user_statement

REMOVING = (Visibility.REMOVE, Visibility.DISABLE)


def known_personal_values(item: Item, notices: Sequence[Notice]) -> list[str]:
    values = [item.content_id, item.url, item.account_id, item.account_contact]
    for notice in notices:
        values += [notice.notifier_name, notice.notifier_email, *notice.locations]
        values += [str(v) for k, v in notice.details.items() if k == "signature" and v]
    return [v for v in values if v]


def apply(conn: Connection, wf: Workflow, decision: ModerationDecision, item: Item) -> None:
    """Put the decision into effect: item state, stay-down, account standing."""
    at = decision.decided_at
    if decision.visibility is not Visibility.NONE:
        item_repo.set_state(conn, item.id, VISIBILITY_STATE[decision.visibility], at)
        wf.audit(
            conn,
            Actor(decision.reviewer, decision.reviewer_role),
            "item.restricted",
            "item",
            item.id,
            {"decision": decision.id, "state": VISIBILITY_STATE[decision.visibility].value},
        )
    if decision.visibility in REMOVING and item.sha256:
        wf.stay_down.add_removed(conn, removed_content(decision, item))
    if decision.visibility is Visibility.NONE:
        # A person found nothing to restrict: the guard's automatic blocks of this content
        # no longer keep it down.
        release_automatic(conn, wf, decision, Actor(decision.reviewer, decision.reviewer_role))
    if decision.account_id and decision.account_measure in (
        AccountMeasure.SUSPENSION,
        AccountMeasure.TERMINATION,
    ):
        previous = standing_repo.get(conn, "account", decision.account_id)
        until = (
            utc(datetime.combine(decision.account_end, time.min)) if decision.account_end else None
        )
        standing_repo.put(
            conn,
            Standing(
                subject_kind="account",
                subject_ref=decision.account_id,
                state="suspended"
                if decision.account_measure is AccountMeasure.SUSPENSION
                else "terminated",
                updated_at=at,
                warned_at=previous.warned_at if previous else None,
                suspended_until=until,
            ),
        )


def release_automatic(
    conn: Connection,
    wf: Workflow,
    decision: ModerationDecision,
    actor: Actor,
    at: datetime | None = None,
) -> int:
    """Lift the stay-down entries the guard banked for the case's automated detections."""
    if not decision.case_id:
        return 0
    guard_ids = [
        d.guard_decision_id
        for d in case_repo.detections(conn, decision.case_id)
        if d.guard_decision_id
    ]
    released = wf.stay_down.release(conn, guard_ids, at or decision.decided_at) if guard_ids else 0
    if released:
        wf.audit(
            conn,
            actor,
            "stay_down.released",
            "case",
            decision.case_id,
            {"decision": decision.id, "entries": released},
        )
    return released


def removed_content(decision: ModerationDecision, item: Item) -> RemovedContent:
    assert item.sha256 is not None
    return RemovedContent(
        item_id=item.id,
        decision_id=decision.id,
        sha256=item.sha256,
        category=decision.category,
        at=decision.decided_at,
        pdq=item.pdq,
        case_id=decision.case_id,
    )


def reverse(
    conn: Connection, wf: Workflow, decision: ModerationDecision, actor: Actor, at: datetime
) -> list[str]:
    """Undo a decision (reversed on appeal): restore the item and its removed copies, lift
    stay-down, lift the account measure, withdraw strikes. Returns the restored item ids."""
    restored: list[str] = []
    repo.set_status(conn, decision.id, DecisionStatus.REVERSED)
    item = item_repo.get(conn, decision.item_id)
    if decision.visibility is not Visibility.NONE:
        item_repo.set_state(conn, item.id, ItemState.VISIBLE, at)
        restored.append(item.id)
        wf.audit(conn, actor, "item.restored", "item", item.id, {"decision": decision.id})
    if decision.visibility in REMOVING and item.sha256:
        wf.stay_down.lift(conn, replace(removed_content(decision, item), at=at))
        release_automatic(conn, wf, decision, actor, at)
    if decision.account_id and decision.account_measure in (
        AccountMeasure.SUSPENSION,
        AccountMeasure.TERMINATION,
    ):
        previous = standing_repo.get(conn, "account", decision.account_id)
        standing_repo.put(
            conn,
            Standing(
                "account",
                decision.account_id,
                "warned" if previous and previous.warned_at else "good",
                at,
                previous.warned_at if previous else None,
                None,
            ),
        )
    notifier_ref = decision.extra.get("notifier_ref")
    if decision.account_measure is AccountMeasure.NOTICE_SUSPENSION and notifier_ref:
        previous = standing_repo.get(conn, "notifier", str(notifier_ref))
        standing_repo.put(
            conn,
            Standing(
                "notifier",
                str(notifier_ref),
                "warned" if previous and previous.warned_at else "good",
                at,
                previous.warned_at if previous else None,
                None,
            ),
        )
    standing_repo.revoke_strikes(conn, decision.id, at)
    for other in repo.for_case(conn, decision.case_id):
        if other.extra.get("copy_of") == decision.id and repo.status(conn, other.id) is (
            DecisionStatus.IN_FORCE
        ):
            restored += reverse(conn, wf, other, actor, at)
    return restored


def issue_statements(
    conn: Connection,
    wf: Workflow,
    decision: ModerationDecision,
    item: Item,
    *,
    known: Sequence[str],
    recipient_contact: str | None = None,
    recipient: Complainant = Complainant.AFFECTED_USER,
) -> list[Statement]:
    """The Art. 17 statement (stored, sent when a contact is known) and the validated TDB
    payload, both rendered from ``decision`` alone. No-op for decisions that restrict nothing."""
    if not decision.restricts:
        return []
    now = wf.clock.now()
    token, token_hash = wf.new_token()
    item_ref = item.content_id or item.url or item.id
    rendered = user_statement(
        decision, wf.settings, item_ref=item_ref, appeal_url=wf.appeal_url(token)
    )
    statement = Statement(
        id=new_id(),
        decision_id=decision.id,
        kind="user",
        recipient=recipient.value,
        language=rendered.language,
        created_at=now,
        body=rendered.body,
    )
    repo.add_statement(conn, statement)
    issued = [statement]
    contact = recipient_contact if recipient_contact is not None else item.account_contact
    message_id = None
    if contact:
        message_id = outbox.enqueue(
            conn,
            wf.clock,
            kind="statement",
            to=contact,
            subject=rendered.subject,
            body=rendered.body,
            ref_id=decision.id,
        )
    appeal_repo.add_token(
        conn,
        AppealToken(
            token_hash=token_hash,
            decision_id=decision.id,
            role=recipient,
            issued_at=now,
            message_id=message_id,
        ),
    )
    puid = f"bst-{decision.id}"
    payload = tdb_payload(decision, puid=puid, known=known)
    if payload is not None:
        tdb_statement = Statement(
            id=new_id(),
            decision_id=decision.id,
            kind="tdb",
            recipient="commission",
            language="en",
            created_at=now,
            payload=payload,
            puid=puid,
            tdb_status="pending",
        )
        repo.add_statement(conn, tdb_statement)
        issued.append(tdb_statement)
    wf.audit(
        conn,
        Actor(decision.reviewer, decision.reviewer_role),
        "statement.issued",
        "decision",
        decision.id,
        {"statements": [s.id for s in issued], "tdb": payload is not None, "sent": bool(contact)},
    )
    return issued


def notify_notifiers(
    conn: Connection,
    wf: Workflow,
    decision: ModerationDecision,
    notices: Sequence[Notice],
    item: Item,
) -> None:
    """Art. 16(5): tell each notifier what was decided, with redress and an appeal link."""
    acted = decision.visibility is not Visibility.NONE or decision.restricts
    measure = MEASURE_TEXT.get(decision.visibility, "account measure")
    for notice in notices:
        if not notice.notifier_email:
            continue
        token, token_hash = wf.new_token()
        context: dict[str, Any] = {
            "platform": wf.settings.platform_name,
            "notice_id": notice.id,
            "location": item.url or item.content_id or item.id,
            "acted": acted,
            "measure": f"the content was {measure}"
            if decision.visibility in MEASURE_TEXT
            else measure,
            "explanation": decision.explanation,
            "automated": decision.automated_detection or decision.automated_decision.value != "not",
            "appeal_url": wf.appeal_url(token),
            "ods_url": wf.settings.ods_url,
        }
        _, subject, body = outbox.render("notifier_decision", notice.language, context)
        message_id = outbox.enqueue(
            conn,
            wf.clock,
            kind="notifier_decision",
            to=notice.notifier_email,
            subject=subject,
            body=body,
            ref_id=notice.id,
        )
        appeal_repo.add_token(
            conn,
            AppealToken(
                token_hash=token_hash,
                decision_id=decision.id,
                role=Complainant.NOTIFIER,
                issued_at=wf.clock.now(),
                notice_id=notice.id,
                message_id=message_id,
            ),
        )
