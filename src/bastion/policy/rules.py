"""Rules as data: conditions over findings and context, apart from the actions they take.

A condition returns whether it holds and which findings it used; the engine puts those
findings on the Reason, so every decision shows its evidence.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bastion.findings import Finding
from bastion.policy.model import Action, Severity, Surface


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a piece of policy came from, for ``file:line`` messages."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class Condition(Protocol):
    @property
    def origin(self) -> Origin: ...

    def evaluate(
        self, findings: Sequence[Finding], context: Mapping[str, Any]
    ) -> tuple[bool, tuple[Finding, ...]]: ...

    def labels(self) -> set[str]: ...


def _is_in(value: Any, options: Any) -> bool:
    return value in options


_COMPARATORS: dict[str, Callable[[Any, Any], Any]] = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "eq": operator.eq,
    "ne": operator.ne,
    "in": _is_in,
}
COMPARATORS = frozenset(_COMPARATORS)


@dataclass(frozen=True, slots=True)
class EvidenceTest:
    key: str
    op: str
    value: Any

    def holds(self, evidence: Mapping[str, Any]) -> bool:
        if self.key not in evidence:
            return False
        actual = evidence[self.key]
        try:
            return bool(_COMPARATORS[self.op](actual, self.value))
        except TypeError:
            return False


@dataclass(frozen=True, slots=True)
class FindingMatch:
    """Holds when at least one finding matches every given constraint."""

    origin: Origin
    label: frozenset[str] = frozenset()
    detector: frozenset[str] = frozenset()
    subject: tuple[str, ...] = ()  # exact names, or prefixes ending in '*'
    min_score: float = 0.0
    max_score: float = 1.0
    where: tuple[EvidenceTest, ...] = ()

    def _subject_ok(self, subject: str) -> bool:
        if not self.subject:
            return True
        return any(
            subject.startswith(s[:-1]) if s.endswith("*") else subject == s for s in self.subject
        )

    def matches(self, finding: Finding) -> bool:
        return (
            (not self.label or finding.label in self.label)
            and (not self.detector or finding.detector in self.detector)
            and self.min_score <= finding.score <= self.max_score
            and self._subject_ok(finding.subject)
            and all(test.holds(finding.evidence) for test in self.where)
        )

    def evaluate(
        self, findings: Sequence[Finding], context: Mapping[str, Any]
    ) -> tuple[bool, tuple[Finding, ...]]:
        used = tuple(f for f in findings if self.matches(f))
        return bool(used), used

    def labels(self) -> set[str]:
        return set(self.label)


@dataclass(frozen=True, slots=True)
class ContextMatch:
    """Holds when every key of the check's context equals the given value."""

    origin: Origin
    expected: Mapping[str, Any] = field(default_factory=dict)

    def evaluate(
        self, findings: Sequence[Finding], context: Mapping[str, Any]
    ) -> tuple[bool, tuple[Finding, ...]]:
        ok = all(context.get(key) == value for key, value in self.expected.items())
        return ok, ()

    def labels(self) -> set[str]:
        return set()


@dataclass(frozen=True, slots=True)
class AllOf:
    origin: Origin
    parts: tuple[Condition, ...]

    def evaluate(
        self, findings: Sequence[Finding], context: Mapping[str, Any]
    ) -> tuple[bool, tuple[Finding, ...]]:
        used: list[Finding] = []
        for part in self.parts:
            ok, part_used = part.evaluate(findings, context)
            if not ok:
                return False, ()
            used.extend(part_used)
        return True, _unique(used)

    def labels(self) -> set[str]:
        return set().union(*(p.labels() for p in self.parts))


@dataclass(frozen=True, slots=True)
class AnyOf:
    origin: Origin
    parts: tuple[Condition, ...]

    def evaluate(
        self, findings: Sequence[Finding], context: Mapping[str, Any]
    ) -> tuple[bool, tuple[Finding, ...]]:
        used: list[Finding] = []
        hit = False
        for part in self.parts:  # evaluate all parts so the reason lists every finding used
            ok, part_used = part.evaluate(findings, context)
            if ok:
                hit = True
                used.extend(part_used)
        return hit, _unique(used) if hit else ()

    def labels(self) -> set[str]:
        return set().union(*(p.labels() for p in self.parts))


@dataclass(frozen=True, slots=True)
class Not:
    origin: Origin
    part: Condition

    def evaluate(
        self, findings: Sequence[Finding], context: Mapping[str, Any]
    ) -> tuple[bool, tuple[Finding, ...]]:
        ok, _ = self.part.evaluate(findings, context)
        return not ok, ()

    def labels(self) -> set[str]:
        return self.part.labels()


def _unique(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    seen: dict[int, Finding] = {}
    for finding in findings:
        seen.setdefault(id(finding), finding)
    return tuple(seen.values())


@dataclass(frozen=True, slots=True)
class Refinement:
    """A more specific category/keywords for a rule when an extra condition holds."""

    when: Condition
    category: str | None
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    description: str
    when: Condition
    action: Action
    severity: Severity
    origin: Origin
    surfaces: frozenset[Surface] = frozenset(Surface)
    category: str | None = None
    keywords: tuple[str, ...] = ()
    escalate: bool = False
    refine: tuple[Refinement, ...] = ()

    def labels(self) -> set[str]:
        labels = self.when.labels()
        for refinement in self.refine:
            labels |= refinement.when.labels()
        return labels


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    rules: tuple[Rule, ...]
    source: str
