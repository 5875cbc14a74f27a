"""A decision as text for people: the verdict, every rule that fired and the evidence it used."""

from __future__ import annotations

from bastion.findings import Finding
from bastion.policy.model import Decision


def _finding_line(finding: Finding) -> str:
    text = finding.explanation or finding.label
    return f"{finding.label} {finding.score:.2f} [{finding.detector} on {finding.subject}] {text}"


def render(decision: Decision) -> str:
    lines = [
        f"{decision.action.value.upper()} ({decision.severity.value}) "
        f"{decision.surface.value} decision {decision.id}"
    ]
    if decision.language:
        lines.append(f"language: {decision.language}")
    if decision.reasons:
        lines.append("rules fired:")
        for reason in decision.reasons:
            tags = " / ".join(x for x in (reason.category, *reason.keywords) if x)
            lines.append(
                f"  - {reason.rule} -> {reason.action.value} ({reason.severity.value})"
                + (f" [{tags}]" if tags else "")
            )
            lines.append(f"    {reason.description}")
            for finding in reason.findings:
                lines.append(f"      * {_finding_line(finding)}")
    else:
        lines.append("rules fired: none")
    others = [
        f
        for f in decision.findings
        if f.label != "language"
        and not any(f == g for reason in decision.reasons for g in reason.findings)
    ]
    if others:
        lines.append("other findings:")
        lines.extend(f"  * {_finding_line(f)}" for f in others)
    return "\n".join(lines)
