"""The Guard effect that opens cases for blocked or held uploads and outputs, and the\n``removed_content`` detector that blocks exact copies of removed content."""

from __future__ import annotations

import hashlib

import pytest

from bastion.content import Image
from bastion.detectors.runner import Item
from bastion.findings import SUBJECT_OUTPUT, Finding
from bastion.guard import Guard
from bastion.policy.model import Action, Decision, Reason, Severity, Surface
from bastion.storage.workflow import items as item_repo
from bastion.testing.images import jpeg, sample_photo
from bastion.workflow import appeals, cases, decisions, notices, queue
from bastion.workflow.cases import ItemInput
from bastion.workflow.decisions import DecisionInput
from bastion.workflow.detector import RemovedContentDetector
from bastion.workflow.effects import FALLBACK_CATEGORY, OpenCaseEffect
from bastion.workflow.service import PUBLIC
from tests.workflow.conftest import CYBER_W, MOD_A, MOD_B, tidk_notice

REMOVE = DecisionInput(
    visibility="remove",
    ground="illegal",
    legal_ground_id="us_take_it_down",
    explanation="Valid request about an intimate deepfake.",
)


def test_blocked_upload_becomes_a_case(guard: Guard) -> None:
    wf = guard.workflow(auto_dispatch=False)
    finding = Finding("pdq_bank", "bank_match", 1.0)
    decision = Decision(
        action=Action.BLOCK,
        severity=Severity.CRITICAL,
        surface=Surface.UPLOAD,
        reasons=(
            Reason(
                "known_hash_match",
                "d",
                Action.BLOCK,
                Severity.CRITICAL,
                (finding,),
                "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
                ("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",),
            ),
        ),
        content_sha256="aa" * 32,
    )
    effect = OpenCaseEffect(wf)
    effect.after(decision, [])
    effect.after(
        Decision(Action.ALLOW, Severity.NONE, Surface.UPLOAD, content_sha256="bb" * 32), []
    )
    found = queue.queue(wf)
    assert len(found) == 1
    assert found[0]["child_safety"] is True
    assert found[0]["keywords"] == ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]


# -- wired into the guard ------------------------------------------------------------------------

COINS = jpeg(sample_photo("coins"))
CAMERA = jpeg(sample_photo("camera"))


def test_the_guard_opens_cases_after_banking(guard: Guard) -> None:
    assert [e.name for e in guard.effects] == ["stay_down", "open_case"]


def test_a_known_csam_match_is_a_child_safety_case_kept_as_hashes(guard: Guard) -> None:
    guard.banks.create_bank("csam_list", "csam")
    guard.banks.add_image("csam_list", COINS, added_by="t")
    upload = jpeg(sample_photo("coins"), quality=60)
    decision = guard.scan_upload(upload)
    assert decision.rules == ["known_csam_hash"]
    wf = guard.workflow(auto_dispatch=False)
    (case,) = queue.queue(wf)
    assert case["child_safety"] is True
    assert case["priority"] == 0
    assert case["keywords"] == ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]
    view = queue.case_view(wf, case["id"])
    assert view["item"]["sha256"] == hashlib.sha256(upload).hexdigest()
    (detection,) = view["detections"]
    assert detection["source"] == "guard_upload"
    assert detection["rule"] == "known_csam_hash"
    assert detection["guard_decision_id"] == decision.id
    with wf.db.connect() as conn:
        item = item_repo.get(conn, case["item_id"])
    pdq = next(f for f in decision.findings if f.label == "pdq_hash")
    assert item.pdq == pdq.evidence["hash"]
    # Nothing of the image itself is stored: no run of its bytes is in the database files.
    guard.flush()
    stored = b"".join(p.read_bytes() for p in guard.settings.data_dir.glob("bastion.db*"))
    middle = len(upload) // 2
    assert upload[middle : middle + 48] not in stored


def test_a_held_upload_is_a_case_and_repeats_do_not_flood_it(guard: Guard) -> None:
    guard.banks.create_bank("watch", "other")
    guard.banks.add_image("watch", CAMERA, added_by="t")
    for _ in range(3):
        assert guard.scan_upload(CAMERA).action is Action.REVIEW
    wf = guard.workflow(auto_dispatch=False)
    (case,) = queue.queue(wf)
    assert case["child_safety"] is False
    assert case["category"] == FALLBACK_CATEGORY
    assert len(queue.case_view(wf, case["id"])["detections"]) == 1


def test_critical_or_escalated_decisions_are_child_safety_first(guard: Guard) -> None:
    wf = guard.workflow(auto_dispatch=False)
    effect = OpenCaseEffect(wf)
    reason = Reason("custom_critical", "d", Action.BLOCK, Severity.CRITICAL, (), FALLBACK_CATEGORY)
    data = jpeg(sample_photo("rocket"))
    output = Item(Image.from_bytes(data, max_bytes=10**8), SUBJECT_OUTPUT)
    decision = Decision(Action.BLOCK, Severity.CRITICAL, Surface.OUTPUT, reasons=(reason,))
    effect.after(decision, [output])
    (case,) = queue.queue(wf)
    assert case["child_safety"] is True
    assert case["priority"] == 0
    view = queue.case_view(wf, case["id"])
    assert view["item"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert view["detections"][0]["source"] == "guard_output"


def test_an_exact_copy_of_removed_content_is_blocked_until_the_reversal(guard: Guard) -> None:
    issued: list[str] = []

    def token() -> str:
        issued.append(f"token-{len(issued)}")
        return issued[-1]

    wf = guard.workflow(auto_dispatch=False, new_token=token)
    sha = hashlib.sha256(CAMERA).hexdigest()
    with wf.db.begin() as conn:  # known by its SHA-256 only: no PDQ to bank
        cases.resolve_item(conn, wf, ItemInput(content_id="img-1", sha256=sha, account_id="acct-1"))
    case_id = notices.submit(wf, tidk_notice(locations=["img-1"]), channel="web", actor=PUBLIC)
    decisions.decide(wf, case_id.case_ids[0], REMOVE, MOD_A)

    blocked = guard.scan_upload(CAMERA)
    assert blocked.rules == ["removed_content_identical"]
    (finding,) = [f for f in blocked.findings if f.label == "removed_identical"]
    assert finding.evidence["category"] == CYBER_W
    assert "identical (same SHA-256)" in finding.explanation
    # The re-upload is a case about the removed item, with the removal's category; its hash is
    # not banked again (that entry would outlive a reversal).
    reupload_case = next(c for c in queue.queue(wf) if c["state"] == "open")
    assert reupload_case["category"] == CYBER_W
    # Only the removal's own exact entry: the re-upload banked nothing of its own.
    assert [e.signal_type.value for e in guard.banks.entries("removed_content")] == ["sha256"]
    appeal = appeals.lodge(wf, issued[0], "It is my own picture, I posted it myself.")
    appeals.decide(wf, appeal.id, outcome="reversed", response="Consent shown.", actor=MOD_B)
    assert guard.scan_upload(CAMERA).action is Action.ALLOW


def test_the_removed_content_detector_fails_closed_unbound() -> None:
    detector = RemovedContentDetector()
    with pytest.raises(RuntimeError):
        detector.detect(Image.from_bytes(CAMERA, max_bytes=10**8), subject="upload")
