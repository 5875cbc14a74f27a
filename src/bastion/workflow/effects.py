"""A Guard effect that turns held or blocked uploads and outputs into cases.

In ``Components.effects`` (built by ``bastion.composition.effects``): every decision on the
``upload`` or ``output`` surface that is not ``allow`` becomes an automated detection about
each checked image, known only by its SHA-256 and PDQ hashes (never the image); the workflow
groups it with notices about the same item. Critical or escalated decisions, and re-uploads of
content removed as child sexual abuse, become child-safety cases (first in the queue, child-
safety reviewers). A detection the item's open case already has (same source and rule) is not
added again, so repeated re-uploads of one image do not flood the case."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bastion.content import Image
from bastion.hashing.detector import HASH_MATCH, PDQ_HASH
from bastion.hashing.model import BankKind
from bastion.policy.loader import sor_enums
from bastion.policy.model import Action, Decision, Severity, Surface
from bastion.storage.workflow import cases as case_repo
from bastion.storage.workflow import items as item_repo
from bastion.workflow.cases import DetectionInput, ItemInput, add_detection
from bastion.workflow.detector import REMOVED_IDENTICAL
from bastion.workflow.service import SYSTEM, Workflow

FALLBACK_CATEGORY = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"


class OpenCaseEffect:
    name = "open_case"

    def __init__(self, workflow: Workflow | Callable[[], Workflow]) -> None:
        # A workflow, or how to build one on first use (the composition root passes that).
        self._workflow = workflow

    @property
    def workflow(self) -> Workflow:
        if not isinstance(self._workflow, Workflow):
            self._workflow = self._workflow()
        return self._workflow

    def after(self, decision: Decision, items: Sequence[Any]) -> None:
        # A hold or block caused only by a detector failure says nothing about the content:
        # no case (the check already failed closed; reviewers would judge an outage).
        if decision.content_action is Action.ALLOW or decision.surface is Surface.GENERATION:
            return
        images = [(i.content.sha256, i.subject) for i in items if isinstance(i.content, Image)] or (
            [(decision.content_sha256, "")] if decision.content_sha256 else []
        )
        if not images:
            return
        workflow = self.workflow
        for sha256, subject in images:
            self._open(workflow, decision, sha256, subject)

    def _open(self, wf: Workflow, decision: Decision, sha256: str, subject: str) -> None:
        category = _category(decision, subject)
        source = f"guard_{decision.surface.value}"
        rules = [r.rule for r in decision.reasons if r.about_content]
        rule = rules[0] if rules else None
        if _already_open(wf, sha256, source, rule):
            return
        best = max((f.score for r in decision.reasons for f in r.findings), default=None)
        add_detection(
            wf,
            DetectionInput(
                item=ItemInput(sha256=sha256, pdq=_pdq(decision, subject, wf)),
                source=source,
                category=category,
                keywords=tuple(k for k in decision.keywords if _belongs(category, k)),
                rule=rule,
                score=best,
                guard_decision_id=decision.id,
                child_safety=decision.escalate or decision.severity is Severity.CRITICAL,
            ),
            SYSTEM,
        )


def _for(subject: str, finding_subject: str) -> bool:
    return not subject or finding_subject == subject


def _category(decision: Decision, subject: str) -> str:
    """The decision's category; for a stay-down match without a specific one, the category
    the matched content was removed for (a re-upload of removed content is the same case)."""
    category = decision.category
    if category and category != FALLBACK_CATEGORY:
        return category
    known = set(sor_enums()["STATEMENT_CATEGORIES"])
    for finding in decision.findings:
        if not _for(subject, finding.subject):
            continue
        if finding.label == REMOVED_IDENTICAL and finding.evidence.get("category") in known:
            return str(finding.evidence["category"])
        if (
            finding.label == HASH_MATCH
            and finding.evidence.get("bank_kind") == BankKind.REMOVED_CONTENT.value
        ):
            for label in finding.evidence.get("labels", ()):
                if label in known:
                    return str(label)
    return category or FALLBACK_CATEGORY


def _pdq(decision: Decision, subject: str, wf: Workflow) -> str | None:
    """The image's PDQ hash from the decision's ``pdq_hash`` finding, when good enough to match."""
    for finding in decision.findings:
        if finding.label == PDQ_HASH and _for(subject, finding.subject):
            quality = int(finding.evidence.get("quality", 0))
            if quality >= wf.settings.hash_min_quality:
                return str(finding.evidence["hash"])
    return None


def _already_open(wf: Workflow, sha256: str, source: str, rule: str | None) -> bool:
    """Whether the item's open case already has a detection from this source and rule."""
    with wf.db.connect() as conn:
        for item in item_repo.by_sha256(conn, sha256)[:1]:
            case = case_repo.open_for_item(conn, item.id)
            if case is not None and any(
                d.source == source and d.rule == rule for d in case_repo.detections(conn, case.id)
            ):
                return True
    return False


def _belongs(category: str, keyword: str) -> bool:
    hierarchy = sor_enums()["CATEGORY_HIERARCHY_IR_2024_2835"].get(category, {})
    return keyword in {k["keyword"] for k in hierarchy.get("keywords", [])}
