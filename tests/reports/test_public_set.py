"""The public labelled prompt set as a regression gate (issue 2's bar, checked on every run).

The set lives in tests/data/prompts_public.jsonl; `bastion eval prompts` prints the same
numbers by language, obfuscation kind and category.
"""

from __future__ import annotations

import json
from pathlib import Path

from bastion.batch import screen_lines
from bastion.guard import Guard
from bastion.reports.evaluation import Evaluation
from tests.conftest import DATA

SET = DATA / "prompts_public.jsonl"


def evaluate(guard: Guard, path: Path) -> Evaluation:
    evaluation = Evaluation()
    lines = path.read_text("utf-8").splitlines()
    for record, item, _ in screen_lines(guard, lines, path.parent):
        assert "error" not in record, record
        evaluation.add(item, record["action"])
    return evaluation


def test_public_set_is_well_formed() -> None:
    items = [json.loads(line) for line in SET.read_text("utf-8").splitlines() if line.strip()]
    assert len(items) >= 300
    assert len({i["id"] for i in items}) == len(items)
    assert {i["label"] for i in items} == {"abuse", "benign"}
    assert len({i["lang"] for i in items} - {"mixed"}) >= 15
    assert {i["obfuscation"] for i in items} >= {"leet", "spacing", "confusables", "zero_width"}


def test_public_set_meets_the_bar(shared_guard: Guard) -> None:
    evaluation = evaluate(shared_guard, SET)
    overall = evaluation.overall
    assert overall.recall is not None
    assert overall.benign_block_rate is not None
    assert overall.recall >= 0.98, evaluation.misses
    assert overall.benign_block_rate <= 0.02, evaluation.misses
    assert evaluation.minors_all_blocked, [m for m in evaluation.misses if m["category"] == "minor"]
