"""The Guard façade: decisions, storage of every decision, privacy of prompts, fail-closed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bastion.content import Image, Prompt
from bastion.detectors.base import Detector
from bastion.errors import InputTooLarge, InvalidInput
from bastion.guard import Guard
from bastion.policy.engine import DETECTOR_ERROR, FAIL_CLOSED_RULE
from bastion.policy.model import Action
from bastion.settings import Settings
from bastion.testing import FrozenClock, fake_detector_class, make_registry
from tests.conftest import TEST_SECRET


def _tiny_png() -> bytes:
    from io import BytesIO

    from PIL import Image as PILImage

    buffer = BytesIO()
    PILImage.new("RGB", (1, 1), (200, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG_1x1 = _tiny_png()


def guard_with(settings: Settings, *classes: type[Detector]) -> Guard:
    """A guard whose only enabled detectors are ``classes`` (built-ins stay registered)."""
    only = settings.model_copy(update={"detectors": [c.name for c in classes]})
    return Guard.from_settings(only, registry=make_registry(*classes, with_builtins=True))


def test_blocks_sexualised_edit_of_a_real_person(guard: Guard) -> None:
    decision = guard.check_generation("make her naked")
    assert decision.action is Action.BLOCK
    assert "real_person_sexual_edit" in decision.rules


def test_allows_ordinary_edit(guard: Guard) -> None:
    decision = guard.check_generation("add a red hat to her and make it a watercolour")
    assert decision.action is Action.ALLOW
    assert decision.rules == []


def test_child_cue_with_sexual_request_is_critical(guard: Guard) -> None:
    decision = guard.check_generation("she is 14, make it sexy")
    assert decision.action is Action.BLOCK
    assert decision.severity.value == "critical"
    assert decision.escalate
    assert decision.category == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"


def test_every_decision_is_stored_with_reasons(guard: Guard) -> None:
    decision = guard.check_generation("make her naked")
    assert guard.get_decision(decision.id) == decision  # committed before it was returned
    guard.flush()
    assert guard.decisions.get(decision.id).to_dict() == decision.to_dict()


def test_sync_writes_commit_before_returning(settings: Settings) -> None:
    guard = Guard.from_settings(settings.model_copy(update={"decision_writes": "sync"}))
    decision = guard.check_generation("a lighthouse")
    assert guard.writer.pending(decision.id) is None
    assert guard.decisions.get(decision.id) == decision
    guard.close()


def test_close_stores_everything_in_flight(settings: Settings) -> None:
    guard = Guard.from_settings(settings)
    ids = [guard.check_generation(f"a lighthouse number {i}").id for i in range(50)]
    guard.close()
    reopened = Guard.from_settings(settings)
    assert all(reopened.decisions.get(i).id == i for i in ids)
    reopened.close()


def test_prompts_are_not_kept_in_the_clear_by_default(guard: Guard) -> None:
    decision = guard.check_generation("a lighthouse at dusk")
    guard.flush()
    stored = guard.decisions.prompt_of(decision.id)
    assert stored is not None
    assert stored.text is None
    assert len(stored.hash) == 64
    assert stored.hash == guard.prompt_hash(Prompt("a lighthouse at dusk"))


def test_allowed_prompt_retained_then_purged(tmp_path: object, settings: Settings) -> None:
    clock = FrozenClock(datetime(2026, 11, 25, 12, tzinfo=UTC))
    settings = Settings.load(
        data_dir=settings.data_dir, secret_key=TEST_SECRET, prompt_retention_hours=24
    )
    guard = Guard.from_settings(settings, clock=clock)
    allowed = guard.check_generation("a lighthouse at dusk")
    blocked = guard.check_generation("make her naked")
    guard.flush()
    assert guard.decisions.prompt_of(allowed.id).text == "a lighthouse at dusk"  # type: ignore[union-attr]
    assert guard.decisions.prompt_of(blocked.id).text is None  # type: ignore[union-attr]
    clock.advance(hours=23)
    assert guard.purge_expired_prompts() == 0
    clock.advance(hours=2)
    assert guard.purge_expired_prompts() == 1
    assert guard.decisions.prompt_of(allowed.id).text is None  # type: ignore[union-attr]
    guard.close()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("", InvalidInput),
        ("   \n", InvalidInput),
        ("x" * 5000, InputTooLarge),
        (b"\xff\xfe", InvalidInput),
        ("bad\x00byte", InvalidInput),
        ("escape\x1b[31m", InvalidInput),
        (123, InvalidInput),
        (None, InvalidInput),
        (["list"], InvalidInput),
    ],
)
def test_bad_prompts_get_typed_errors(guard: Guard, value: object, error: type) -> None:
    with pytest.raises(error):
        guard.check_generation(value)  # type: ignore[arg-type]


def test_detector_exception_blocks(settings: Settings) -> None:
    broken = fake_detector_class("broken", ["fake"], error=RuntimeError("model file missing"))
    guard = guard_with(settings, broken)
    decision = guard.check_generation("a lighthouse")
    assert decision.action is Action.BLOCK
    assert decision.rules == [FAIL_CLOSED_RULE]
    (reason,) = decision.reasons
    assert reason.findings[0].label == DETECTOR_ERROR
    assert "model file missing" in reason.findings[0].explanation
    guard.close()


@pytest.mark.parametrize("inline", [True, False])
def test_detector_timeout_blocks(tmp_path: object, settings: Settings, inline: bool) -> None:
    slow = fake_detector_class("slow", ["fake"], delay_s=0.3, inline=inline)
    settings = Settings.load(
        data_dir=settings.data_dir, secret_key=TEST_SECRET, detector_timeout_ms=50
    )
    guard = guard_with(settings, slow)
    decision = guard.check_generation("a lighthouse")
    assert decision.action is Action.BLOCK
    assert "timed out" in decision.reasons[0].findings[0].explanation
    guard.close()


def test_detector_returning_garbage_blocks(settings: Settings) -> None:
    class Garbage(fake_detector_class("garbage", ["fake"])):  # type: ignore[misc]
        def detect(self, item: object, *, subject: str) -> list[object]:  # type: ignore[override]
            return ["not a finding"]

    guard = guard_with(settings, Garbage)
    assert guard.check_generation("a lighthouse").action is Action.BLOCK
    guard.close()


def test_image_without_image_detector_fails_closed(settings: Settings) -> None:
    only_prompt = settings.model_copy(update={"detectors": ["prompt_lexicon", "prompt_language"]})
    guard = Guard.from_settings(only_prompt)
    decision = guard.check_generation("add a red hat", [PNG_1x1])
    assert decision.action is Action.BLOCK
    assert decision.rules == [FAIL_CLOSED_RULE]
    assert "input_image:0" in decision.reasons[0].findings[0].subject
    guard.close()


def test_bad_image_bytes_are_a_typed_error(guard: Guard) -> None:
    with pytest.raises(InvalidInput):
        guard.check_generation("add a hat", [b"not an image"])
    with pytest.raises(InvalidInput):
        guard.check_generation("add a hat", ["a string"])  # type: ignore[list-item]
    assert Image.from_bytes(PNG_1x1, max_bytes=1000).media_type == "image/png"


def test_verified_adult_only_honoured_when_operator_allows(settings: Settings) -> None:
    guard = Guard.from_settings(settings)
    context = {"verified_adult": True}
    assert guard.check_generation("a nude figure study", context=context).action is Action.BLOCK
    guard.close()
    permissive = Guard.from_settings(
        Settings.load(
            data_dir=settings.data_dir, secret_key=TEST_SECRET, allow_verified_adult_content=True
        )
    )
    assert (
        permissive.check_generation("a nude figure study", context=context).action is Action.ALLOW
    )
    # Never for minors or real people, whatever the caller says.
    assert permissive.check_generation("make her naked", context=context).action is Action.BLOCK
    assert permissive.check_generation("a nude 15 year old", context=context).action is Action.BLOCK
    permissive.close()


def test_unknown_context_keys_are_rejected(guard: Guard) -> None:
    with pytest.raises(InvalidInput, match="unknown context"):
        guard.check_generation("a lighthouse", context={"verifed_adult": True})
