"""The Guard façade: content → detectors → policy → Decision → effects.

Knows no HTTP and no SQL: adapters (API, CLI, web) call it; storage sits behind repositories.
Every check goes through :meth:`Guard._check`: run the detectors, evaluate the policy, store
the decision, then run the effects (banking hashes, opening cases, …) in order.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from bastion.clock import Clock, SystemClock
from bastion.content import Image, Prompt
from bastion.decode import ImageLimits
from bastion.detectors.base import Detector
from bastion.detectors.image import delta
from bastion.detectors.registry import Registry, default_registry
from bastion.detectors.runner import Item, Runner
from bastion.errors import (
    AlreadyPaired,
    InputTooLarge,
    InvalidInput,
    NotAnOutputDecision,
    NotFound,
    OutputMismatch,
    OutputNotAllowed,
)
from bastion.findings import (
    DETECTOR_ERROR,
    SUBJECT_OUTPUT,
    SUBJECT_PROMPT,
    SUBJECT_UPLOAD,
    Finding,
    input_image_subject,
)
from bastion.hashing.banks import BankService
from bastion.policy.engine import evaluate
from bastion.policy.loader import check_labels, load_policy
from bastion.policy.model import Action, Decision, Surface, combine, new_id
from bastion.policy.rules import Policy
from bastion.settings import Settings
from bastion.storage.db import Database
from bastion.storage.decisions import DecisionRepository, StoredPrompt
from bastion.storage.pairings import Pairing, PairingRepository
from bastion.storage.writer import BackgroundWriter, DecisionWriter, SyncWriter

if TYPE_CHECKING:
    from bastion.provenance.service import MarkedImage, Provenance, ProvenanceReport

# Context keys a caller may set; everything else is rejected so typos do not pass silently.
CALLER_CONTEXT_KEYS = frozenset({"verified_adult", "user_id", "platform", "feature"})
# Labels the guard derives itself from other findings (policy vocabulary too).
DERIVED_LABELS = frozenset({delta.LABEL})


class Effect(Protocol):
    """Something done after a decision is stored (bank a hash, open a case, write audit).

    An effect must not change the decision. If it raises, the check raises: the caller sees
    an error instead of a decision whose consequences silently did not happen.
    """

    name: str

    def after(self, guard: Guard, decision: Decision, items: Sequence[Item]) -> None: ...


@dataclass
class Components:
    """What a Guard is made of; built once per process by :meth:`Guard.from_settings`."""

    settings: Settings
    db: Database
    policy: Policy
    detectors: Sequence[Detector]
    secret: bytes
    # Every label any registered detector can emit (enabled or not): the policy's vocabulary.
    known_labels: frozenset[str] = frozenset()
    effects: Sequence[Effect] = ()
    banks: BankService | None = None


class Guard:
    def __init__(self, components: Components, *, clock: Clock | None = None) -> None:
        self.settings = components.settings
        self.db = components.db
        self.policy = components.policy
        self.clock = clock or SystemClock()
        self._secret = components.secret
        self.effects = tuple(components.effects)
        self.decisions = DecisionRepository(self.db)
        self.pairings = PairingRepository(self.db)
        self.writer: DecisionWriter = (
            BackgroundWriter(self.decisions)
            if self.settings.decision_writes == "background"
            else SyncWriter(self.decisions)
        )
        self.banks = components.banks or BankService(self.db, clock=self.clock)
        known = {label for d in components.detectors for label in d.labels}
        check_labels(
            self.policy, known | components.known_labels | DERIVED_LABELS | {DETECTOR_ERROR}
        )
        for detector in components.detectors:
            detector.bind(self)
        for detector in components.detectors:
            detector.warm_up()
        # Each check decodes its images once (Image.prepare), making only the views its
        # detectors read: analysis RGB for pixel detectors, luma for the hash detector.
        self._views = {surface: _views(components.detectors, surface) for surface in Surface}
        # ... and detectors that decode a view of their own make it then too (Detector.prepare).
        self._preparers = {
            surface: [
                d
                for d in _image_readers(components.detectors, surface)
                if type(d).prepare is not Detector.prepare
            ]
            for surface in Surface
        }
        self.runner = Runner(
            components.detectors,
            timeout_s=self.settings.detector_timeout_ms / 1000,
            threads=self.settings.detector_threads,
        )
        self.image_limits = ImageLimits.from_settings(self.settings)
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
        from bastion.bootstrap import prepare_data_dir

        prepare_data_dir(settings)
        db = Database(settings.resolved_database_url)
        if migrate:
            db.migrate()
        registry = registry or default_registry()
        detectors = registry.create(settings.detectors, settings.detector_options)
        from bastion.hashing.staydown import StayDownEffect
        from bastion.workflow.effects import OpenCaseEffect

        banks = BankService(
            db,
            clock=clock,
            min_quality=settings.hash_min_quality,
            sync_interval_s=settings.bank_sync_interval_ms / 1000,
            limits=ImageLimits.from_settings(settings),
        )
        components = Components(
            settings=settings,
            db=db,
            policy=load_policy(settings.policy_file),
            detectors=detectors,
            secret=settings.resolved_secret(),
            known_labels=registry.labels(),
            # Bank blocked images first, then turn blocked or held content into cases.
            effects=((StayDownEffect(),) if settings.stay_down else ()) + (OpenCaseEffect(),),
            banks=banks,
        )
        return cls(components, clock=clock)

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
            effect.after(self, decision, items)
        return decision

    # -- provenance ---------------------------------------------------------------------------

    @cached_property
    def provenance(self) -> Provenance:
        """Watermark and C2PA services (built on first use: they load OpenCV and c2pa)."""
        from bastion.provenance.service import Provenance

        return Provenance(self.settings, self.db, self.clock)

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
            if principal is not None and stored.principal != principal:
                raise NotFound(f"no decision with id {stored.id!r}", field="decision_id")
            if stored.surface is not Surface.OUTPUT:
                raise NotAnOutputDecision(
                    f"decision {stored.id} is a {stored.surface.value} decision; only the "
                    "output's own output check (POST /v1/outputs/check) can mark it",
                    field="decision_id",
                )
            if stored.action is not Action.ALLOW:
                raise OutputNotAllowed(
                    f"decision {stored.id} is {stored.action.value}; only allowed outputs are "
                    "marked",
                    field="decision_id",
                )
            if stored.content_sha256 != hashlib.sha256(data).hexdigest():
                raise OutputMismatch(
                    f"decision {stored.id} was taken about other bytes; mark exactly the "
                    "image that was checked",
                    field="image",
                )
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
        """Accept, sniff and decode an image within the limits; every failure is typed.

        The header is read on every surface (format, size, frames: refused here, before
        anything else is looked at, with the same typed error as everywhere). The image is
        then decoded once into the views ``surface``'s detectors read; ``None`` leaves
        decoding to whoever reads it (provenance decodes at full resolution). More frames
        than ``image_screened_frames`` are sampled on uploads and refused on the generation
        and output paths (fail closed: not every frame could be screened)."""
        try:
            if isinstance(image, Image):
                image = image.with_limits(self.image_limits)
            elif isinstance(image, bytes | bytearray | memoryview):
                image = Image.from_bytes(
                    bytes(image), max_bytes=self.settings.image_max_bytes, limits=self.image_limits
                )
            else:
                raise InvalidInput(f"{field} must be bytes, got {type(image).__name__}")
            frames = image.header().frames
            if surface is not None:
                screened = self.image_limits.screened_frames
                if surface is not Surface.UPLOAD and frames > screened:
                    raise InputTooLarge(
                        f"animated image has {frames} frames; {surface.value} checks screen "
                        f"every frame and accept at most {screened} (image_screened_frames)"
                    )
                rgb, luma = self._views[surface]
                image.prepare(rgb=rgb, luma=luma)
                for detector in self._preparers[surface]:
                    detector.prepare(image)
        except InvalidInput as exc:
            exc.field = field
            raise
        return image

    def _context(self, surface: Surface, context: Mapping[str, Any] | None) -> dict[str, Any]:
        given = dict(context or {})
        unknown = sorted(set(given) - CALLER_CONTEXT_KEYS)
        if unknown:
            raise InvalidInput(
                f"unknown context key(s): {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(CALLER_CONTEXT_KEYS))}",
                field="context",
            )
        if "verified_adult" in given and not isinstance(given["verified_adult"], bool):
            raise InvalidInput("context.verified_adult must be true or false", field="context")
        # A caller can only unlock adult content when the operator allows it.
        if not self.settings.allow_verified_adult_content:
            given.pop("verified_adult", None)
        given["surface"] = surface.value
        return given

    def _decide(
        self,
        findings: list[Finding],
        surface: Surface,
        context: Mapping[str, Any] | None,
        *,
        request_id: str | None = None,
    ) -> Decision:
        reasons = evaluate(
            self.policy, findings, surface=surface, context=self._context(surface, context)
        )
        action, severity = combine(reasons)
        language = next(
            (str(f.evidence["language"]) for f in findings if f.label == "language"), None
        )
        return Decision(
            action=action,
            severity=severity,
            surface=surface,
            reasons=tuple(reasons),
            findings=tuple(findings),
            policy=self.policy.name,
            request_id=request_id,
            language=language,
            created_at=self.clock.now(),
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


def _views(detectors: Sequence[Detector], surface: Surface) -> tuple[bool, bool]:
    """(analysis RGB, luma): the views the image detectors of ``surface`` read."""
    readers = _image_readers(detectors, surface)
    rgb = any(d.reads_pixels for d in readers)
    luma = any(not d.reads_pixels for d in readers)
    return rgb or not luma, luma


def _image_readers(detectors: Sequence[Detector], surface: Surface) -> list[Detector]:
    return [
        d
        for d in detectors
        if issubclass(Image, d.accepts) and (d.surfaces is None or surface.value in d.surfaces)
    ]
