"""Notices (public intake, DSA Art. 16) and content registration / detections (service)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from bastion.api.workflow_deps import (
    MaybeKey,
    ServiceOrStaffKey,
    StaffKey,
    WorkflowDep,
    actor_of,
)
from bastion.api.workflow_schemas import DetectionIn, ItemIn, NoticeIn
from bastion.errors import Conflict, NotFound
from bastion.storage.workflow import items as item_repo
from bastion.workflow import cases, notices
from bastion.workflow.cases import DetectionInput, ItemInput
from bastion.workflow.notices import NoticeInput

router = APIRouter(prefix="/v1", tags=["notices"])


class StayDownMatch(Conflict):
    code = "stay_down_match"


def item_input(body: ItemIn) -> ItemInput:
    return ItemInput(**{**body.model_dump(), "content_types": tuple(body.content_types)})


@router.post(
    "/notices",
    status_code=201,
    summary="Submit a notice (no key needed; trusted flaggers and staff send theirs with a key)",
)
def submit_notice(body: NoticeIn, wf: WorkflowDep, key: MaybeKey) -> dict[str, Any]:
    flagger = notices.flagger_for(wf, key.id) if key else None
    receipt = notices.submit(
        wf, NoticeInput(**body.model_dump()), channel="api", actor=actor_of(key), flagger=flagger
    )
    now = wf.clock.now()
    return {
        "id": receipt.notice.id,
        "received_at": receipt.notice.received_at.isoformat(),
        "type": receipt.notice.type.value,
        "case_ids": list(receipt.case_ids),
        "deadlines": [d.public(now) for d in receipt.deadlines],
    }


@router.get("/notices/{notice_id}", summary="A notice (staff)")
def get_notice(notice_id: str, wf: WorkflowDep, _key: StaffKey) -> dict[str, Any]:
    return notices.get(wf, notice_id)


@router.post("/content", status_code=201, summary="Register an upload (refused if stayed down)")
def register_content(body: ItemIn, wf: WorkflowDep, key: ServiceOrStaffKey) -> dict[str, Any]:
    given = item_input(body)
    given.validate()
    with wf.db.begin() as conn:
        if given.sha256:
            removed = wf.stay_down.lookup(conn, given.sha256)
            if removed is not None:
                wf.audit(
                    conn,
                    actor_of(key),
                    "upload.blocked",
                    "item",
                    str(removed["item_id"]),
                    {"sha256": given.sha256},
                )
                raise StayDownMatch(
                    "this content was removed and may not be uploaded again "
                    f"(stay-down, decision {removed['decision_id']})",
                    field="sha256",
                )
        item = cases.resolve_item(conn, wf, given)
    return item.public()


@router.get("/content/{content_id}", summary="An item's moderation state")
def get_content(content_id: str, wf: WorkflowDep, _key: ServiceOrStaffKey) -> dict[str, Any]:
    with wf.db.connect() as conn:
        item = item_repo.by_content_id(conn, content_id)
    if item is None:
        raise NotFound(f"no item with content id {content_id!r}", field="content_id")
    return item.public()


@router.post("/detections", status_code=201, summary="Report an automated detection")
def add_detection(body: DetectionIn, wf: WorkflowDep, key: ServiceOrStaffKey) -> JSONResponse:
    case, detection = cases.add_detection(
        wf,
        DetectionInput(
            item=item_input(body.item),
            source=body.source,
            category=body.category,
            keywords=tuple(body.keywords),
            rule=body.rule,
            score=body.score,
            guard_decision_id=body.guard_decision_id,
        ),
        actor_of(key),
    )
    return JSONResponse({"case_id": case.id, "detection_id": detection.id}, status_code=201)
