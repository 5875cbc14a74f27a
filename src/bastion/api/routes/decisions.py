from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from bastion.api.deps import AnyKey, GuardDep
from bastion.api.schemas import DecisionOut

router = APIRouter(prefix="/v1", tags=["decisions"])


@router.get("/decisions/{decision_id}", response_model=DecisionOut, summary="A stored decision")
def get_decision(decision_id: str, guard: GuardDep, _key: AnyKey) -> dict[str, Any]:
    return guard.get_decision(decision_id).to_dict()
