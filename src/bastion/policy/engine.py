"""The policy engine: rules over findings and context → the reasons of a Decision.

Fail-closed is not a rule an operator can delete: any ``detector_error`` finding adds the
built-in ``detector_failure`` reason, which blocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bastion.findings import DETECTOR_ERROR, Finding
from bastion.policy.model import FAIL_CLOSED_RULE, Action, Reason, Severity, Surface
from bastion.policy.rules import Policy

__all__ = ["DETECTOR_ERROR", "FAIL_CLOSED_RULE", "evaluate"]


def evaluate(
    policy: Policy,
    findings: Sequence[Finding],
    *,
    surface: Surface,
    context: Mapping[str, Any],
) -> list[Reason]:
    reasons: list[Reason] = []
    for rule in policy.rules:
        if surface not in rule.surfaces:
            continue
        fired, used = rule.when.evaluate(findings, context)
        if not fired:
            continue
        category, keywords = rule.category, rule.keywords
        for refinement in rule.refine:
            if refinement.when.evaluate(findings, context)[0]:
                category = refinement.category or category
                keywords = refinement.keywords or keywords
                break
        reasons.append(
            Reason(
                rule=rule.id,
                description=rule.description,
                action=rule.action,
                severity=rule.severity,
                findings=used,
                category=category,
                keywords=keywords,
                escalate=rule.escalate,
            )
        )
    errors = tuple(f for f in findings if f.label == DETECTOR_ERROR)
    if errors:
        reasons.append(
            Reason(
                rule=FAIL_CLOSED_RULE,
                description="A detector failed or timed out; generation paths fail closed.",
                action=Action.BLOCK,
                severity=Severity.HIGH,
                findings=errors,
            )
        )
    return reasons
