"""A Guard effect that turns held or blocked uploads and outputs into cases.

Wire it into ``Components.effects`` (see docs/workflow.md, "Stay-down seam"): every decision on
the ``upload`` or ``output`` surface that is not ``allow`` and carries a content hash becomes an
automated detection; the workflow groups it with notices about the same item.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bastion.policy.model import Action, Decision, Surface
from bastion.workflow.cases import DetectionInput, ItemInput, add_detection
from bastion.workflow.service import SYSTEM, Workflow

if TYPE_CHECKING:
    from bastion.guard import Guard

FALLBACK_CATEGORY = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"


class OpenCaseEffect:
    name = "open_case"

    def __init__(self, workflow: Workflow | None = None) -> None:
        self.workflow = workflow

    def after(self, guard: Guard, decision: Decision, items: Sequence[Any]) -> None:
        if decision.action is Action.ALLOW or decision.surface is Surface.GENERATION:
            return
        if not decision.content_sha256:
            return
        workflow = self.workflow or Workflow.from_guard(guard)
        category = decision.category or FALLBACK_CATEGORY
        best = max((f.score for r in decision.reasons for f in r.findings), default=None)
        add_detection(
            workflow,
            DetectionInput(
                item=ItemInput(sha256=decision.content_sha256),
                source=f"guard_{decision.surface.value}",
                category=category,
                keywords=tuple(k for k in decision.keywords if _belongs(category, k)),
                rule=decision.rules[0] if decision.rules else None,
                score=best,
                guard_decision_id=decision.id,
            ),
            SYSTEM,
        )


def _belongs(category: str, keyword: str) -> bool:
    from bastion.policy.loader import sor_enums

    hierarchy = sor_enums()["CATEGORY_HIERARCHY_IR_2024_2835"].get(category, {})
    return keyword in {k["keyword"] for k in hierarchy.get("keywords", [])}
