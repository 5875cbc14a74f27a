"""Policy files are validated completely at load, with file:line in every error."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.errors import PolicyError
from bastion.policy.loader import check_labels, load_policy, parse_policy

GOOD = """\
version: 1
name: strict
rules:
  - id: any_nudity
    description: Block any nudity.
    when: {finding: {label: sexual_explicit, min_score: 0.5}}
    action: block
    severity: high
    category: STATEMENT_CATEGORY_OTHER_VIOLATION_TC
    keywords: [KEYWORD_NUDITY]
"""


def test_default_policy_loads() -> None:
    policy = load_policy()
    ids = [rule.id for rule in policy.rules]
    assert ids[0] == "minor_sexual_content"
    assert "real_person_sexual_edit" in ids
    assert len(ids) == len(set(ids))


def test_operator_file(tmp_path: Path) -> None:
    path = tmp_path / "strict.yaml"
    path.write_text(GOOD)
    policy = load_policy(path)
    assert policy.name == "strict"
    assert policy.rules[0].origin.line == 4
    assert str(policy.rules[0].origin) == f"{path}:4"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "empty"),
        ("version: 1\nrules: [\n", 3, "invalid YAML"),
        ("version: 2\nrules: []\n", 1, "version: 1"),
        ("version: 1\n", 1, "no 'rules'"),
        (GOOD.replace("action: block", "action: destroy"), 7, "action 'destroy'"),
        (GOOD.replace("severity: high", "severity: huge"), 8, "severity"),
        (GOOD.replace("KEYWORD_NUDITY", "KEYWORD_NUDE"), 10, "keyword"),
        (GOOD.replace("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "PORN"), 9, "category"),
        (GOOD.replace("min_score: 0.5", "min_score: 5"), 6, "min_score"),
        (
            GOOD.replace("label: sexual_explicit", "lable: sexual_explicit"),
            6,
            "unknown key 'lable'",
        ),
        (GOOD.replace("id: any_nudity", "id: Any-Nudity"), 4, "lower_snake_case"),
        (GOOD.replace("    action: block\n", ""), 4, "missing 'action'"),
        (GOOD + GOOD.split("rules:\n")[1], 11, "duplicate rule id"),
        (GOOD.replace("when: {finding", "when: {every: [], finding"), 6, "unknown key 'every'"),
        (
            GOOD.replace("{finding: {label: sexual_explicit, min_score: 0.5}}", "{any: []}"),
            6,
            "non-empty",
        ),
        (GOOD.replace("min_score: 0.5", "where: {age: {lt: 18}}"), 6, None),
        (GOOD.replace("min_score: 0.5", "where: {age: {below: 18}}"), 6, "unknown comparison"),
        (
            GOOD.replace("    severity: high\n", "    severity: high\n    escalate: maybe\n"),
            9,
            "escalate",
        ),
    ],
)
def test_errors_name_file_and_line(text: str, line: int, message: str | None) -> None:
    if message is None:
        parse_policy(text, file="p.yaml")  # valid
        return
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, file="p.yaml")
    assert f"p.yaml:{line}:" in str(caught.value)
    assert message in str(caught.value)


def test_unknown_labels_are_refused() -> None:
    policy = parse_policy(GOOD.replace("sexual_explicit", "sexual_explict"), file="p.yaml")
    with pytest.raises(PolicyError, match=r"p.yaml:4: .*sexual_explict"):
        check_labels(policy, {"sexual_explicit"})


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.yaml")
