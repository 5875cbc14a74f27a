"""Provenance detectors as registered detectors: findings, policy label, fail-closed rules."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as PILImage

from bastion.content import Image
from bastion.detectors.registry import default_registry
from bastion.detectors.runner import Item
from bastion.errors import ConfigError
from bastion.findings import SUBJECT_UPLOAD
from bastion.guard import Guard
from bastion.policy.engine import FAIL_CLOSED_RULE
from bastion.policy.model import Action, Surface
from bastion.provenance.detectors import C2paDetector, WatermarkDetector
from bastion.settings import Settings
from tests.provenance import images


def as_image(data: bytes) -> Image:
    return Image.from_bytes(data, max_bytes=50_000_000)


def scan(guard: Guard, data: bytes):  # type: ignore[no-untyped-def]
    """An upload scan through the guard's one check path (issue 4 adds scan_upload)."""
    return guard._check(Surface.UPLOAD, [Item(as_image(data), SUBJECT_UPLOAD)])


def test_detectors_are_registered() -> None:
    registry = default_registry()
    assert registry.get("provenance_watermark") is WatermarkDetector
    assert registry.get("provenance_c2pa") is C2paDetector
    assert {"ai_watermark", "c2pa_manifest", "c2pa_ai_generated"} <= registry.labels()


def test_reupload_of_a_marked_output_is_labelled_and_linked(upload_guard: Guard) -> None:
    marking_guard = upload_guard
    output = images.encode(images.photo("coffee"))
    decision = marking_guard.check_output(output)  # marks bind to the output's own check
    marked = marking_guard.mark(output, decision)
    upload = scan(marking_guard, marked.data)
    assert upload.action is Action.ALLOW
    assert upload.rules == ["ai_generated_content"]
    by_label = {f.label: f for f in upload.findings}
    assert set(by_label) == {"ai_watermark", "c2pa_manifest", "c2pa_ai_generated"}
    watermark = by_label["ai_watermark"]
    assert watermark.score > 0.999999
    assert watermark.evidence["decision_id"] == decision.id
    assert watermark.evidence["output_id"] == marked.output_id
    assert by_label["c2pa_manifest"].evidence["state"] == "valid"
    stored = marking_guard.get_decision(upload.id)
    assert stored.reasons[0].findings  # the reason carries the findings it used

    # Metadata stripped and re-encoded: the watermark alone still labels and links it.
    pixels = np.asarray(PILImage.open(io.BytesIO(marked.data)).convert("RGB"))
    stripped = scan(marking_guard, images.encode(images.jpeg(pixels, 70), "JPEG"))
    assert stripped.rules == ["ai_generated_content"]
    assert [f.label for f in stripped.findings] == ["ai_watermark"]
    assert stripped.findings[0].evidence["decision_id"] == decision.id


def test_unmarked_upload_gets_no_provenance_findings(upload_guard: Guard) -> None:
    upload = scan(upload_guard, images.encode(images.drawing(3), "JPEG", quality=80))
    assert upload.findings == ()
    assert upload.action is Action.ALLOW
    assert upload.rules == []


def test_tampered_manifest_is_reported_but_not_believed(marking_guard: Guard) -> None:
    marked = marking_guard.mark(images.encode(images.photo("coffee"), "JPEG"), None)
    tampered = bytearray(marked.data)
    tampered[len(tampered) * 3 // 4] ^= 0x55
    detector = C2paDetector()
    detector.bind(marking_guard.components.context)
    findings = detector.detect(as_image(bytes(tampered)), subject=SUBJECT_UPLOAD)
    assert [f.label for f in findings] == ["c2pa_manifest"]
    assert findings[0].evidence["state"] == "invalid"


def test_unbound_detector_fails_closed() -> None:
    data = images.encode(images.noise(0))
    with pytest.raises(ConfigError):
        WatermarkDetector().detect(as_image(data), subject=SUBJECT_UPLOAD)


def test_provenance_detectors_alone_do_not_screen_images(dev_settings: Settings) -> None:
    # Only non-screening detectors accept images here: an input photo still fails closed.
    only = dev_settings.model_copy(
        update={"detectors": ["prompt_lexicon", "provenance_watermark", "provenance_c2pa"]}
    )
    guard = Guard.from_settings(only)
    decision = guard.check_generation("add a hat", [images.encode(images.noise(0))])
    guard.close()
    assert decision.action is Action.BLOCK
    assert FAIL_CLOSED_RULE in decision.rules
