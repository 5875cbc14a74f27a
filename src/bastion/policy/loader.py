"""Load and validate a policy file. Every problem is a PolicyError naming ``file:line``.

The file is validated completely at load time, so a bad policy fails when it is installed,
never at request time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bastion.errors import PolicyError
from bastion.policy.model import Action, Severity, Surface
from bastion.policy.rules import (
    COMPARATORS,
    AllOf,
    AnyOf,
    Condition,
    ContextMatch,
    EvidenceTest,
    FindingMatch,
    Not,
    Origin,
    Policy,
    Refinement,
    Rule,
)

DEFAULT_POLICY = "default.yaml"
_RULE_KEYS = {
    "id",
    "description",
    "when",
    "action",
    "severity",
    "surfaces",
    "category",
    "keywords",
    "escalate",
    "refine",
}
_FINDING_KEYS = {"label", "detector", "subject", "min_score", "max_score", "where"}


@cache
def sor_enums() -> dict[str, Any]:
    """The official statement-of-reasons enumerations shipped with the package."""
    text = resources.files("bastion").joinpath("data/sor_enums.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file

    def origin(self, node: yaml.Node) -> Origin:
        return Origin(self.file, node.start_mark.line + 1)

    def fail(self, node: yaml.Node, message: str) -> PolicyError:
        return PolicyError(f"{self.origin(node)}: {message}")

    def mapping(self, node: yaml.Node, what: str, allowed: set[str]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if not isinstance(key_node, yaml.ScalarNode) or key not in allowed:
                raise self.fail(
                    key_node,
                    f"unknown key {key!r} in {what}; allowed: {', '.join(sorted(allowed))}",
                )
            if key in out:
                raise self.fail(key_node, f"duplicate key {key!r} in {what}")
            out[key] = value_node
        return out

    def scalar(self, node: yaml.Node, what: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{what} must be a single value")
        return yaml.safe_load(yaml.serialize(node))

    def text(self, node: yaml.Node, what: str) -> str:
        value = self.scalar(node, what)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(node, f"{what} must be a non-empty string")
        return value

    def number(self, node: yaml.Node, what: str, low: float, high: float) -> float:
        value = self.scalar(node, what)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise self.fail(node, f"{what} must be a number between {low} and {high}")
        return float(value)

    def strings(self, node: yaml.Node, what: str) -> tuple[str, ...]:
        if isinstance(node, yaml.ScalarNode):
            return (self.text(node, what),)
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail(node, f"{what} must be a string or a non-empty list of strings")
        return tuple(self.text(item, what) for item in node.value)

    def choice(self, node: yaml.Node, what: str, options: Iterable[str]) -> str:
        value = self.text(node, what)
        allowed = list(options)
        if value not in allowed:
            raise self.fail(node, f"{what} {value!r} is not one of: {', '.join(allowed)}")
        return value

    # -- conditions ---------------------------------------------------------------------------

    def condition(self, node: yaml.Node) -> Condition:
        keys = self.mapping(node, "condition", {"all", "any", "not", "finding", "context"})
        if len(keys) != 1:
            raise self.fail(node, "a condition has exactly one of: all, any, not, finding, context")
        ((kind, value),) = keys.items()
        origin = self.origin(node)
        if kind in ("all", "any"):
            if not isinstance(value, yaml.SequenceNode) or not value.value:
                raise self.fail(value, f"'{kind}' needs a non-empty list of conditions")
            parts = tuple(self.condition(item) for item in value.value)
            return AllOf(origin, parts) if kind == "all" else AnyOf(origin, parts)
        if kind == "not":
            return Not(origin, self.condition(value))
        if kind == "context":
            expected = self.scalar_map(value, "context")
            return ContextMatch(origin, expected)
        return self.finding(value)

    def scalar_map(self, node: yaml.Node, what: str) -> dict[str, Any]:
        if not isinstance(node, yaml.MappingNode) or not node.value:
            raise self.fail(node, f"{what} must be a non-empty mapping")
        return {self.text(k, f"{what} key"): self.scalar(v, f"{what} value") for k, v in node.value}

    def finding(self, node: yaml.Node) -> FindingMatch:
        keys = self.mapping(node, "finding", _FINDING_KEYS)
        if "label" not in keys and "detector" not in keys:
            raise self.fail(node, "a finding condition needs a label or a detector")
        min_score = (
            self.number(keys["min_score"], "min_score", 0, 1) if "min_score" in keys else 0.0
        )
        max_score = (
            self.number(keys["max_score"], "max_score", 0, 1) if "max_score" in keys else 1.0
        )
        if min_score > max_score:
            raise self.fail(node, "min_score is greater than max_score")
        where: list[EvidenceTest] = []
        if "where" in keys:
            for key_node, test_node in self.mapping_items(keys["where"], "where"):
                for op, value in self.scalar_map(test_node, "comparison").items():
                    if op not in COMPARATORS:
                        raise self.fail(
                            test_node,
                            f"unknown comparison {op!r}; use {', '.join(sorted(COMPARATORS))}",
                        )
                    where.append(EvidenceTest(key_node.value, op, value))
        return FindingMatch(
            origin=self.origin(node),
            label=frozenset(self.strings(keys["label"], "label"))
            if "label" in keys
            else frozenset(),
            detector=(
                frozenset(self.strings(keys["detector"], "detector"))
                if "detector" in keys
                else frozenset()
            ),
            subject=self.strings(keys["subject"], "subject") if "subject" in keys else (),
            min_score=min_score,
            max_score=max_score,
            where=tuple(where),
        )

    def mapping_items(self, node: yaml.Node, what: str) -> list[tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode) or not node.value:
            raise self.fail(node, f"{what} must be a non-empty mapping")
        return list(node.value)

    # -- rules --------------------------------------------------------------------------------

    def category(self, node: yaml.Node) -> str:
        return self.choice(node, "category", sor_enums()["STATEMENT_CATEGORIES"])

    def keywords(self, node: yaml.Node) -> tuple[str, ...]:
        allowed = set(sor_enums()["KEYWORDS"])
        values = self.strings(node, "keywords")
        for value in values:
            if value not in allowed:
                raise self.fail(node, f"keyword {value!r} is not a statement-of-reasons keyword")
        return values

    def rule(self, node: yaml.Node) -> Rule:
        keys = self.mapping(node, "rule", _RULE_KEYS)
        for required in ("id", "description", "when", "action", "severity"):
            if required not in keys:
                raise self.fail(node, f"rule is missing '{required}'")
        rule_id = self.text(keys["id"], "id")
        if not rule_id.replace("_", "").isalnum() or not rule_id.islower():
            raise self.fail(keys["id"], f"rule id {rule_id!r} must be lower_snake_case")
        surfaces = frozenset(Surface)
        if "surfaces" in keys:
            surfaces = frozenset(
                Surface(self.choice(n, "surface", [s.value for s in Surface]))
                for n in self._items(keys["surfaces"], "surfaces")
            )
        refine: list[Refinement] = []
        if "refine" in keys:
            for item in self._items(keys["refine"], "refine"):
                rkeys = self.mapping(item, "refinement", {"when", "category", "keywords"})
                if "when" not in rkeys:
                    raise self.fail(item, "a refinement needs 'when'")
                refine.append(
                    Refinement(
                        when=self.condition(rkeys["when"]),
                        category=self.category(rkeys["category"]) if "category" in rkeys else None,
                        keywords=self.keywords(rkeys["keywords"]) if "keywords" in rkeys else (),
                    )
                )
        escalate = False
        if "escalate" in keys:
            escalate = self.scalar(keys["escalate"], "escalate")
            if not isinstance(escalate, bool):
                raise self.fail(keys["escalate"], "escalate must be true or false")
        return Rule(
            id=rule_id,
            description=self.text(keys["description"], "description"),
            when=self.condition(keys["when"]),
            action=Action(self.choice(keys["action"], "action", [a.value for a in Action])),
            severity=Severity(
                self.choice(keys["severity"], "severity", [s.value for s in Severity])
            ),
            origin=self.origin(node),
            surfaces=surfaces,
            category=self.category(keys["category"]) if "category" in keys else None,
            keywords=self.keywords(keys["keywords"]) if "keywords" in keys else (),
            escalate=escalate,
            refine=tuple(refine),
        )

    def _items(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail(node, f"{what} must be a non-empty list")
        return list(node.value)

    def policy(self, text: str) -> Policy:
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            problem = getattr(exc, "problem", None) or str(exc)
            raise PolicyError(f"{self.file}:{line}: invalid YAML: {problem}") from exc
        if root is None:
            raise PolicyError(f"{self.file}:1: the policy file is empty")
        keys = self.mapping(root, "policy", {"version", "name", "rules"})
        if "version" not in keys or self.scalar(keys["version"], "version") != 1:
            raise self.fail(root, "the policy needs 'version: 1'")
        name = self.text(keys["name"], "name") if "name" in keys else Path(self.file).stem
        if "rules" not in keys:
            raise self.fail(root, "the policy has no 'rules'")
        rules = [self.rule(item) for item in self._items(keys["rules"], "rules")]
        seen: dict[str, Rule] = {}
        for rule in rules:
            if rule.id in seen:
                first = seen[rule.id].origin
                raise PolicyError(f"{rule.origin}: duplicate rule id {rule.id!r} (also at {first})")
            seen[rule.id] = rule
        return Policy(name=name, rules=tuple(rules), source=self.file)


def parse_policy(text: str, *, file: str = "<policy>") -> Policy:
    return _Reader(file).policy(text)


def load_policy(path: Path | None = None) -> Policy:
    """Load ``path``, or the built-in default policy when ``path`` is None."""
    if path is None:
        resource = resources.files("bastion.policy").joinpath(DEFAULT_POLICY)
        return parse_policy(resource.read_text("utf-8"), file=f"bastion/policy/{DEFAULT_POLICY}")
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read the policy file: {exc}") from exc
    return parse_policy(text, file=str(path))


def check_labels(policy: Policy, known: set[str]) -> None:
    """Fail when a rule names a label that no registered detector (or the guard) produces."""
    for rule in policy.rules:
        unknown = sorted(rule.labels() - known)
        if unknown:
            raise PolicyError(
                f"{rule.origin}: rule {rule.id!r} uses label(s) {', '.join(unknown)} that no "
                f"registered detector produces; known labels: {', '.join(sorted(known))}"
            )
