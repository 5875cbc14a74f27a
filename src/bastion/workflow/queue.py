"""The review queue: cases ordered by priority (child safety, trusted flaggers, statutory
clocks, the rest), then by their earliest open deadline; overdue cases can be filtered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bastion.storage.workflow import cases as repo
from bastion.storage.workflow import decisions as decision_repo
from bastion.storage.workflow import items as item_repo
from bastion.storage.workflow import notices as notice_repo
from bastion.workflow.model import CaseState
from bastion.workflow.records import Case, Deadline
from bastion.workflow.service import Workflow


def case_view(wf: Workflow, case_id: str) -> dict[str, Any]:
    """Everything about a case for a reviewer: item, notices, detections, clocks, decisions."""
    now = wf.clock.now()
    with wf.db.connect() as conn:
        case = repo.get(conn, case_id)
        item = item_repo.get(conn, case.item_id)
        return {
            **case_summary(case, now, repo.deadlines(conn, case.id)),
            "item": item.public(),
            "notices": [n.public() for n in notice_repo.for_case(conn, case.id)],
            "detections": [
                {
                    "id": d.id,
                    "source": d.source,
                    "rule": d.rule,
                    "score": d.score,
                    "category": d.category,
                    "keywords": list(d.keywords),
                    "detected_at": d.detected_at.isoformat(),
                    "guard_decision_id": d.guard_decision_id,
                }
                for d in repo.detections(conn, case.id)
            ],
            "decisions": [d.to_dict() for d in decision_repo.for_case(conn, case.id)],
        }


def case_summary(case: Case, now: datetime, deadlines: Sequence[Deadline]) -> dict[str, Any]:
    return {
        "id": case.id,
        "item_id": case.item_id,
        "state": case.state.value,
        "priority": case.priority,
        "category": case.category,
        "keywords": list(case.keywords),
        "child_safety": case.child_safety,
        "trusted_flagger": case.trusted_flagger,
        "opened_at": case.opened_at.isoformat(),
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "overdue": any(d.overdue(now) for d in deadlines),
        "assignee": case.assignee,
        "decision_id": case.decision_id,
        "deadlines": [d.public(now) for d in deadlines],
    }


def queue(
    wf: Workflow,
    *,
    states: list[CaseState] | None = None,
    overdue: bool = False,
    child_safety: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    now = wf.clock.now()
    with wf.db.connect() as conn:
        found = repo.listing(
            conn,
            now=now,
            states=states,
            overdue=overdue,
            child_safety=child_safety,
            limit=limit,
            offset=offset,
        )
        return [case_summary(c, now, repo.deadlines(conn, c.id)) for c in found]
