"""API keys: stored only as HMAC hashes, shown once at creation, looked up by prefix."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, select, update

from bastion.clock import as_utc, utc, utcnow
from bastion.errors import AuthError, InvalidInput, NotFound
from bastion.policy.model import new_id
from bastion.storage.db import Database
from bastion.storage.tables import api_keys

log = logging.getLogger("bastion.storage")

KEY_PREFIX = "bst_"
LAST_USED_EVERY = timedelta(minutes=1)  # how often last_used_at is written, at most
_PREFIX_LEN = 12  # characters of the key used for lookup (after "bst_")


class Role(StrEnum):
    """Service roles. ``service``: check content. ``moderator`` / ``child_safety``: review
    cases (later issues). ``admin``: everything, including keys and banks."""

    SERVICE = "service"
    MODERATOR = "moderator"
    CHILD_SAFETY = "child_safety"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class ApiKeyRepository:
    def __init__(self, db: Database, secret: bytes) -> None:
        self.db = db
        self._secret = secret

    def _hash(self, key: str) -> str:
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()

    def create(self, name: str, role: Role | str) -> tuple[ApiKey, str]:
        """Create a key; returns the record and the clear key, which is never stored."""
        try:
            role = Role(role)
        except ValueError:
            raise InvalidInput(
                f"unknown role {role!r}; use one of: {', '.join(r.value for r in Role)}",
                field="role",
            ) from None
        if not name.strip() or len(name) > 200:
            raise InvalidInput("key name must be 1-200 characters", field="name")
        clear = KEY_PREFIX + secrets.token_urlsafe(32)
        record = ApiKey(
            id=new_id(),
            name=name,
            role=role,
            prefix=clear[: len(KEY_PREFIX) + _PREFIX_LEN],
            created_at=utcnow(),
        )
        with self.db.begin() as connection:
            connection.execute(
                api_keys.insert().values(
                    id=record.id,
                    prefix=record.prefix,
                    key_hash=self._hash(clear),
                    name=name,
                    role=role.value,
                    created_at=record.created_at,
                )
            )
        return record, clear

    def authenticate(self, clear: str) -> ApiKey:
        if not clear.startswith(KEY_PREFIX) or len(clear) < len(KEY_PREFIX) + _PREFIX_LEN:
            raise AuthError("invalid API key")
        prefix = clear[: len(KEY_PREFIX) + _PREFIX_LEN]
        with self.db.connect() as connection:
            query = select(api_keys).where(api_keys.c.prefix == prefix)
            row = connection.execute(query).one_or_none()
        if row is None or not hmac.compare_digest(row.key_hash, self._hash(clear)):
            raise AuthError("invalid API key")
        if row.revoked_at is not None:
            raise AuthError("this API key was revoked")
        key = _key(row)
        self._touch(key)
        return key

    def _touch(self, key: ApiKey) -> None:
        """Record when a key was last used, at most once a minute (not a write per request);
        a failure to record it never refuses the request."""
        now = utcnow()
        last = as_utc(key.last_used_at)
        if last is not None and now - last < LAST_USED_EVERY:
            return
        try:
            with self.db.begin() as connection:
                connection.execute(
                    update(api_keys).where(api_keys.c.id == key.id).values(last_used_at=now)
                )
        except Exception:  # best effort: authentication already succeeded
            log.warning("could not record last use of key %s", key.prefix, exc_info=True)

    def list(self) -> list[ApiKey]:
        with self.db.connect() as connection:
            rows = connection.execute(select(api_keys).order_by(api_keys.c.created_at)).all()
        return [_key(row) for row in rows]

    def revoke(self, key_id: str) -> None:
        with self.db.begin() as connection:
            result = connection.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
        if not result.rowcount:
            raise NotFound(f"no active API key with id {key_id!r}", field="key_id")


def _key(row: Row[Any]) -> ApiKey:
    values = row._mapping
    return ApiKey(
        id=values["id"],
        name=values["name"],
        role=Role(values["role"]),
        prefix=values["prefix"],
        created_at=utc(values["created_at"]),
        revoked_at=as_utc(values["revoked_at"]),
        last_used_at=as_utc(values["last_used_at"]),
    )
