"""Decisions: a reviewer (or the system) decides a case. One transaction writes the decision
record, puts it into effect (item state, stay-down, TAKE IT DOWN copy sweep, account standing),
meets the clocks, renders and validates the statements, queues the messages, records Art. 23
strikes, runs the repeat-offender assessment and writes the audit events. Any failure — an
invalid statement included — rolls all of it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection

from bastion.errors import Conflict
from bastion.policy.model import new_id
from bastion.staydown import Copy
from bastion.storage.workflow import cases as case_repo
from bastion.storage.workflow import decisions as repo
from bastion.storage.workflow import items as item_repo
from bastion.storage.workflow import notices as notice_repo
from bastion.workflow import measures, offenders
from bastion.workflow.cases import check_reviewer_may_handle
from bastion.workflow.decision_build import REVIEWER_MEASURES, DecisionInput, build
from bastion.workflow.model import (
    AccountMeasure,
    Automation,
    CaseState,
    InvalidTransition,
    ItemState,
    ModerationDecision,
    check_case_transition,
)
from bastion.workflow.records import Item, Notice
from bastion.workflow.service import Actor, Workflow

__all__ = ["REVIEWER_MEASURES", "DecisionInput", "build", "decide", "get", "record"]


def decide(wf: Workflow, case_id: str, given: DecisionInput, actor: Actor) -> ModerationDecision:
    """Decide an open case. Returns the decision record (copies' decisions are separate)."""
    with wf.db.begin() as conn:
        case = case_repo.get(conn, case_id, lock=True)
        if case.state is CaseState.APPEALED:
            raise InvalidTransition(
                "the case is under appeal: decide the appeal instead", field="state"
            )
        check_case_transition(case.state, CaseState.DECIDED)
        check_reviewer_may_handle(case, actor)
        if case.assignee and case.assignee != actor.id and actor.role != "admin":
            raise Conflict("the case is assigned to another reviewer", field="case_id")
        item = item_repo.get(conn, case.item_id)
        notices = notice_repo.for_case(conn, case.id)
        detections = case_repo.detections(conn, case.id)
        decision = build(
            wf,
            given,
            case=case,
            item=item,
            notices=notices,
            automated_detection=bool(detections),
            detectors=[d.source for d in detections],
            actor=actor,
        )
        decision = record(conn, wf, decision, item, notices, actor)
        case_repo.meet_deadlines(conn, case.id, decision.decided_at)
        case_repo.update_case(
            conn,
            case.id,
            state=CaseState.DECIDED,
            decided_at=decision.decided_at,
            decision_id=decision.id,
            updated_at=decision.decided_at,
        )
        notice_repo.mark_decided(
            conn,
            [n.id for n in notices],
            outcome=decision.notice_assessment.value if decision.notice_assessment else "decided",
            at=decision.decided_at,
        )
        measures.notify_notifiers(conn, wf, decision, notices, item)
        offenders.after_decision(conn, wf, decision, item, notices)
    wf.after_commit()
    return decision


def record(
    conn: Connection,
    wf: Workflow,
    decision: ModerationDecision,
    item: Item,
    notices: Sequence[Notice],
    actor: Actor,
) -> ModerationDecision:
    """Store a decision, put it into effect, issue its statements, sweep TAKE IT DOWN copies."""
    copies: list[tuple[Item, Copy]] = []
    if decision.take_it_down and decision.visibility in measures.REMOVING and item.sha256:
        entry = measures.removed_content(decision, item)
        found = [(item_repo.get(conn, c.item_id), c) for c in wf.stay_down.find_copies(conn, entry)]
        copies = [(c, how) for c, how in found if c.state is ItemState.VISIBLE]
        decision = replace(decision, copies_removed=tuple(c.id for c, _ in copies))
    repo.add(conn, decision)
    measures.apply(conn, wf, decision, item)
    known = measures.known_personal_values(item, notices)
    measures.issue_statements(conn, wf, decision, item, known=known)
    wf.audit(
        conn,
        actor,
        "decision.taken",
        "case",
        decision.case_id,
        {
            "decision": decision.id,
            "visibility": decision.visibility.value,
            "account_measure": decision.account_measure.value,
            "ground": decision.ground.value,
            "category": decision.category,
            "automated_decision": decision.automated_decision.value,
            "copies_removed": list(decision.copies_removed),
            "supersedes": decision.supersedes,
        },
    )
    for copy, how in copies:
        # Each copy's uploader gets their own decision and statement.
        derived = replace(
            decision,
            id=new_id(),
            item_id=copy.id,
            account_id=copy.account_id,
            content_types=copy.content_types,
            content_language=copy.language,
            content_date=(copy.hosted_at or copy.created_at).date(),
            language=copy.account_language or copy.language or "en",
            automated_detection=True,
            automated_decision=Automation.PARTIALLY,
            detectors=("sha256_identical_copy" if how.basis == "sha256" else "pdq_same_image",),
            account_measure=AccountMeasure.NONE,
            account_end=None,
            manifestly_illegal=False,
            copies_removed=(),
            extra={"copy_of": decision.id, "copy_basis": how.basis, "copy_distance": how.distance},
        )
        repo.add(conn, derived)
        measures.apply(conn, wf, derived, copy)
        measures.issue_statements(
            conn, wf, derived, copy, known=[*known, *measures.known_personal_values(copy, ())]
        )
        wf.audit(
            conn,
            actor,
            "item.copy_removed",
            "item",
            copy.id,
            {"decision": derived.id, "copy_of": decision.id, "basis": how.basis},
        )
    return decision


def get(wf: Workflow, decision_id: str) -> dict[str, Any]:
    with wf.db.connect() as conn:
        decision = repo.get(conn, decision_id)
        status = repo.status(conn, decision_id)
        statements = repo.statements_for(conn, decision_id)
    return {
        **decision.to_dict(),
        "status": status.value,
        "statements": [
            {"id": s.id, "kind": s.kind, "recipient": s.recipient, "language": s.language}
            for s in statements
        ],
    }
