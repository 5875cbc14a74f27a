"""Golden files for the image guard's decision explanations (what people and regulators read).

Regenerate after an intended change with ``BASTION_TEST_UPDATE_GOLDEN=1 make pytest`` and
review the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bastion.content import Image
from bastion.guard import Guard
from bastion.policy.model import Decision
from bastion.settings import Settings
from bastion.testing import fake_detector_class
from tests.image_fakes import GREY, PINK, RED, YELLOW, fake_guard
from tests.images import flat

GOLDEN = Path(__file__).parent / "golden" / "explain"
UPDATE = os.environ.get("BASTION_TEST_UPDATE_GOLDEN") == "1"


def edit_delta(guard: Guard) -> Decision:
    request = guard.check_generation("summer version", [flat(GREY)])
    return guard.check_output(flat(PINK), request=request)


def minor_output(guard: Guard) -> Decision:
    request = guard.check_generation("add a red hat", [flat(YELLOW)])
    return guard.check_output(flat(RED), request=request)


def face_and_lingerie(guard: Guard) -> Decision:
    return guard.check_generation("put her in lingerie", [flat(GREY)])


def allowed_edit(guard: Guard) -> Decision:
    request = guard.check_generation("make it a watercolour", [flat(GREY)])
    return guard.check_output(flat(GREY), request=request)


CASES: dict[str, Callable[[Guard], Decision]] = {
    "edit_delta_block": edit_delta,
    "apparent_minor_output": minor_output,
    "real_person_lingerie": face_and_lingerie,
    "allowed_edit_output": allowed_edit,
}


def normalised(guard: Guard, decision: Decision) -> str:
    return guard.explain(decision).replace(decision.id, "<id>") + "\n"


def check(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    assert path.exists(), f"{path} is missing: run with BASTION_TEST_UPDATE_GOLDEN=1"
    assert text == path.read_text("utf-8")


@pytest.mark.parametrize("name", sorted(CASES))
def test_explanations_match_golden_files(settings: Settings, name: str) -> None:
    guard = fake_guard(settings)
    check(name, normalised(guard, CASES[name](guard)))
    guard.close()


def test_fail_closed_explanation(settings: Settings) -> None:
    broken = fake_detector_class(
        "broken_image", ["nsfw_score"], accepts=Image, error=RuntimeError("model file missing")
    )
    guard = fake_guard(settings, broken)
    check("detector_failure_output", normalised(guard, guard.check_output(flat(GREY))))
    guard.close()
