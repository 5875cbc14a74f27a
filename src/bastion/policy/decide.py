"""From findings to a Decision: the caller's context, the policy's reasons, the action."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bastion.errors import InvalidInput
from bastion.findings import Finding
from bastion.policy.engine import evaluate
from bastion.policy.model import Decision, Surface, combine
from bastion.policy.rules import Policy

# Context keys a caller may set; everything else is rejected so typos do not pass silently.
CALLER_CONTEXT_KEYS = frozenset({"verified_adult", "user_id", "platform", "feature"})


def caller_context(
    surface: Surface, context: Mapping[str, Any] | None, *, allow_verified_adult: bool
) -> dict[str, Any]:
    """The caller's context, validated; ``verified_adult`` only counts when the operator
    allows adult content (``allow_verified_adult_content``)."""
    given = dict(context or {})
    unknown = sorted(set(given) - CALLER_CONTEXT_KEYS)
    if unknown:
        raise InvalidInput(
            f"unknown context key(s): {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(CALLER_CONTEXT_KEYS))}",
            field="context",
        )
    if "verified_adult" in given and not isinstance(given["verified_adult"], bool):
        raise InvalidInput("context.verified_adult must be true or false", field="context")
    if not allow_verified_adult:
        given.pop("verified_adult", None)
    given["surface"] = surface.value
    return given


def decide(
    policy: Policy,
    findings: Sequence[Finding],
    surface: Surface,
    context: dict[str, Any],
    *,
    now: datetime,
    request_id: str | None = None,
) -> Decision:
    reasons = evaluate(policy, findings, surface=surface, context=context)
    action, severity = combine(reasons)
    language = next((str(f.evidence["language"]) for f in findings if f.label == "language"), None)
    return Decision(
        action=action,
        severity=severity,
        surface=surface,
        reasons=tuple(reasons),
        findings=tuple(findings),
        policy=policy.name,
        request_id=request_id,
        language=language,
        created_at=now,
    )
