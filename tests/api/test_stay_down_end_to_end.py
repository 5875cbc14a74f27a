"""The done-when items that span hash banks and the workflow, end to end over HTTP.

(a) A TAKE IT DOWN request for an intimate deepfake shows its 48-hour deadline from receipt;
the decision removes the item and its known identical copies (same bytes, and a re-encoded
copy), and the re-upload — the same bytes, a re-encoded JPEG, a slightly cropped copy — is
blocked by ``guard.scan_upload`` (and ``POST /v1/uploads/scan``).
(b) An appeal reversed by a second reviewer restores the item and its copies, lifts stay-down
(the re-upload is allowed again) and appears in the outcome counts.

The pictures are scikit-image's benign sample photos: the notice's category makes the case
about an intimate deepfake, not the pixels.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from bastion.guard import Guard
from bastion.hashing import pdq
from bastion.policy.model import Action
from bastion.storage.keys import Role
from bastion.testing.images import jpeg, sample_photo

INTIMATE = "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN"
DEEPFAKE = "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN"
BASE = "https://pics.example/i/"


def bearer(tokens: dict[Role, str], role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def crop(array: np.ndarray, fraction: float) -> np.ndarray:
    h, w = array.shape[:2]
    dy, dx = round(h * fraction), round(w * fraction)
    return np.ascontiguousarray(array[dy : h - dy, dx : w - dx])


PHOTO = sample_photo("chelsea")
ORIGINAL = jpeg(PHOTO, quality=92)
REENCODED_COPY = jpeg(PHOTO, quality=75)  # a copy someone else uploaded
REUPLOADS = {
    "same bytes": ORIGINAL,
    "re-encoded JPEG": jpeg(PHOTO, quality=55),
    "slightly cropped": jpeg(crop(PHOTO, 0.01), quality=80),
}


@pytest.fixture
def tokens(app_client: tuple[TestClient, dict[Role, str]]) -> dict[Role, str]:
    return app_client[1]


def upload(client: TestClient, tokens: dict[Role, str], content_id: str, data: bytes) -> Any:
    """What a platform does with an upload: scan it, then register it with its hashes."""
    scanned = client.post(
        "/v1/uploads/scan",
        content=data,
        headers={**bearer(tokens, Role.SERVICE), "content-type": "image/jpeg"},
    )
    assert scanned.status_code == 200, scanned.text
    assert scanned.json()["action"] == "allow"
    registered = client.post(
        "/v1/content",
        json={
            "content_id": content_id,
            "url": BASE + content_id,
            "sha256": hashlib.sha256(data).hexdigest(),
            "pdq": pdq.hash_bytes(data).hash.hex,
            "account_id": f"acct-{content_id}",
            "account_contact": f"{content_id}@users.example",
            "content_types": ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_SYNTHETIC_MEDIA"],
        },
        headers=bearer(tokens, Role.SERVICE),
    )
    assert registered.status_code == 201, registered.text
    return registered.json()


def take_it_down(client: TestClient) -> dict[str, Any]:
    response = client.post(
        "/v1/notices",
        json={
            "type": "take_it_down",
            "explanation": "An AI-generated intimate image of me, posted without my consent.",
            "locations": [BASE + "img-1"],
            "category": INTIMATE,
            "keywords": [DEEPFAKE],
            "jurisdiction": "US",
            "notifier_name": "Rae Requester",
            "notifier_email": "rae@example.org",
            "bona_fide": True,
            "signature": "Rae Requester",
            "non_consent_statement": "I never consented to this image being made or posted.",
            "requester_role": "individual",
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def removed(client: TestClient, tokens: dict[Role, str]) -> tuple[str, dict[str, Any]]:
    """Three uploads (the original, the same bytes again, a re-encoded copy), a TAKE IT DOWN
    request about the first, and the removal. Returns (case id, decision)."""
    upload(client, tokens, "img-1", ORIGINAL)
    upload(client, tokens, "img-2", ORIGINAL)
    upload(client, tokens, "img-3", REENCODED_COPY)
    notice = take_it_down(client)
    (case_id,) = notice["case_ids"]
    decided = client.post(
        f"/v1/cases/{case_id}/decision",
        json={
            "visibility": "remove",
            "ground": "illegal",
            "legal_ground_id": "us_take_it_down",
            "explanation": "Valid TAKE IT DOWN request about an intimate deepfake.",
        },
        headers=bearer(tokens, Role.MODERATOR),
    )
    assert decided.status_code == 201, decided.text
    return case_id, dict(decided.json())


def states(client: TestClient, tokens: dict[Role, str]) -> dict[str, str]:
    return {
        cid: client.get(f"/v1/content/{cid}", headers=bearer(tokens, Role.SERVICE)).json()["state"]
        for cid in ("img-1", "img-2", "img-3")
    }


def test_take_it_down_removes_copies_and_the_reupload_is_blocked(
    client: TestClient, tokens: dict[Role, str], guard: Guard
) -> None:
    upload(client, tokens, "img-1", ORIGINAL)
    upload(client, tokens, "img-2", ORIGINAL)
    upload(client, tokens, "img-3", REENCODED_COPY)
    notice = take_it_down(client)
    received = datetime.fromisoformat(notice["received_at"])
    clocks = {d["regime"]: d for d in notice["deadlines"]}
    assert datetime.fromisoformat(clocks["take_it_down"]["due_at"]) - received == timedelta(
        hours=48
    )
    (case_id,) = notice["case_ids"]
    case = client.get(f"/v1/cases/{case_id}", headers=bearer(tokens, Role.MODERATOR)).json()
    shown = {d["regime"]: d for d in case["deadlines"]}
    assert datetime.fromisoformat(shown["take_it_down"]["due_at"]) == received + timedelta(hours=48)
    assert case["category"] == INTIMATE

    decided = client.post(
        f"/v1/cases/{case_id}/decision",
        json={
            "visibility": "remove",
            "ground": "illegal",
            "legal_ground_id": "us_take_it_down",
            "explanation": "Valid TAKE IT DOWN request about an intimate deepfake.",
        },
        headers=bearer(tokens, Role.MODERATOR),
    ).json()
    assert len(decided["copies_removed"]) == 2  # the same bytes, and the re-encoded copy
    assert states(client, tokens) == {"img-1": "removed", "img-2": "removed", "img-3": "removed"}
    met = client.get(f"/v1/cases/{case_id}", headers=bearer(tokens, Role.MODERATOR)).json()
    assert all(d["met_at"] for d in met["deadlines"])  # removed within the clock

    removals = {d["id"] for d in met["decisions"]}  # the request's and one per copy
    assert len(removals) == 3
    for name, data in REUPLOADS.items():
        decision = guard.scan_upload(data)
        assert decision.action is Action.BLOCK, name
        assert "stay_down_match" in decision.rules, name
        match = next(f for f in decision.findings if f.label == "hash_match")
        assert match.evidence["bank"] == "removed_content"
        assert match.evidence["decision_id"] in removals
        assert match.evidence["case_id"] == case_id
    exact = guard.scan_upload(ORIGINAL)
    assert "removed_content_identical" in exact.rules  # the SHA-256 of a removed item
    over_http = client.post(
        "/v1/uploads/scan",
        content=REUPLOADS["re-encoded JPEG"],
        headers={**bearer(tokens, Role.SERVICE), "content-type": "image/jpeg"},
    ).json()
    assert over_http["action"] == "block"
    assert over_http["rules"] == ["stay_down_match"]
    assert guard.scan_upload(jpeg(sample_photo("coffee"))).action is Action.ALLOW

    # The blocked re-uploads became cases (hashes only), in the queue with the removal's category.
    queue = client.get("/v1/cases?state=open", headers=bearer(tokens, Role.MODERATOR)).json()
    blocked = [c for c in queue["cases"] if c["id"] != case_id]
    assert blocked
    assert all(c["category"] == INTIMATE for c in blocked)


def test_a_reversed_appeal_restores_the_item_and_lifts_stay_down(
    client: TestClient, tokens: dict[Role, str], guard: Guard
) -> None:
    case_id, decision = removed(client, tokens)
    for data in REUPLOADS.values():
        assert guard.scan_upload(data).action is Action.BLOCK
    token = _appeal_token(guard, decision["id"])
    lodged = client.post(
        "/v1/appeals",
        json={"token": token, "explanation": "This is my own picture and I posted it myself."},
    )
    assert lodged.status_code == 201, lodged.text
    appeal_id = lodged.json()["id"]
    reverse = {"outcome": "reversed", "response": "The uploader is the person depicted."}
    same_reviewer = client.post(
        f"/v1/appeals/{appeal_id}/decision", json=reverse, headers=bearer(tokens, Role.MODERATOR)
    )
    assert same_reviewer.status_code == 403  # the original reviewer may not decide it
    second = client.post(
        f"/v1/appeals/{appeal_id}/decision", json=reverse, headers=bearer(tokens, Role.ADMIN)
    )
    assert second.status_code == 200, second.text
    assert second.json()["outcome"] == "reversed"

    assert states(client, tokens) == {"img-1": "visible", "img-2": "visible", "img-3": "visible"}
    for name, data in REUPLOADS.items():
        assert guard.scan_upload(data).action is Action.ALLOW, name
    entries = list(guard.banks.entries("removed_content"))
    # The original's and both copies' PDQ and SHA-256 entries: disabled, not deleted.
    assert sorted(e.signal_type.value for e in entries) == ["pdq"] * 3 + ["sha256"] * 3
    assert not any(e.enabled for e in entries)
    again = client.post(
        "/v1/content",
        json={"content_id": "img-4", "sha256": hashlib.sha256(ORIGINAL).hexdigest()},
        headers=bearer(tokens, Role.SERVICE),
    )
    assert again.status_code == 201  # the exact-copy list is lifted too

    outcomes = client.get("/v1/appeals/outcomes", headers=bearer(tokens, Role.MODERATOR)).json()
    assert outcomes["total"]["reversed"] == 1
    assert outcomes["by_basis"]["visibility"]["reversed"] == 1
    for removal in client.get(
        f"/v1/cases/{case_id}", headers=bearer(tokens, Role.MODERATOR)
    ).json()["decisions"]:
        record = client.get(
            f"/v1/moderation-decisions/{removal['id']}", headers=bearer(tokens, Role.MODERATOR)
        )
        assert record.json()["status"] == "reversed"  # the removal and both copies


def _appeal_token(guard: Guard, decision_id: str) -> str:
    """The uploader's appeal link, from the statement of reasons in the (file) outbox."""
    outbox = guard.settings.data_dir / "outbox"
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(("plain",))
        assert body is not None
        text = str(message["Subject"]) + "\n" + body.get_content()
        if decision_id in text and "Statement of reasons" in text:
            found = re.search(r"/appeal\?token=([\w-]+)", text)
            assert found is not None
            return found.group(1)
    raise AssertionError(f"no statement for decision {decision_id} in {outbox}")
