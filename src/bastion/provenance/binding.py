"""What may be marked: only an output that its own output check allowed.

A watermark and a C2PA manifest say "made by this service and checked"; they are bound to the
stored **output** decision about exactly these bytes, never to a generation decision (an
allowed prompt says nothing about the image the model made) or an upload decision.
"""

from __future__ import annotations

import hashlib

from bastion.errors import NotAnOutputDecision, NotFound, OutputMismatch, OutputNotAllowed
from bastion.policy.model import Action, Decision, Surface


def check_markable(stored: Decision, data: bytes, *, principal: str | None) -> None:
    """Raise unless ``stored`` is an allowed output decision about ``data``, taken (for an API
    caller) with the same ``principal``; another principal's decision is :class:`NotFound`."""
    if principal is not None and stored.principal != principal:
        raise NotFound(f"no decision with id {stored.id!r}", field="decision_id")
    if stored.surface is not Surface.OUTPUT:
        raise NotAnOutputDecision(
            f"decision {stored.id} is a {stored.surface.value} decision; only the output's own "
            "output check (POST /v1/outputs/check) can mark it",
            field="decision_id",
        )
    if stored.action is not Action.ALLOW:
        raise OutputNotAllowed(
            f"decision {stored.id} is {stored.action.value}; only allowed outputs are marked",
            field="decision_id",
        )
    if stored.content_sha256 != hashlib.sha256(data).hexdigest():
        raise OutputMismatch(
            f"decision {stored.id} was taken about other bytes; mark exactly the image that "
            "was checked",
            field="image",
        )
