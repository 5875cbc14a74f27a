"""The Guard effect that opens cases for blocked uploads (wired by the lead with issue 4)."""

from __future__ import annotations

from bastion.findings import Finding
from bastion.guard import Guard
from bastion.policy.model import Action, Decision, Reason, Severity, Surface
from bastion.workflow import queue
from bastion.workflow.effects import OpenCaseEffect
from bastion.workflow.service import Workflow


def test_blocked_upload_becomes_a_case(guard: Guard) -> None:
    wf = Workflow.from_guard(guard, auto_dispatch=False)
    finding = Finding("pdq_bank", "bank_match", 1.0)
    decision = Decision(
        action=Action.BLOCK,
        severity=Severity.CRITICAL,
        surface=Surface.UPLOAD,
        reasons=(
            Reason(
                "known_hash_match",
                "d",
                Action.BLOCK,
                Severity.CRITICAL,
                (finding,),
                "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
                ("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",),
            ),
        ),
        content_sha256="aa" * 32,
    )
    effect = OpenCaseEffect(wf)
    effect.after(guard, decision, [])
    effect.after(
        guard, Decision(Action.ALLOW, Severity.NONE, Surface.UPLOAD, content_sha256="bb" * 32), []
    )
    found = queue.queue(wf)
    assert len(found) == 1
    assert found[0]["child_safety"] is True
    assert found[0]["keywords"] == ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]
