"""guard.mark and guard.verify: both layers, the decision link, refusals and C2PA states."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from bastion.errors import (
    AlreadyPaired,
    ConfigError,
    InvalidInput,
    NotAnOutputDecision,
    NotFound,
    OutputMismatch,
    OutputNotAllowed,
)
from bastion.guard import Guard
from bastion.provenance.c2pa import ManifestVerifier
from bastion.provenance.devca import ensure_dev_signer
from bastion.settings import Settings
from tests.conftest import TEST_SECRET
from tests.provenance import images


@pytest.fixture(scope="module")
def photo_jpeg() -> bytes:
    return images.encode(images.photo("coffee"), "JPEG", quality=92)


def allowed(guard: Guard, image: bytes) -> str:
    """The id of the output check that allowed ``image`` (what a mark binds to)."""
    decision = guard.check_output(image)
    assert decision.action.value == "allow", decision.rules
    return decision.id


def strip_metadata(data: bytes, quality: int = 85) -> bytes:
    """Re-encode the pixels only: no EXIF, no XMP, no C2PA."""
    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    return images.encode(pixels, "JPEG", quality=quality)


def test_mark_then_verify_links_to_the_decision(marking_guard: Guard, photo_jpeg: bytes) -> None:
    decision_id = allowed(marking_guard, photo_jpeg)
    marked = marking_guard.mark(photo_jpeg, decision_id, generator="ExampleDiffusion 2")
    assert marked.media_type == "image/jpeg"
    assert marked.decision_id == decision_id
    assert marked.watermark_verified
    assert marked.development_signer
    assert "DEVELOPMENT" in marked.signer

    report = marking_guard.verify(marked.data)
    assert report.decision_id == decision_id
    assert report.watermark.detection.detected
    assert report.watermark.linked
    assert report.watermark.own_issuer
    assert report.watermark.to_dict()["output_id"] == marked.output_id
    assert report.c2pa.state == "valid"  # the service trusts its own signing root
    assert report.c2pa.ai_generated
    assert report.c2pa.generator == "ExampleDiffusion 2"
    assert report.c2pa.soft_binding is not None
    assert report.c2pa.soft_binding.output_hex == marked.output_id


def test_stripped_and_recompressed_copy_still_links(
    marking_guard: Guard, photo_jpeg: bytes
) -> None:
    decision_id = allowed(marking_guard, photo_jpeg)
    marked = marking_guard.mark(photo_jpeg, decision_id)
    stripped = strip_metadata(marked.data)
    report = marking_guard.verify(stripped)
    assert report.c2pa.state == "absent"
    assert report.watermark.detection.detected
    assert report.decision_id == decision_id
    smaller = images.encode(images.resize(images.decode(stripped), 0.5), "JPEG", quality=60)
    assert marking_guard.verify(smaller).decision_id == decision_id


def test_png_with_alpha_keeps_format_and_alpha(marking_guard: Guard) -> None:
    rgba = np.dstack([images.photo("rocket", (800, 600)), np.full((600, 800), 200, np.uint8)])
    png = images.encode(rgba, "PNG")
    marked = marking_guard.mark(png, allowed(marking_guard, png))
    assert marked.media_type == "image/png"
    out = Image.open(io.BytesIO(marked.data))
    assert out.mode == "RGBA"
    assert np.asarray(out)[..., 3].min() == 200
    assert marking_guard.verify(marked.data).c2pa.state == "valid"


def test_blocked_and_unknown_decisions_are_refused(marking_guard: Guard, photo_jpeg: bytes) -> None:
    blocked = marking_guard.check_generation("make her naked")
    with pytest.raises(OutputNotAllowed):
        marking_guard.mark(photo_jpeg, blocked)
    with pytest.raises(OutputNotAllowed):
        marking_guard.mark(photo_jpeg, blocked.id)
    with pytest.raises(NotFound):
        marking_guard.mark(photo_jpeg, "no-such-decision")
    with pytest.raises(InvalidInput):
        marking_guard.mark(photo_jpeg, 123)  # type: ignore[arg-type]
    assert marking_guard.provenance.marks.for_decision(blocked.id) == []


def test_a_blocked_output_is_never_marked(marking_guard: Guard, photo_jpeg: bytes) -> None:
    """Issue 9: an output the output check blocked (a known-NCII hash) gets no mark, whatever
    decision it is presented with."""
    marking_guard.banks.create_bank("ncii_test", "ncii")
    marking_guard.banks.add_image("ncii_test", photo_jpeg, added_by="test")
    generation = marking_guard.check_generation("a watercolour lighthouse at dusk")
    assert generation.action.value == "allow"
    output = marking_guard.check_output(photo_jpeg, request=generation)
    assert output.blocked
    with pytest.raises(OutputNotAllowed):
        marking_guard.mark(photo_jpeg, output)
    # The allowed generation decision says nothing about the image: refused, typed.
    with pytest.raises(NotAnOutputDecision):
        marking_guard.mark(photo_jpeg, generation.id)
    assert marking_guard.provenance.marks.for_decision(output.id) == []
    assert marking_guard.provenance.marks.for_decision(generation.id) == []


def test_a_mark_binds_to_the_checked_bytes(marking_guard: Guard, photo_jpeg: bytes) -> None:
    decision_id = allowed(marking_guard, photo_jpeg)
    other = images.encode(images.photo("rocket"), "JPEG", quality=90)
    with pytest.raises(OutputMismatch):
        marking_guard.mark(other, decision_id)
    upload = marking_guard.scan_upload(photo_jpeg)
    with pytest.raises(NotAnOutputDecision):
        marking_guard.mark(photo_jpeg, upload.id)
    # An API caller marks only its own outputs; another key does not learn the id exists.
    owned = marking_guard.check_output(photo_jpeg, principal="key-a")
    with pytest.raises(NotFound):
        marking_guard.mark(photo_jpeg, owned.id, principal="key-b")
    assert marking_guard.mark(photo_jpeg, owned.id, principal="key-a").decision_id == owned.id


def test_a_request_is_paired_by_its_own_key_once_per_output(
    marking_guard: Guard, photo_jpeg: bytes
) -> None:
    request = marking_guard.check_generation("a red kite over a field", principal="key-a")
    stored = marking_guard.get_decision(request.id)
    assert stored.principal == "key-a"
    with pytest.raises(NotFound):
        marking_guard.check_output(photo_jpeg, request=stored, principal="key-b")
    first = marking_guard.check_output(photo_jpeg, request=stored, principal="key-a")
    assert first.request_id == request.id
    # Checked again (a retry): the first decision, no second check and no second pairing.
    again = marking_guard.check_output(photo_jpeg, request=stored, principal="key-a")
    assert again.id == first.id
    other = images.encode(images.photo("rocket"), "JPEG", quality=90)
    assert marking_guard.check_output(other, request=stored, principal="key-a").request_id
    # A refused image leaves no pairing behind: the output can be checked once it is valid.
    with pytest.raises(InvalidInput):
        marking_guard.check_output(b"not an image", request=stored, principal="key-a")


def test_a_request_has_at_most_its_outputs(settings: Settings) -> None:
    limited = settings.model_copy(update={"outputs_per_request": 2})
    guard = Guard.from_settings(limited)
    try:
        request = guard.check_generation("a red kite over a field")
        for name in ("coffee", "rocket"):
            guard.check_output(images.encode(images.photo(name), "JPEG"), request=request)
        with pytest.raises(AlreadyPaired, match="outputs_per_request"):
            guard.check_output(images.encode(images.photo("chelsea"), "JPEG"), request=request)
    finally:
        guard.close()


def test_a_forged_allow_does_not_pass(marking_guard: Guard, photo_jpeg: bytes) -> None:
    from dataclasses import replace

    from bastion.policy.model import Action

    blocked = marking_guard.check_generation("make her naked")
    with pytest.raises(OutputNotAllowed):  # the stored record is what counts
        marking_guard.mark(photo_jpeg, replace(blocked, action=Action.ALLOW))
    output = marking_guard.check_output(photo_jpeg)
    forged = replace(output, surface=blocked.surface, id=blocked.id, action=Action.ALLOW)
    with pytest.raises(NotAnOutputDecision):
        marking_guard.mark(photo_jpeg, forged)


def test_unlinked_mark_and_bad_images(marking_guard: Guard, photo_jpeg: bytes) -> None:
    marked = marking_guard.mark(photo_jpeg, None)
    assert marked.decision_id is None
    report = marking_guard.verify(marked.data)
    assert report.watermark.linked
    assert report.decision_id is None
    for bad in (b"", b"not an image", photo_jpeg[:200]):
        with pytest.raises(InvalidInput):
            marking_guard.mark(bad, None)
        with pytest.raises(InvalidInput):
            marking_guard.verify(bad)
    with pytest.raises(InvalidInput):  # too small to carry a watermark
        marking_guard.mark(images.encode(images.noise(1, (120, 90))), None)


def test_marking_needs_a_signing_certificate(settings: Settings, photo_jpeg: bytes) -> None:
    guard = Guard.from_settings(settings)
    with pytest.raises(ConfigError, match="C2PA signing is not configured"):
        guard.mark(photo_jpeg, allowed(guard, photo_jpeg))
    assert guard.verify(photo_jpeg).c2pa.state == "absent"  # verifying needs no certificate
    guard.close()


def test_configured_certificate_is_used(settings: Settings, tmp_path: object) -> None:
    files = ensure_dev_signer(settings.data_dir / "elsewhere")
    configured = Settings.load(
        data_dir=settings.data_dir,
        secret_key=TEST_SECRET,
        c2pa_cert_file=files.chain,
        c2pa_key_file=files.key,
    )
    guard = Guard.from_settings(configured)
    marked = guard.mark(images.encode(images.photo("chelsea")), None)
    assert guard.verify(marked.data).c2pa.state == "valid"
    # Another deployment that does not trust this root sees an intact but untrusted manifest.
    assert ManifestVerifier().verify(marked.data, "image/png").state == "untrusted"
    guard.close()
    broken = Settings.load(
        data_dir=settings.data_dir,
        secret_key=TEST_SECRET,
        c2pa_cert_file=files.key,
        c2pa_key_file=files.key,
    )
    guard = Guard.from_settings(broken)
    with pytest.raises(ConfigError):
        guard.mark(images.encode(images.photo("chelsea")), None)
    guard.close()


def test_tampered_manifest_is_invalid(marking_guard: Guard, photo_jpeg: bytes) -> None:
    marked = marking_guard.mark(photo_jpeg, allowed(marking_guard, photo_jpeg))
    tampered = bytearray(marked.data)
    tampered[len(tampered) * 3 // 4] ^= 0x55  # inside the compressed pixels, after the manifest
    report = marking_guard.verify(bytes(tampered))
    assert report.c2pa.state == "invalid"
    assert report.c2pa.failures
    # What the manifest claims is still reported, but its state says not to believe it.
    assert report.c2pa.ai_generated


def test_report_is_json(marking_guard: Guard, photo_jpeg: bytes) -> None:
    marked = marking_guard.mark(photo_jpeg, allowed(marking_guard, photo_jpeg))
    line = json.dumps(marking_guard.verify(marked.data).to_dict())
    data = json.loads(line)
    assert set(data) >= {"watermark", "c2pa", "decision_id", "sha256", "media_type"}
    assert data["watermark"]["detected"] is True
    assert data["c2pa"]["state"] == "valid"
    assert json.loads(json.dumps(marked.to_dict()))["watermark"]["verified"] is True


def test_development_ca_is_created_once_and_labelled(tmp_path: object) -> None:
    from pathlib import Path

    from cryptography import x509

    data_dir = Path(str(tmp_path)) / "data"
    first = ensure_dev_signer(data_dir)
    chain = first.chain.read_bytes()
    assert ensure_dev_signer(data_dir).chain.read_bytes() == chain  # reused, not replaced
    assert oct(first.key.stat().st_mode & 0o777) == "0o600"
    leaf, root = x509.load_pem_x509_certificates(chain)
    assert "DEVELOPMENT" in leaf.subject.rfc4514_string()
    assert "not for production" in root.subject.rfc4514_string()
    assert [p.name for p in data_dir.iterdir()] == ["c2pa-dev"]  # no staging folders left
