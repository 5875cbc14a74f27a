"""Statements of reasons, appeals and the audit chain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from bastion.api.routes.cases import decision_input
from bastion.api.workflow_deps import (
    AdminKey,
    MaybeKey,
    ServiceOrStaffKey,
    StaffKey,
    WorkflowDep,
    actor_of,
    staff_actor,
)
from bastion.api.workflow_schemas import AppealDecisionIn, AppealIn
from bastion.errors import InvalidInput
from bastion.storage.workflow import decisions as decision_repo
from bastion.workflow import appeals
from bastion.workflow.model import AppealState

router = APIRouter(prefix="/v1", tags=["statements and appeals"])


@router.get("/statements", summary="Transparency Database payloads (format=tdb)")
def list_statements(
    wf: WorkflowDep,
    _key: StaffKey,
    format: Annotated[str, Query()] = "tdb",
) -> dict[str, Any]:
    if format != "tdb":
        raise InvalidInput("format must be tdb", field="format")
    with wf.db.connect() as conn:
        payloads = [s.payload for s in decision_repo.tdb_statements(conn)]
    return {"statements": payloads, "count": len(payloads)}


@router.get("/statements/{statement_id}", summary="One statement (text or TDB payload)")
def get_statement(statement_id: str, wf: WorkflowDep, _key: ServiceOrStaffKey) -> dict[str, Any]:
    with wf.db.connect() as conn:
        s = decision_repo.get_statement(conn, statement_id)
    return {
        "id": s.id,
        "decision_id": s.decision_id,
        "kind": s.kind,
        "recipient": s.recipient,
        "language": s.language,
        "created_at": s.created_at.isoformat(),
        "body": s.body,
        "payload": s.payload,
        "puid": s.puid,
        "tdb_status": s.tdb_status,
    }


@router.post("/appeals", status_code=201, summary="Lodge an appeal (no key; the link's token)")
def lodge(body: AppealIn, wf: WorkflowDep, key: MaybeKey) -> dict[str, Any]:
    return appeals.lodge(wf, body.token, body.explanation, actor_of(key)).public()


@router.get("/appeals", summary="Appeals (staff)")
def list_appeals(wf: WorkflowDep, _key: StaffKey, state: str | None = None) -> dict[str, Any]:
    try:
        wanted = AppealState(state) if state else None
    except ValueError:
        raise InvalidInput("state must be open or decided", field="state") from None
    found = appeals.listing(wf, wanted)
    return {"appeals": [a.public() for a in found], "count": len(found)}


@router.get("/appeals/outcomes", summary="Appeal outcome counts for the transparency report")
def outcomes(wf: WorkflowDep, _key: StaffKey) -> dict[str, Any]:
    return appeals.outcome_counts(wf)


@router.get("/appeals/{appeal_id}", summary="One appeal (staff)")
def get_appeal(appeal_id: str, wf: WorkflowDep, _key: StaffKey) -> dict[str, Any]:
    return appeals.get(wf, appeal_id).public()


@router.post("/appeals/{appeal_id}/decision", summary="Decide an appeal (another reviewer)")
def decide_appeal(
    appeal_id: str, body: AppealDecisionIn, wf: WorkflowDep, key: StaffKey
) -> dict[str, Any]:
    decided = appeals.decide(
        wf,
        appeal_id,
        outcome=body.outcome,
        response=body.response,
        actor=staff_actor(key),
        new_decision=decision_input(body.decision) if body.decision else None,
        manifestly_unfounded=body.manifestly_unfounded,
    )
    return decided.public()


@router.get("/audit/verify", summary="Check the audit hash chain (admin)")
def verify_audit(wf: WorkflowDep, _key: AdminKey) -> dict[str, Any]:
    return wf.verify_audit(wf.settings.audit_witness_file).public()
