"""The image guard's policy paths with fake detectors: edit-delta, minors, real people, adult
content, failing closed. Real models are exercised on benign photos in tests/detectors/image."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bastion.content import Image
from bastion.detectors.image.delta import DeltaConfig, exposure_delta
from bastion.errors import InvalidInput
from bastion.findings import Finding
from bastion.guard import Guard
from bastion.policy.engine import FAIL_CLOSED_RULE
from bastion.policy.model import Action, Decision, Severity, Surface
from bastion.settings import Settings
from bastion.testing import fake_detector_class
from tests.image_fakes import BLUE, GREY, PINK, RED, YELLOW, fake_guard
from tests.images import flat


@pytest.fixture
def guard(settings: Settings) -> Iterator[Guard]:
    guard = fake_guard(settings)
    yield guard
    guard.close()


def test_more_exposure_than_the_input_blocks_even_with_a_neutral_prompt(guard: Guard) -> None:
    request = guard.check_generation("summer version", [flat(GREY)])
    assert request.action is Action.ALLOW
    decision = guard.check_output(flat(PINK), request=request)
    assert decision.action is Action.BLOCK
    assert decision.rules == ["real_person_exposure_increase"]
    (reason,) = decision.reasons
    used = {(f.label, f.subject) for f in reason.findings}
    assert ("exposure_increase", "output") in used
    assert ("face", "input_image:0") in used
    assert ("exposure_suggestive", "output") in used
    delta = next(f for f in reason.findings if f.label == "exposure_increase")
    added = [r["class"] for r in delta.evidence["added_regions"]]
    assert added == ["female_breast_covered", "belly_exposed"]
    assert delta.evidence["request_id"] == request.id
    assert "input_image:0" in delta.explanation
    assert "belly_exposed" in delta.explanation
    assert decision.request_id == request.id
    assert decision.category == "STATEMENT_CATEGORY_CYBER_VIOLENCE"


def test_the_same_output_without_its_request_is_not_a_delta(guard: Guard) -> None:
    assert guard.check_output(flat(PINK)).action is Action.ALLOW


def test_an_output_like_its_input_passes(guard: Guard) -> None:
    request = guard.check_generation("make it a watercolour", [flat(GREY)])
    decision = guard.check_output(flat(GREY), request=request)
    assert decision.action is Action.ALLOW
    assert not any(f.label == "exposure_increase" for f in decision.findings)


def test_no_delta_without_a_real_person_in_the_input(guard: Guard) -> None:
    request = guard.check_generation("summer version", [flat(BLUE)])
    assert guard.check_output(flat(PINK), request=request).action is Action.ALLOW


def test_a_rising_sexual_score_alone_is_an_increase(settings: Settings) -> None:
    guard = fake_guard(settings)
    request = guard.check_generation("make it brighter", [flat(GREY)])
    delta = exposure_delta(
        request,
        [Finding("fake_nsfw", "nsfw_score", 0.45, "output")],
        DeltaConfig(nsfw_margin=0.3),
    )
    assert delta
    assert delta[0].evidence["nsfw_rise"] is True
    assert "rose from 0.02 (input) to 0.45 (output)" in delta[0].explanation
    small = exposure_delta(
        request, [Finding("fake_nsfw", "nsfw_score", 0.25, "output")], DeltaConfig(nsfw_margin=0.3)
    )
    assert small == []
    guard.close()


def test_the_delta_works_from_a_stored_decision(guard: Guard) -> None:
    request = guard.check_generation("summer version", [flat(GREY)])
    guard.flush()  # read it back from the database, not from the writer's queue
    stored = guard.decisions.get(request.id)
    assert stored is not request
    assert guard.check_output(flat(PINK), request=stored).action is Action.BLOCK


def test_sexual_output_with_an_apparent_minor_is_critical(guard: Guard) -> None:
    request = guard.check_generation("add a red hat", [flat(YELLOW)])
    assert request.action is Action.ALLOW
    decision = guard.check_output(flat(RED), request=request)
    assert decision.action is Action.BLOCK
    assert "minor_sexual_content" in decision.rules
    assert decision.severity is Severity.CRITICAL
    assert decision.escalate
    assert "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE" in decision.keywords


def test_sexualising_request_with_an_apparent_minor_in_the_photo_is_critical(guard: Guard) -> None:
    for prompt in ("make it sexy", "put her in a bikini"):
        decision = guard.check_generation(prompt, [flat(YELLOW)])
        assert decision.action is Action.BLOCK, prompt
        assert "minor_sexual_content" in decision.rules, prompt
        assert decision.severity is Severity.CRITICAL


def test_a_face_in_the_photo_makes_the_person_real(guard: Guard) -> None:
    # No pronoun, no name: the prompt alone names nobody, the photo shows a face.
    decision = guard.check_generation("make it sexy", [flat(GREY)])
    assert decision.action is Action.BLOCK
    assert "real_person_sexual_edit" in decision.rules
    reason = decision.reasons[decision.rules.index("real_person_sexual_edit")]
    assert any(f.label == "face" and f.subject == "input_image:0" for f in reason.findings)
    assert guard.check_generation("make it sexy").action is Action.ALLOW  # prompt alone


def test_explicit_output_without_a_person_is_adult_content(settings: Settings) -> None:
    guard = fake_guard(settings)
    decision = guard.check_output(flat(RED))
    assert decision.rules == ["adult_explicit_content"]
    assert decision.action is Action.BLOCK
    guard.close()
    permissive = fake_guard(settings, allow_verified_adult_content=True)
    allowed = permissive.check_output(flat(RED), context={"verified_adult": True})
    assert allowed.action is Action.ALLOW
    permissive.close()


def test_an_output_of_a_blocked_request_stays_blocked(guard: Guard) -> None:
    request = guard.check_generation("make her naked", [flat(GREY)])
    assert request.action is Action.BLOCK
    decision = guard.check_output(flat(GREY), request=request)
    assert decision.action is Action.BLOCK
    assert "real_person_sexual_edit" in decision.rules


def test_check_output_refuses_bad_input(guard: Guard) -> None:
    with pytest.raises(InvalidInput) as error:
        guard.check_output(b"not an image")
    assert error.value.field == "image"
    with pytest.raises(InvalidInput) as error:
        guard.check_generation("a hat", [flat(GREY), b"\x89PNG\r\n\x1a\nbroken"])
    assert error.value.field == "images[1]"
    output = guard.check_output(flat(GREY))
    with pytest.raises(InvalidInput, match="not a generation decision"):
        guard.check_output(flat(GREY), request=output)
    with pytest.raises(InvalidInput):
        guard.check_output(flat(GREY), request="some-id")  # type: ignore[arg-type]


def test_image_objects_are_accepted_and_get_the_limits(settings: Settings) -> None:
    guard = fake_guard(settings, image_max_pixels=100)
    with pytest.raises(InvalidInput, match="pixels"):
        guard.check_output(Image.from_bytes(flat(GREY), max_bytes=10**6))
    guard.close()


# -- failing closed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ({"error": RuntimeError("onnx session died")}, "onnx session died"),
        ({"delay_s": 0.5}, "timed out"),
    ],
)
def test_a_broken_image_detector_blocks_and_says_so(
    settings: Settings, problem: dict[str, object], expected: str
) -> None:
    broken = fake_detector_class("broken_image", ["nsfw_score"], accepts=Image, **problem)  # type: ignore[arg-type]
    guard = fake_guard(settings, broken, detector_timeout_ms=100)
    for decision in (
        guard.check_generation("add a red hat", [flat(GREY)]),
        guard.check_output(flat(GREY)),
    ):
        assert decision.action is Action.BLOCK
        assert decision.rules == [FAIL_CLOSED_RULE]
        assert expected in decision.reasons[0].findings[0].explanation
        assert "broken_image" in decision.reasons[0].findings[0].explanation
    guard.close()


@pytest.mark.parametrize("detector", ["image_exposure", "image_nsfw"])
def test_a_missing_model_file_blocks_and_names_the_file(
    settings: Settings, tmp_path: Path, detector: str
) -> None:
    missing = tmp_path / "gone.onnx"
    chosen = settings.model_copy(
        update={
            "detectors": ["prompt_lexicon", detector],
            "detector_options": {detector: {"model_path": str(missing)}},
        }
    )
    guard = Guard.from_settings(chosen)  # starts: the service stays up, and fails closed
    decision = guard.check_generation("add a red hat", [flat(GREY)])
    assert decision.action is Action.BLOCK
    assert decision.rules == [FAIL_CLOSED_RULE]
    explanation = decision.reasons[0].findings[0].explanation
    assert "gone.onnx" in explanation
    assert "missing" in explanation
    guard.close()


def test_a_corrupt_model_file_blocks(settings: Settings, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x01garbage" * 100)
    chosen = settings.model_copy(
        update={
            "detectors": ["prompt_lexicon", "image_nsfw"],
            "detector_options": {"image_nsfw": {"model_path": str(corrupt)}},
        }
    )
    guard = Guard.from_settings(chosen)
    decision = guard.check_output(flat(GREY))
    assert decision.action is Action.BLOCK
    assert "cannot load" in decision.reasons[0].findings[0].explanation
    guard.close()


def test_derived_labels_are_policy_vocabulary(guard: Guard) -> None:
    decision = Decision(action=Action.ALLOW, severity=Severity.NONE, surface=Surface.GENERATION)
    assert exposure_delta(decision, [], DeltaConfig()) == []
    assert any(r.id == "real_person_exposure_increase" for r in guard.policy.rules)


def output_regions(**scores: float) -> list[Finding]:
    regions = [{"class": c, "score": s, "box": [0, 0, 1, 1]} for c, s in scores.items()]
    return [
        Finding("x", "exposure_suggestive", max(scores.values()), "output", {"regions": regions})
    ]


def test_region_margins(guard: Guard) -> None:
    request = guard.check_generation("a restyle", [flat(GREY)])
    half_visible = Finding(
        "x",
        "exposure_suggestive",
        0.40,
        "input_image:0",
        {"regions": [{"class": "female_breast_covered", "score": 0.40, "box": [0, 0, 1, 1]}]},
    )
    stored = Decision(
        action=request.action,
        severity=request.severity,
        surface=request.surface,
        findings=(*request.findings, half_visible),
    )
    config = DeltaConfig()
    # 0.40 → 0.50: present now, but no clearer than before: not an increase.
    assert exposure_delta(stored, output_regions(female_breast_covered=0.5), config) == []
    # 0.40 → 0.70: an increase; a region absent before counts from min_region_score.
    assert exposure_delta(stored, output_regions(female_breast_covered=0.7), config)
    assert exposure_delta(stored, output_regions(buttocks_covered=0.46), config)
    assert exposure_delta(stored, output_regions(buttocks_covered=0.44), config) == []
    # Feet and armpits never count.
    assert (
        exposure_delta(stored, output_regions(feet_exposed=0.9, armpits_exposed=0.9), config) == []
    )
