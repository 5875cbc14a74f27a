"""The review queue, cases and decisions (moderator, child_safety and admin keys)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from bastion.api.workflow_deps import StaffKey, WorkflowDep, staff_actor
from bastion.api.workflow_schemas import DecisionIn
from bastion.errors import InvalidInput
from bastion.workflow import cases, decisions, queue
from bastion.workflow.decisions import DecisionInput
from bastion.workflow.model import CaseState

router = APIRouter(prefix="/v1", tags=["cases"])


def decision_input(body: DecisionIn) -> DecisionInput:
    data = body.model_dump()
    return DecisionInput(**data)


@router.get("/cases", summary="The queue: priority, then earliest deadline")
def list_cases(
    wf: WorkflowDep,
    _key: StaffKey,
    state: Annotated[list[str] | None, Query()] = None,
    overdue: bool = False,
    child_safety: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    states = None
    if state:
        try:
            states = [CaseState(s) for s in state]
        except ValueError:
            raise InvalidInput(
                f"state must be among: {', '.join(s.value for s in CaseState)}", field="state"
            ) from None
    found = queue.queue(
        wf, states=states, overdue=overdue, child_safety=child_safety, limit=limit, offset=offset
    )
    return {"cases": found, "count": len(found)}


@router.get("/cases/{case_id}", summary="A case with its item, notices, detections, clocks")
def get_case(case_id: str, wf: WorkflowDep, _key: StaffKey) -> dict[str, Any]:
    return queue.case_view(wf, case_id)


@router.post("/cases/{case_id}/assign", summary="Take a case for review")
def assign(case_id: str, wf: WorkflowDep, key: StaffKey) -> dict[str, Any]:
    cases.assign(wf, case_id, staff_actor(key))
    return queue.case_view(wf, case_id)


@router.post("/cases/{case_id}/release", summary="Put a case back in the queue")
def release(case_id: str, wf: WorkflowDep, key: StaffKey) -> dict[str, Any]:
    cases.release(wf, case_id, staff_actor(key))
    return queue.case_view(wf, case_id)


@router.post("/cases/{case_id}/decision", status_code=201, summary="Decide a case")
def decide(case_id: str, body: DecisionIn, wf: WorkflowDep, key: StaffKey) -> dict[str, Any]:
    decision = decisions.decide(wf, case_id, decision_input(body), staff_actor(key))
    return decisions.get(wf, decision.id)


@router.get("/moderation-decisions/{decision_id}", summary="A moderation decision record")
def get_decision(decision_id: str, wf: WorkflowDep, _key: StaffKey) -> dict[str, Any]:
    return decisions.get(wf, decision_id)
