"""The diffusers integration against minimal fake pipelines (no diffusers, no torch)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from PIL import Image as PILImage

from bastion.errors import InvalidInput
from bastion.guard import Guard
from bastion.integrations.diffusers import (
    BastionSafetyChecker,
    GenerationBlocked,
    GuardedPipeline,
    image_bytes,
)
from bastion.policy.model import Action
from bastion.settings import Settings
from tests.image_fakes import BLUE, GREY, PINK, RED, fake_guard


@dataclass
class Output:
    images: Any
    nsfw_content_detected: Any


class FakePipeline:
    """Renders one flat image per prompt and image, in a colour chosen by the test."""

    def __init__(self, colours: list[tuple[int, int, int]], *, with_checker: bool = True) -> None:
        self.colours = colours
        self.calls: list[dict[str, Any]] = []
        if with_checker:
            self.safety_checker: Any = None

    def __call__(self, prompt: Any = None, output_type: str = "pil", **kwargs: Any) -> Any:
        self.calls.append({"prompt": prompt, "output_type": output_type, **kwargs})
        batch = np.stack([np.full((32, 48, 3), c, dtype=np.float32) / 255 for c in self.colours])
        flags = None
        checker = getattr(self, "safety_checker", None)
        if checker is not None:
            batch, flags = checker(images=batch, clip_input=None)
        if output_type == "np":
            return Output(batch, flags)
        images = [PILImage.fromarray((b * 255).round().astype(np.uint8)) for b in batch]
        return (images, flags) if kwargs.get("return_dict") is False else Output(images, flags)


@pytest.fixture
def guard(settings: Settings) -> Iterator[Guard]:
    guard = fake_guard(settings)
    yield guard
    guard.close()


def photo(colour: tuple[int, int, int]) -> PILImage.Image:
    return PILImage.new("RGB", (48, 32), colour)


def test_blocked_prompt_never_reaches_the_model(guard: Guard) -> None:
    pipeline = FakePipeline([GREY])
    guarded = GuardedPipeline(pipeline, guard)
    with pytest.raises(GenerationBlocked) as blocked:
        guarded("make her naked", image=photo(GREY))
    assert "real_person_sexual_edit" in blocked.value.decision.rules
    assert pipeline.calls == []


def test_safety_checker_slot_blanks_and_flags_what_is_not_allowed(guard: Guard) -> None:
    pipeline = FakePipeline([GREY, PINK])
    guarded = GuardedPipeline(pipeline, guard)
    assert isinstance(pipeline.safety_checker, BastionSafetyChecker)
    result = guarded("summer version", image=photo(GREY), num_images_per_prompt=2)
    assert result.nsfw_content_detected == [False, True]
    assert [d.action for d in result.outputs] == [Action.ALLOW, Action.BLOCK]
    assert result.outputs[1].rules == ["real_person_exposure_increase"]  # the edit-delta
    assert result.outputs[1].request_id == result.generation[0].id
    assert np.asarray(result.images[1]).max() == 0  # blanked inside the pipeline
    assert np.asarray(result.images[0]).mean() > 100
    assert result.pipeline_output.nsfw_content_detected == [False, True]


def test_pipelines_without_a_checker_slot_are_screened_after(guard: Guard) -> None:
    pipeline = FakePipeline([BLUE, RED], with_checker=False)
    guarded = GuardedPipeline(pipeline, guard)
    result = guarded(["a lighthouse", "a beach"])
    assert result.nsfw_content_detected == [False, True]
    assert result.outputs[1].rules == ["adult_explicit_content"]
    assert result.outputs[1].request_id == result.generation[1].id  # image i → prompt i
    assert np.asarray(result.images[1]).max() == 0
    assert len(pipeline.calls) == 1


def test_numpy_output_and_tuple_output(guard: Guard) -> None:
    guarded = GuardedPipeline(FakePipeline([RED], with_checker=False), guard)
    result = guarded("a beach", output_type="np")
    assert result.nsfw_content_detected == [True]
    assert result.images[0].max() == 0
    plain = GuardedPipeline(FakePipeline([BLUE]), guard)("a beach", return_dict=False)
    assert plain.nsfw_content_detected == [False]


class FakeTensor:
    """Just enough of a torch tensor: NCHW floats in −1..1."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def detach(self) -> FakeTensor:
        return self

    def float(self) -> FakeTensor:
        return self

    def cpu(self) -> FakeTensor:
        return self

    def numpy(self) -> np.ndarray:
        return self.array

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, index: int) -> FakeTensor:
        return FakeTensor(self.array[index])

    def __setitem__(self, index: int, value: FakeTensor) -> None:
        self.array[index] = value.array

    def __mul__(self, other: float) -> FakeTensor:
        return FakeTensor(self.array * other)


def test_checker_reads_tensors_as_diffusers_passes_them(guard: Guard) -> None:
    nchw = np.stack([np.ones((3, 32, 48)) * np.array(c)[:, None, None] for c in (BLUE, RED)])
    signed = FakeTensor(nchw / 127.5 - 1)
    checker = BastionSafetyChecker(guard)
    images, flags = checker(images=signed, clip_input=None)
    assert flags == [False, True]
    assert np.abs(images.array[1]).max() == 0
    assert [d.action for d in checker.decisions] == [Action.ALLOW, Action.BLOCK]


def test_image_bytes_reads_every_layout() -> None:
    from bastion.content import Image

    grey = np.full((8, 8, 1), 128, dtype=np.uint8)
    for value in (photo(GREY), grey, np.full((3, 8, 8), 0.5), np.full((8, 8, 4), 0.5)):
        decoded = Image.from_bytes(image_bytes(value), max_bytes=10**6).decoded()
        assert decoded.rgb[0, 0].tolist() == [128, 128, 128]
    with pytest.raises(InvalidInput):
        image_bytes(np.zeros((2, 2)))


def test_what_cannot_be_screened_is_refused(guard: Guard) -> None:
    guarded = GuardedPipeline(FakePipeline([GREY]), guard)
    with pytest.raises(InvalidInput, match="prompt text"):
        guarded(prompt_embeds=object())
    with pytest.raises(InvalidInput, match="latents"):
        guarded("a beach", output_type="latent")
