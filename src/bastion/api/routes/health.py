from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from bastion import __version__
from bastion.api.deps import GuardDep
from bastion.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness and readiness (no key needed)")
def healthz(guard: GuardDep) -> Health:
    with guard.db.connect() as connection:
        connection.execute(text("SELECT 1"))
    return Health(
        status="ok",
        version=__version__,
        database=guard.db.dialect,
        detectors=[d.name for d in guard.runner.detectors],
    )
