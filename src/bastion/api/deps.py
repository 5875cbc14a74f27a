"""Dependencies: the Guard from app state, and API-key authentication with roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from bastion.errors import AuthError, Forbidden
from bastion.guard import Guard
from bastion.storage.keys import ApiKey, ApiKeyRepository, Role

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer bst_…`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Or the key in X-API-Key")


def get_guard(request: Request) -> Guard:
    guard: Guard = request.app.state.guard
    return guard


def get_keys(request: Request) -> ApiKeyRepository:
    keys: ApiKeyRepository = request.app.state.keys
    return keys


def authenticated(
    keys: Annotated[ApiKeyRepository, Depends(get_keys)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> ApiKey:
    clear = bearer.credentials if bearer is not None else header
    if not clear:
        raise AuthError("an API key is required (Authorization: Bearer <key> or X-API-Key)")
    return keys.authenticate(clear)


def require(*roles: Role) -> Callable[[ApiKey], ApiKey]:
    """A dependency that admits keys with one of ``roles`` (admin is always admitted)."""
    allowed = {*roles, Role.ADMIN}

    def check(key: Annotated[ApiKey, Depends(authenticated)]) -> ApiKey:
        if key.role not in allowed:
            raise Forbidden(
                f"the {key.role.value} role cannot do this; needs one of: "
                f"{', '.join(sorted(r.value for r in allowed))}"
            )
        return key

    return check


# Banks whose entries (hashes with their case notes) only child-safety staff and admins read.
RESTRICTED_BANK_KINDS = frozenset({"csam", "ncii"})


def check_bank_reader(kind: str, name: str, key: ApiKey) -> None:
    """Refuse a key that may not read the entries of a CSAM or NCII bank (issue 10)."""
    if kind in RESTRICTED_BANK_KINDS and key.role not in (Role.CHILD_SAFETY, Role.ADMIN):
        raise Forbidden(
            f"the entries of {kind} bank {name!r} are for child_safety and admin keys only",
        )


GuardDep = Annotated[Guard, Depends(get_guard)]
ServiceKey = Annotated[ApiKey, Depends(require(Role.SERVICE))]
AnyKey = Annotated[ApiKey, Depends(authenticated)]
