"""``/livez`` (the process answers), ``/readyz`` (it can screen content: database reachable,
every enabled detector ready) and ``/healthz`` (readiness, the original name). None needs a key.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from bastion import readiness
from bastion.api.deps import GuardDep
from bastion.api.schemas import Alive, CheckOut, ErrorOut, Health
from bastion.version import __version__

router = APIRouter(tags=["health"])

NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"model": Health, "description": "A check failed (listed in `checks`)."}
}


@router.get("/livez", response_model=Alive, summary="Liveness: the process answers (no key)")
def livez() -> Alive:
    return Alive()


def _readiness(guard: GuardDep) -> Any:
    checks = readiness.check(
        guard.db, guard.runner.detectors, timeout_s=guard.settings.readiness_timeout_ms / 1000
    )
    failed = [c for c in checks if not c.ok]
    health = Health(
        status="unavailable" if failed else "ok",
        version=__version__,
        database=guard.db.dialect,
        detectors=[d.name for d in guard.runner.detectors],
        checks=[CheckOut(name=c.name, ok=c.ok, detail=c.detail) for c in checks],
    )
    if not failed:
        return health
    message = "not ready: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
    health.error = ErrorOut(code="not_ready", message=message)
    return JSONResponse(health.model_dump(mode="json"), status_code=503)


router.add_api_route(
    "/readyz",
    _readiness,
    methods=["GET"],
    response_model=Health,
    responses=NOT_READY,
    summary="Readiness: database reachable and every detector ready (no key)",
    name="readyz",
)
router.add_api_route(
    "/healthz",
    _readiness,
    methods=["GET"],
    response_model=Health,
    responses=NOT_READY,
    summary="Readiness under its original name (same answer as /readyz; no key)",
    name="healthz",
)
