"""The workflow façade: one object with the database, settings, clock, stay-down seam and
outbox transport; the step modules (notices, cases, decisions, appeals, offenders) take it.

Every step runs in one transaction and writes its audit event inside it; messages are queued
in the same transaction and sent after the commit (see :mod:`bastion.workflow.outbox`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from bastion.clock import Clock, SystemClock
from bastion.hashing.banks import BankService
from bastion.settings import Settings
from bastion.staydown import StayDown
from bastion.storage.db import Database, on_commit
from bastion.storage.workflow import audit
from bastion.storage.workflow.audit import Head
from bastion.storage.workflow.audit_check import AuditCheck, verify
from bastion.workflow import witness
from bastion.workflow.grounds import Grounds, load_grounds
from bastion.workflow.outbox import SenderLoop, Transport, dispatch, transport_for

log = logging.getLogger("bastion.workflow")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does something: an API key (with its role), the public, or the system."""

    id: str
    role: str

    @property
    def label(self) -> str:
        return self.id if self.role in ("public", "system") else f"{self.role}:{self.id}"


PUBLIC = Actor("public", "public")
SYSTEM = Actor("system", "system")


class Workflow:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        secret: bytes,
        *,
        clock: Clock | None = None,
        stay_down: StayDown | None = None,
        transport: Transport | None = None,
        grounds: Grounds | None = None,
        new_token: Callable[[], str] | None = None,
        auto_dispatch: bool = True,
        background_dispatch: bool = False,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock or SystemClock()
        self.stay_down: StayDown = stay_down or StayDown(
            BankService.from_settings(settings, db, self.clock)
        )
        self.transport = transport or transport_for(settings)
        self.grounds = grounds or load_grounds(settings.grounds_file)
        self._secret = secret
        self._audit_key = audit.chain_key(secret)
        self._new_token = new_token or (lambda: secrets.token_urlsafe(24))
        self.auto_dispatch = auto_dispatch
        # Issue 10: the API acknowledges a committed step at once; mail follows from a
        # sender thread (never inside the request). Library callers keep inline sending.
        self.sender = (
            SenderLoop(self.send_pending, settings.outbox_poll_seconds)
            if background_dispatch
            else None
        )

    # -- helpers shared by the steps ------------------------------------------------------------

    def ref(self, value: str) -> str:
        """A keyed hash that links records about one person without storing a join key."""
        return hmac.new(self._secret, value.strip().lower().encode(), hashlib.sha256).hexdigest()

    def new_token(self) -> tuple[str, str]:
        """(clear token, its hash). The clear token only ever goes into a message."""
        token = self._new_token()
        return token, token_hash(token)

    def appeal_url(self, token: str) -> str:
        return f"{self.settings.public_url}/appeal?token={token}"

    def audit(
        self,
        conn: Connection,
        actor: Actor,
        event: str,
        subject_kind: str,
        subject_id: str,
        data: dict[str, Any] | None = None,
    ) -> None:
        head = audit.append(
            conn,
            self._audit_key,
            at=self.clock.now(),
            actor=actor.label,
            event=event,
            subject_kind=subject_kind,
            subject_id=subject_id,
            data=data,
        )
        path = self.settings.audit_witness_file
        if path is not None:
            on_commit(conn, "audit.witness", lambda: self._witness(path, head))

    def _witness(self, path: Path, head: Head) -> None:
        try:
            witness.record(path, head)
        except OSError:  # committed; the next step's head is witnessed instead
            log.exception("writing the audit witness %s failed", path)

    def send_pending(self) -> tuple[int, int]:
        """Send queued messages now. Failures stay queued for ``bastion outbox send``."""
        return dispatch(self.db, self.transport, self.clock, self.settings)

    def after_commit(self) -> None:
        """Called after every committed step: refresh stay-down matching, send messages."""
        try:
            self.stay_down.after_commit()
        except Exception:  # committed; the next bank sync applies it
            log.exception("refreshing stay-down matching failed; the next sync applies it")
        if not self.auto_dispatch:
            return
        if self.sender is not None:
            self.sender.wake()
            return
        try:
            self.send_pending()
        except Exception:  # the change is committed; a message problem must not undo it
            log.exception("sending queued messages failed; they stay queued")

    def verify_audit(self, witness_file: Path | None = None) -> AuditCheck:
        """Check the audit chain against its signed head and the witnessed heads."""
        witnessed = witness.read(witness_file, self._audit_key) if witness_file else []
        with self.db.connect() as conn:
            return verify(conn, self._audit_key, witnessed)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
