"""The Guard façade: content → detectors → policy → Decision → effects.

Knows no HTTP and no SQL: adapters (API, CLI, web) call it; storage sits behind repositories.
Every check goes through :meth:`Guard._check`: run the detectors, evaluate the policy, store
the decision, then run the effects (banking hashes, opening cases, …) in order. What a Guard
is made of is built by the composition root, :mod:`bastion.composition`; detectors and
effects never see the Guard.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bastion.clock import Clock
from bastion.components import Components
from bastion.composition import build_components, workflow_service
from bastion.content import Image, Prompt
from bastion.decode import ImageLimits
from bastion.detectors.image import delta
from bastion.detectors.registry import Registry
from bastion.detectors.runner import Item, Runner
from bastion.errors import AlreadyPaired, InvalidInput, NotFound
from bastion.findings import (
    DETECTOR_ERROR,
    SUBJECT_OUTPUT,
    SUBJECT_PROMPT,
    SUBJECT_UPLOAD,
    Finding,
    input_image_subject,
)
from bastion.image_intake import ImageIntake
from bastion.policy.decide import CALLER_CONTEXT_KEYS, caller_context, decide
from bastion.policy.loader import check_labels
from bastion.policy.model import Action, Decision, Surface, new_id
from bastion.provenance.binding import check_markable
from bastion.settings import Settings
from bastion.storage.decisions import DecisionRepository, StoredPrompt
from bastion.storage.pairings import Pairing, PairingRepository
from bastion.storage.writer import BackgroundWriter, DecisionWriter, SyncWriter

if TYPE_CHECKING:
    from bastion.provenance.service import MarkedImage, Provenance, ProvenanceReport
    from bastion.workflow.service import Workflow

__all__ = ["CALLER_CONTEXT_KEYS", "DERIVED_LABELS", "Components", "Guard"]

# Labels the guard derives itself from other findings (policy vocabulary too).
DERIVED_LABELS = frozenset({delta.LABEL})


class Guard:
    def __init__(self, components: Components) -> None:
        self.components = components
        self.settings = components.settings
        self.db = components.db
        self.policy = components.policy
        self.clock: Clock = components.context.clock
        self.banks = components.banks
        self._secret = components.secret
        self.effects = tuple(components.effects)
        self.decisions = DecisionRepository(self.db)
        self.pairings = PairingRepository(self.db)
        self.writer: DecisionWriter = (
            BackgroundWriter(self.decisions)
            if self.settings.decision_writes == "background"
            else SyncWriter(self.decisions)
        )
        known = {label for d in components.detectors for label in d.labels}
        check_labels(
            self.policy, known | components.known_labels | DERIVED_LABELS | {DETECTOR_ERROR}
        )
        for detector in components.detectors:
            detector.bind(components.context)
        for detector in components.detectors:
            detector.warm_up()
        self.image_limits = ImageLimits.from_settings(self.settings)
        # Each check decodes its images once, making only the views its detectors read.
        self.intake = ImageIntake(
            components.detectors, self.image_limits, max_bytes=self.settings.image_max_bytes
        )
        self.runner = Runner(
            components.detectors,
            timeout_s=self.settings.detector_timeout_ms / 1000,
            threads=self.settings.detector_threads,
        )
        self.delta_config = delta.DeltaConfig(
            nsfw_margin=self.settings.edit_delta_nsfw_margin,
            min_region_score=self.settings.edit_delta_min_region_score,
            region_margin=self.settings.edit_delta_region_margin,
            face_min_score=self.settings.edit_delta_face_min_score,
        )

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def default(cls) -> Guard:
        """A guard from the environment (``BASTION_*``), with its data directory prepared."""
        return cls.from_settings(Settings.load())

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        registry: Registry | None = None,
        clock: Clock | None = None,
        migrate: bool = True,
    ) -> Guard:
        """A guard and everything it uses, built by the composition root."""
        return cls(build_components(settings, registry=registry, clock=clock, migrate=migrate))

    def workflow(self, **kwargs: Any) -> Workflow:
        """A DSA workflow over this guard's database, banks and clock (see
        :func:`bastion.composition.workflow_service` for the options)."""
        kwargs.setdefault("clock", self.clock)
        return workflow_service(self.settings, self.db, self.banks, **kwargs)

    def close(self) -> None:
        """Store every decision still in flight, stop the workers, release the database."""
        self.writer.close()
        self.runner.close()
        self.banks.close()
        self.db.dispose()

    def flush(self) -> None:
        """Wait until every decision returned so far is committed."""
        self.writer.flush()

    # -- checks -------------------------------------------------------------------------------

    def check_generation(
        self,
        prompt: str | bytes | Prompt,
        images: Sequence[bytes | Image] = (),
        *,
        context: Mapping[str, Any] | None = None,
        principal: str | None = None,
    ) -> Decision:
        """Screen a generation request (prompt and input photos) before the model runs.

        Every input photo is decoded within the image limits first (bad bytes are an
        InvalidInput, never a decision) and screened by every image detector; its findings
        stay on the stored decision, where :meth:`check_output` finds them. ``principal``
        (the API key's id) is stored with it: only that principal may pair outputs with it.
        """
        parsed = (
            prompt
            if isinstance(prompt, Prompt)
            else Prompt.parse(prompt, max_chars=self.settings.prompt_max_chars)
        )
        items = [Item(parsed, SUBJECT_PROMPT)]
        for index, image in enumerate(images):
            parsed_image = self._image(image, f"images[{index}]", Surface.GENERATION)
            items.append(Item(parsed_image, input_image_subject(index)))
        return self._check(
            Surface.GENERATION, items, context=context, prompt=parsed, principal=principal
        )

    def scan_upload(
        self,
        image: bytes | Image,
        *,
        context: Mapping[str, Any] | None = None,
        principal: str | None = None,
    ) -> Decision:
        """Match an upload against every enabled bank (and the image detectors) and decide.

        Undecodable or oversized images are typed errors, not decisions. The image is decoded
        once, here, into the views the detectors read (``Image.prepare``); an animated image
        is screened on every frame up to ``image_screened_frames``, evenly sampled beyond.
        """
        parsed = self._image(image, "image", Surface.UPLOAD)
        return self._check(
            Surface.UPLOAD, [Item(parsed, SUBJECT_UPLOAD)], context=context, principal=principal
        )

    def check_output(
        self,
        image: bytes | Image,
        *,
        request: Decision | None = None,
        context: Mapping[str, Any] | None = None,
        principal: str | None = None,
    ) -> Decision:
        """Screen a generated image after the model ran.

        With ``request`` (the generation decision, e.g. from :meth:`get_decision`), the
        request's findings are carried into this decision, so rules see the prompt, the input
        photos and the output together, and the edit-delta compares the output's exposure
        with the input photos' (``exposure_increase``). A request is paired only by the
        principal that made it (another key's request is :class:`NotFound`), with each
        output once (checking it again returns the first decision) and with at most
        ``outputs_per_request`` outputs (:class:`AlreadyPaired`).
        """
        if request is not None and not isinstance(request, Decision):
            raise InvalidInput(
                f"request must be a generation Decision, got {type(request).__name__}",
                field="request_id",
            )
        if request is not None and request.surface is not Surface.GENERATION:
            raise InvalidInput(
                f"decision {request.id} is a {request.surface.value} decision, not a "
                "generation decision",
                field="request_id",
            )
        if request is not None and principal is not None and request.principal != principal:
            raise NotFound(f"no decision with id {request.id!r}", field="request_id")
        parsed = self._image(image, "image", Surface.OUTPUT)
        if request is None:
            return self._check(
                Surface.OUTPUT, [Item(parsed, SUBJECT_OUTPUT)], context=context, principal=principal
            )
        pairing = self._pair(request, parsed.sha256, principal)
        if isinstance(pairing, Decision):
            return pairing
        config, generation = self.delta_config, request

        def derive(found: Sequence[Finding]) -> Sequence[Finding]:
            return delta.exposure_delta(generation, found, config)

        try:
            return self._check(
                Surface.OUTPUT,
                [Item(parsed, SUBJECT_OUTPUT)],
                context=context,
                request_id=request.id,
                extra_findings=request.findings,
                derive=derive,
                principal=principal,
                decision_id=pairing.decision_id,
            )
        except BaseException:
            self.pairings.release(pairing)  # no decision was returned: the output is unpaired
            raise

    def _pair(self, request: Decision, sha256: str, principal: str | None) -> Pairing | Decision:
        """Claim the pairing of this output with ``request``; a retry of a pairing already
        decided gets that decision back (no second check, no second decision)."""
        pairing = Pairing(request.id, sha256, new_id(), principal, self.clock.now())
        limit = self.settings.outputs_per_request
        try:
            held = self.pairings.claim(pairing, max_outputs=limit)
        except LookupError:
            raise AlreadyPaired(
                f"generation request {request.id} already has {limit} outputs "
                "(outputs_per_request)",
                field="request_id",
            ) from None
        if held is not None:
            try:
                if held.principal == principal:
                    return self.get_decision(held.decision_id)
            except NotFound:
                pass  # its check is still running
            raise AlreadyPaired(
                f"this output is being checked against request {request.id} "
                f"(decision {held.decision_id})",
                field="request_id",
            )
        return pairing

    def _check(
        self,
        surface: Surface,
        items: Sequence[Item],
        *,
        context: Mapping[str, Any] | None = None,
        prompt: Prompt | None = None,
        request_id: str | None = None,
        extra_findings: Sequence[Finding] = (),
        derive: Callable[[Sequence[Finding]], Sequence[Finding]] | None = None,
        principal: str | None = None,
        decision_id: str | None = None,
    ) -> Decision:
        """The one path every check takes: detect → decide → store → effects.

        ``extra_findings`` are known before detection (e.g. carried from a request);
        ``derive`` computes findings from the detected ones (e.g. the edit-delta).
        """
        started = time.perf_counter()
        detected = self.runner.run(items, surface=surface.value)
        derived = list(derive(detected)) if derive is not None else []
        findings = [*detected, *extra_findings, *derived]
        decision = self._decide(findings, surface, context, request_id=request_id)
        decision = replace(decision, principal=principal, id=decision_id or decision.id)
        images = [i.content for i in items if isinstance(i.content, Image)]
        if surface is not Surface.GENERATION and len(images) == 1:
            # The checked image's identity (a hash, never the image) links it to cases.
            decision = replace(decision, content_sha256=images[0].sha256)
        decision = decision.with_timing((time.perf_counter() - started) * 1000)
        stored = self._stored_prompt(prompt, decision) if prompt is not None else None
        self.writer.write(decision, stored)
        for effect in self.effects:
            effect.after(decision, items)
        return decision

    # -- provenance ---------------------------------------------------------------------------

    @property
    def provenance(self) -> Provenance:
        """Watermark and C2PA services (built on first use: they load OpenCV and c2pa)."""
        return self.components.context.provenance()

    def mark(
        self,
        image: bytes | Image,
        decision: Decision | str | None,
        *,
        generator: str | None = None,
        principal: str | None = None,
    ) -> MarkedImage:
        """Watermark and C2PA-sign an output that its own output check allowed.

        ``decision`` is the output's decision (or its id); the stored record is what counts.
        It must be an **output** decision (:class:`~bastion.errors.NotAnOutputDecision`
        otherwise: a generation decision says nothing about the image), with action ``allow``
        (:class:`~bastion.errors.OutputNotAllowed`), taken about exactly these bytes
        (:class:`~bastion.errors.OutputMismatch`), and, for an API caller, by the same
        ``principal``. ``None`` marks without a link: only operators, in process (the CLI).
        """
        data = self._image(image, "image", None).data
        decision_id = None
        if decision is not None:
            if not isinstance(decision, Decision | str):
                raise InvalidInput("decision must be a Decision or a decision id", field="decision")
            stored = self.get_decision(decision if isinstance(decision, str) else decision.id)
            check_markable(stored, data, principal=principal)
            decision_id = stored.id
        return self.provenance.mark(
            data, decision_id, generator=generator or self.settings.generator_name
        )

    def verify(self, image: bytes | Image) -> ProvenanceReport:
        """Read an image's watermark and C2PA manifest; link the watermark to its decision."""
        return self.provenance.inspect(self._image(image, "image", None))

    def explain(self, decision: Decision) -> str:
        from bastion.explain import render

        return render(decision)

    # -- internals ----------------------------------------------------------------------------

    def _image(self, image: bytes | Image, field: str, surface: Surface | None) -> Image:
        return self.intake.accept(image, field, surface)

    def _decide(
        self,
        findings: list[Finding],
        surface: Surface,
        context: Mapping[str, Any] | None,
        *,
        request_id: str | None = None,
    ) -> Decision:
        given = caller_context(
            surface, context, allow_verified_adult=self.settings.allow_verified_adult_content
        )
        return decide(
            self.policy, findings, surface, given, now=self.clock.now(), request_id=request_id
        )

    def prompt_hash(self, prompt: Prompt) -> str:
        return hmac.new(self._secret, prompt.text.encode(), hashlib.sha256).hexdigest()

    def _stored_prompt(self, prompt: Prompt, decision: Decision) -> StoredPrompt:
        hours = self.settings.prompt_retention_hours
        if hours <= 0 or decision.action is not Action.ALLOW:
            return StoredPrompt(self.prompt_hash(prompt))
        expires = decision.created_at + timedelta(hours=hours)
        return StoredPrompt(self.prompt_hash(prompt), prompt.text, expires)

    def purge_expired_prompts(self) -> int:
        self.writer.flush()
        return self.decisions.purge_expired(self.clock.now())

    def get_decision(self, decision_id: str) -> Decision:
        pending = self.writer.pending(decision_id)
        return pending if pending is not None else self.decisions.get(decision_id)
