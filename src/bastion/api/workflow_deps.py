"""Dependencies of the workflow routes: the Workflow (built once per app) and an optional key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bastion.api.deps import get_guard, get_keys, require
from bastion.errors import Forbidden
from bastion.storage.keys import ApiKey, Role
from bastion.workflow.service import PUBLIC, Actor, Workflow


def get_workflow(request: Request) -> Workflow:
    workflow: Workflow | None = getattr(request.app.state, "workflow", None)
    if workflow is None:
        workflow = get_guard(request).workflow(background_dispatch=True)
        request.app.state.workflow = workflow
    return workflow


def optional_key(request: Request) -> ApiKey | None:
    """The caller's key when one is sent (public routes accept anonymous callers too)."""
    auth = request.headers.get("authorization", "")
    clear = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    clear = clear or request.headers.get("x-api-key")
    if not clear:
        return None
    return get_keys(request).authenticate(clear)


def actor_of(key: ApiKey | None) -> Actor:
    return Actor(key.id, key.role.value) if key else PUBLIC


def staff_actor(key: ApiKey) -> Actor:
    if key.role not in (Role.MODERATOR, Role.CHILD_SAFETY, Role.ADMIN):
        raise Forbidden("needs a moderator, child_safety or admin key")
    return Actor(key.id, key.role.value)


WorkflowDep = Annotated[Workflow, Depends(get_workflow)]
MaybeKey = Annotated[ApiKey | None, Depends(optional_key)]
StaffKey = Annotated[ApiKey, Depends(require(Role.MODERATOR, Role.CHILD_SAFETY))]
AdminKey = Annotated[ApiKey, Depends(require(Role.ADMIN))]
ServiceOrStaffKey = Annotated[
    ApiKey, Depends(require(Role.SERVICE, Role.MODERATOR, Role.CHILD_SAFETY))
]
