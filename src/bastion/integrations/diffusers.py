"""Bastion for Hugging Face diffusers (``pip install 'bastion-safety[diffusers]'``).

Two pieces, neither importing diffusers or torch (they are duck-typed, so the tests run
without either):

- :class:`BastionSafetyChecker` is a drop-in for a pipeline's ``safety_checker``: diffusers
  calls it as ``checker(images=..., clip_input=...)`` and expects ``(images, flags)``; every
  image goes through :meth:`Guard.check_output`, and any that is not allowed is blanked (as
  diffusers' own checker does) and flagged.
- :class:`GuardedPipeline` wraps a whole pipeline: it screens the prompt and input photos with
  :meth:`Guard.check_generation` before the model runs (raising :class:`GenerationBlocked`),
  installs the checker where the pipeline has a ``safety_checker`` slot, and otherwise (SDXL,
  Flux, … have none) screens the returned images itself, against the generation decision.

    pipe = GuardedPipeline(StableDiffusionImg2ImgPipeline.from_pretrained(...), Guard.default())
    result = pipe("add a red hat", image=photo)       # GenerationBlocked if refused
    result.images, result.nsfw_content_detected, result.outputs
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image as PILImage

from bastion.errors import InvalidInput
from bastion.guard import Guard
from bastion.policy.model import Action, Decision


class GenerationBlocked(Exception):
    """The request was refused before the model ran; ``decision`` says why."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(f"generation {decision.action.value}: {', '.join(decision.rules)}")
        self.decision = decision


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "detach") and hasattr(value, "cpu")


def image_bytes(image: Any, *, signed: bool = False) -> bytes:
    """PNG bytes of a PIL image, an HWC/CHW array or a tensor (values 0–255, 0–1 or −1–1).

    ``signed`` says float values lie in −1..1 (diffusers' decoded latents) rather than 0..1.
    """
    if isinstance(image, bytes | bytearray):
        return bytes(image)
    if isinstance(image, PILImage.Image):
        pil = image.convert("RGB")
    else:
        array = np.asarray(image.detach().float().cpu().numpy() if _is_tensor(image) else image)
        if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
            array = array.transpose(1, 2, 0)  # CHW → HWC
        if array.ndim != 3 or array.shape[-1] not in (1, 3, 4):
            raise InvalidInput(f"cannot read an image of shape {array.shape}", field="image")
        if array.dtype != np.uint8:
            values = array.astype(np.float64)
            if signed:
                values = values / 2 + 0.5
            array = (np.clip(values, 0.0, 1.0) * 255).round().astype(np.uint8)
        if array.shape[-1] == 1:
            array = np.repeat(array, 3, axis=2)
        pil = PILImage.fromarray(np.ascontiguousarray(array[:, :, :3]))
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    return buffer.getvalue()


def _blank(image: Any) -> Any:
    if isinstance(image, PILImage.Image):
        return PILImage.new("RGB", image.size)
    return image * 0


class BastionSafetyChecker:
    """A callable with diffusers' safety-checker signature, backed by a Guard.

    ``requests`` are the generation decisions of the images about to be checked (set by
    :class:`GuardedPipeline`; image ``i`` belongs to ``requests[i // per_request]``).
    """

    def __init__(self, guard: Guard, *, context: Mapping[str, Any] | None = None) -> None:
        self.guard = guard
        self.context = dict(context) if context else None
        self.requests: Sequence[Decision] = ()
        self.per_request = 1
        self.decisions: list[Decision] = []
        self.calls = 0

    def request_for(self, index: int) -> Decision | None:
        if not self.requests:
            return None
        return self.requests[min(index // max(1, self.per_request), len(self.requests) - 1)]

    def check(self, image: Any, index: int, *, signed: bool = False) -> Decision:
        decision = self.guard.check_output(
            image_bytes(image, signed=signed), request=self.request_for(index), context=self.context
        )
        self.decisions.append(decision)
        return decision

    def __call__(self, images: Any, clip_input: Any = None, **_: Any) -> tuple[Any, list[bool]]:
        """Check every image; blank (in place where possible) and flag those not allowed."""
        self.calls += 1
        signed = _is_tensor(images) or (
            isinstance(images, np.ndarray) and images.dtype != np.uint8 and images.min() < 0
        )
        flags = []
        for index in range(len(images)):
            flagged = self.check(images[index], index, signed=signed).action is not Action.ALLOW
            if flagged:
                images[index] = _blank(images[index])
            flags.append(flagged)
        return images, flags


@dataclass
class GuardedOutput:
    """What a guarded call returns: the screened images and every decision taken."""

    images: Any
    nsfw_content_detected: list[bool]
    generation: list[Decision]
    outputs: list[Decision]
    pipeline_output: Any = field(repr=False, default=None)


class GuardedPipeline:
    """Screen the prompt (and input photos) before and the images after a pipeline call."""

    def __init__(
        self, pipeline: Any, guard: Guard, *, context: Mapping[str, Any] | None = None
    ) -> None:
        self.pipeline = pipeline
        self.guard = guard
        self.context = dict(context) if context else None
        self.checker = BastionSafetyChecker(guard, context=context)
        self.in_pipeline = hasattr(pipeline, "safety_checker")
        if self.in_pipeline:
            pipeline.safety_checker = self.checker

    def __call__(self, prompt: str | Sequence[str] | None = None, **kwargs: Any) -> GuardedOutput:
        prompts = [prompt] if isinstance(prompt, str) else list(prompt or [])
        if not prompts or not all(isinstance(p, str) for p in prompts):
            raise InvalidInput("a guarded pipeline needs the prompt text", field="prompt")
        if kwargs.get("output_type") == "latent":
            raise InvalidInput("latents cannot be screened; ask for images", field="output_type")
        photos = kwargs.get("image")
        inputs = [] if photos is None else photos if isinstance(photos, list) else [photos]
        encoded = [image_bytes(photo) for photo in inputs]
        generation = []
        for text in prompts:
            decision = self.guard.check_generation(text, encoded, context=self.context)
            generation.append(decision)
            if decision.action is not Action.ALLOW:
                raise GenerationBlocked(decision)
        self.checker.requests = generation
        self.checker.per_request = int(kwargs.get("num_images_per_prompt") or 1)
        self.checker.decisions = []
        calls = self.checker.calls
        result = self.pipeline(prompt=prompt, **kwargs)
        images = result[0] if isinstance(result, tuple) else result.images
        if self.checker.calls == calls:  # the pipeline has no checker slot, or skipped it
            images, flags = self.checker(images)
        else:
            flags = [d.action is not Action.ALLOW for d in self.checker.decisions]
        return GuardedOutput(images, flags, generation, list(self.checker.decisions), result)
