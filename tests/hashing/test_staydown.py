"""Stay-down: blocked images are banked (hash only) and their re-uploads are blocked.

check_output (issue 3) is not on this branch: the effect is exercised with a blocked upload
decision (a fake image detector) and with a blocked decision on the output surface.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bastion.content import Image
from bastion.detectors.runner import Item
from bastion.findings import SUBJECT_OUTPUT
from bastion.guard import Guard
from bastion.policy.model import Action, Decision, Reason, Severity, Surface
from bastion.settings import Settings
from bastion.staydown import StayDown
from bastion.staydown.effect import StayDownEffect
from bastion.testing import fake_detector_class, make_registry
from tests.hashing.conftest import TRANSFORMS, crop, encode, photo

FLAGGED: set[str] = set()


def pdq_entries(guard: Guard, bank: str) -> list[Any]:
    """A stay-down bank's PDQ entries (each banked image also has an exact ``sha256`` one)."""
    return [e for e in guard.banks.entries(bank) if e.signal_type.value == "pdq"]


def signal_types(guard: Guard, bank: str) -> list[str]:
    return sorted(e.signal_type.value for e in guard.banks.entries(bank))


def _decide(image: object) -> list[tuple[str, float]]:
    assert isinstance(image, Image)
    return [("sexual_explicit", 0.95)] if image.sha256 in FLAGGED else []


FakeExposure = fake_detector_class(
    "fake_exposure", ["sexual_explicit"], accepts=Image, decide=_decide
)


@pytest.fixture
def guard(settings: Settings) -> Guard:
    enabled = settings.model_copy(
        update={"detectors": ["prompt_lexicon", "hash_match", "fake_exposure"]}
    )
    guard = Guard.from_settings(enabled, registry=make_registry(FakeExposure, with_builtins=True))
    yield guard  # type: ignore[misc]
    guard.close()


def test_blocked_upload_is_banked_and_variants_stay_down(guard: Guard) -> None:
    original = encode(photo("chelsea"))
    FLAGGED.add(Image.from_bytes(original, max_bytes=10**8).sha256)
    first = guard.scan_upload(original)
    assert first.action is Action.BLOCK
    assert "adult_explicit_content" in first.rules
    assert signal_types(guard, "removed_content") == ["pdq", "sha256"]  # one image, two signals
    entries = pdq_entries(guard, "removed_content")
    assert len(entries) == 1
    assert entries[0].decision_id == first.id
    assert len(entries[0].variants) == 4  # centred crops, hashes only
    # The fake detector no longer flags anything: only the bank can block now.
    FLAGGED.clear()
    for name, transform in TRANSFORMS.items():
        decision = guard.scan_upload(transform(photo("chelsea")))
        assert decision.action is Action.BLOCK, name
        assert "stay_down_match" in decision.rules, name
    assert guard.scan_upload(encode(photo("coffee"))).action is Action.ALLOW


def test_blocked_output_is_banked_by_the_effect(guard: Guard) -> None:
    output = encode(photo("astronaut"))
    reason = Reason("adult_explicit_content", "", Action.BLOCK, Severity.HIGH)
    decision = Decision(
        action=Action.BLOCK, severity=Severity.HIGH, surface=Surface.OUTPUT, reasons=(reason,)
    )
    item = Item(Image.from_bytes(output, max_bytes=10**8), SUBJECT_OUTPUT)
    StayDownEffect(StayDown(guard.banks)).after(decision, [item])
    (entry,) = pdq_entries(guard, "blocked_generations")
    assert entry.source == "guard:blocked_output"
    assert entry.decision_id == decision.id
    reupload = encode(crop(photo("astronaut"), 0.04), quality=60)
    result = guard.scan_upload(reupload)
    assert result.action is Action.BLOCK
    assert result.rules == ["stay_down_match"]
    match = next(f for f in result.findings if f.label == "hash_match")
    assert match.evidence["bank"] == "blocked_generations"
    assert match.evidence["decision_id"] == decision.id


def test_allowed_and_generation_decisions_bank_nothing(guard: Guard) -> None:
    data = encode(photo("rocket"))
    item = Item(Image.from_bytes(data, max_bytes=10**8), SUBJECT_OUTPUT)
    effect = StayDownEffect(StayDown(guard.banks))
    effect.after(
        Decision(action=Action.ALLOW, severity=Severity.NONE, surface=Surface.OUTPUT), [item]
    )
    effect.after(
        Decision(action=Action.BLOCK, severity=Severity.HIGH, surface=Surface.GENERATION),
        [item],
    )
    assert [b.name for b in guard.banks.banks()] == []


def test_known_csam_hash_blocks_critically_and_escalates(guard: Guard) -> None:
    guard.banks.create_bank("csam_list", "csam")
    data = encode(photo("coins"))
    guard.banks.add_image("csam_list", data, added_by="t")
    decision = guard.scan_upload(encode(photo("coins"), quality=50))
    assert decision.action is Action.BLOCK
    assert decision.rules == ["known_csam_hash"]
    assert decision.escalate
    assert decision.severity is Severity.CRITICAL


def test_scan_upload_refuses_bad_bytes(guard: Guard) -> None:
    from bastion.errors import InvalidInput

    with pytest.raises(InvalidInput):
        guard.scan_upload(b"\xff\xd8\xff not really a jpeg")
    with pytest.raises(InvalidInput):
        guard.scan_upload(b"hello")


def test_flat_upload_is_not_matched(guard: Guard) -> None:
    guard.banks.create_bank("b", "ncii")
    flat = encode(np.full((300, 300, 3), 90, dtype=np.uint8), "PNG")
    StayDown(guard.banks).add_removed_hash(guard.banks.query_hashes(flat)[0].hash)
    decision = guard.scan_upload(flat)
    assert decision.action is Action.ALLOW
    pdq = next(f for f in decision.findings if f.label == "pdq_hash")
    assert pdq.evidence["quality"] < 50


def test_a_scanned_upload_is_decoded_once(guard: Guard, monkeypatch: pytest.MonkeyPatch) -> None:
    """scan_upload decodes (for its typed error); the hash detector and stay-down reuse it."""
    import bastion.decode_views as views_module

    calls: list[int] = []
    real = views_module.decode_views

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(views_module, "decode_views", counting)
    original = encode(photo("coffee"))
    FLAGGED.add(Image.from_bytes(original, max_bytes=10**8).sha256)
    try:
        decision = guard.scan_upload(original)  # hashed, matched, blocked and banked
    finally:
        FLAGGED.clear()
    assert decision.action is Action.BLOCK
    assert any(f.label == "pdq_hash" for f in decision.findings)
    assert len(pdq_entries(guard, "removed_content")) == 1
    assert len(calls) == 1


def _count_pixel_decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts intake passes that decode analysis RGB (the pixels the image models read)."""
    import bastion.decode_views as views_module

    calls: list[int] = []
    real = views_module.decode_views

    def counting(*args: object, **kwargs: object) -> object:
        if kwargs.get("rgb", True):
            calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(views_module, "decode_views", counting)
    return calls


def test_a_hash_only_upload_scan_skips_the_pixel_decode(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no detector that reads pixels, an upload is decoded once, for hashing only; bad
    bytes are still a typed error."""
    from bastion.errors import InvalidInput

    hash_only = settings.model_copy(update={"detectors": ["prompt_lexicon", "hash_match"]})
    guard = Guard.from_settings(hash_only)
    try:
        calls = _count_pixel_decodes(monkeypatch)
        decision = guard.scan_upload(encode(photo("camera")))
        assert any(f.label == "pdq_hash" for f in decision.findings)
        assert calls == []
        with pytest.raises(InvalidInput) as raised:
            guard.scan_upload(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
        assert raised.value.status == 422
    finally:
        guard.close()


def test_an_upload_scan_with_a_pixel_detector_decodes_pixels(
    guard: Guard, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_pixel_decodes(monkeypatch)
    guard.scan_upload(encode(photo("camera")))
    assert calls


def _gif(*frames: np.ndarray) -> bytes:
    import io

    from PIL import Image as PILImage

    pictures = [PILImage.fromarray(f) for f in frames]
    out = io.BytesIO()
    pictures[0].save(out, "GIF", save_all=True, append_images=pictures[1:], duration=100)
    return out.getvalue()


def test_an_animated_upload_is_matched_on_every_frame(guard: Guard) -> None:
    """A harmless first frame does not hide a banked second frame."""
    guard.banks.create_bank("known_csam", "csam")
    # GIF frames share the first frame's canvas: both pictures have one size.
    banked = np.ascontiguousarray(photo("coffee")[:400, :400])
    guard.banks.add_image("known_csam", encode(banked), added_by="test")
    harmless = np.ascontiguousarray(photo("camera")[:400, :400])
    assert guard.scan_upload(encode(harmless)).action is Action.ALLOW
    decision = guard.scan_upload(_gif(harmless, banked))
    assert decision.action is Action.BLOCK, guard.explain(decision)
    assert any(f.label == "hash_match" for f in decision.findings)


BROKEN: list[bool] = [False]


def _fail_while_broken(image: object) -> list[tuple[str, float]]:
    if BROKEN[0]:
        raise RuntimeError("model backend unavailable")
    return []


FlakyScreen = fake_detector_class(
    "flaky_screen", ["sexual_explicit"], accepts=Image, decide=_fail_while_broken
)


def _rows(guard: Guard, table: str) -> int:
    from sqlalchemy import text

    with guard.db.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.mark.parametrize("surface", ["upload", "output"])
def test_a_detector_failure_block_is_never_banked_and_opens_no_case(
    settings: Settings, surface: str
) -> None:
    """Issue 9: an outage is not evidence. A block whose only reason is a failed detector
    leaves no stay-down entry and no case, and the same image is allowed once it recovers."""
    enabled = settings.model_copy(
        update={"detectors": ["prompt_lexicon", "hash_match", "flaky_screen"]}
    )
    guard = Guard.from_settings(enabled, registry=make_registry(FlakyScreen, with_builtins=True))
    check = guard.scan_upload if surface == "upload" else guard.check_output
    image = encode(photo("chelsea"))
    try:
        BROKEN[0] = True
        failed = check(image)
        assert failed.action is Action.BLOCK
        assert failed.rules == ["detector_failure"]
        assert failed.content_action is Action.ALLOW
        for bank in ("removed_content", "blocked_generations"):
            assert [b.name for b in guard.banks.banks() if b.name == bank] == [] or not list(
                guard.banks.entries(bank)
            )
        assert _rows(guard, "wf_cases") == 0
        assert _rows(guard, "wf_detections") == 0
        BROKEN[0] = False
        recovered = check(image)
        assert recovered.action is Action.ALLOW, recovered.rules
    finally:
        BROKEN[0] = False
        guard.close()


def test_a_reviewer_who_finds_no_violation_lifts_the_automatic_block(guard: Guard) -> None:
    """One stay-down: an automatic block banks the image and opens a case; a person who finds
    nothing to restrict in that case lifts the bank entry, so the image is allowed again."""
    from bastion.workflow import decisions, queue
    from bastion.workflow.decisions import DecisionInput
    from tests.workflow.conftest import MOD_A

    original = encode(photo("coffee"))
    FLAGGED.add(Image.from_bytes(original, max_bytes=10**8).sha256)
    try:
        assert guard.scan_upload(original).action is Action.BLOCK
    finally:
        FLAGGED.clear()
    (entry,) = pdq_entries(guard, "removed_content")
    (exact,) = [e for e in guard.banks.entries("removed_content") if e.signal_type.value != "pdq"]
    assert guard.scan_upload(original).action is Action.BLOCK  # it stays down
    wf = guard.workflow(auto_dispatch=False)
    case = next(c for c in queue.queue(wf) if c["state"] == "open")
    decisions.decide(
        wf,
        case["id"],
        DecisionInput(explanation="A coffee cup; nothing sexual.", keyword_other="none found"),
        MOD_A,
    )
    assert not guard.banks.entry(entry.id).enabled  # disabled, never deleted
    assert not guard.banks.entry(exact.id).enabled
    assert guard.scan_upload(original).action is Action.ALLOW
