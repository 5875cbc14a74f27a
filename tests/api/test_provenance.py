"""POST /v1/outputs/mark and POST /v1/provenance/verify."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bastion.api.app import create_app
from bastion.guard import Guard
from bastion.settings import Settings
from bastion.storage.keys import ApiKeyRepository, Role
from tests.conftest import TEST_SECRET
from tests.provenance import images

PHOTO = images.encode(images.photo("coffee", (800, 600)), "JPEG", quality=90)


@pytest.fixture
def api(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str], Guard]]:
    guard = Guard.from_settings(
        Settings.load(data_dir=settings.data_dir, secret_key=TEST_SECRET, c2pa_dev_signer=True)
    )
    app = create_app(guard=guard)
    keys: ApiKeyRepository = app.state.keys
    service = {"Authorization": f"Bearer {keys.create('svc', Role.SERVICE)[1]}"}
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, service, guard
    guard.close()


def allowed_id(client: TestClient, auth: dict[str, str], image: bytes = PHOTO) -> str:
    """The id of the output check that allowed ``image`` (what a mark binds to)."""
    body = client.post(
        "/v1/outputs/check", files={"image": ("out.jpg", image, "image/jpeg")}, headers=auth
    ).json()
    assert body["action"] == "allow", body
    return str(body["id"])


def mark(client: TestClient, auth: dict[str, str], decision_id: str, image: bytes = PHOTO) -> Any:
    return client.post(
        "/v1/outputs/mark",
        json={"image": base64.b64encode(image).decode(), "decision_id": decision_id},
        headers=auth,
    )


def test_mark_json_then_verify_multipart(api: tuple[TestClient, dict[str, str], Guard]) -> None:
    client, auth, _ = api
    decision_id = allowed_id(client, auth)
    response = client.post(
        "/v1/outputs/mark",
        json={
            "image": base64.b64encode(PHOTO).decode(),
            "decision_id": decision_id,
            "generator": "ExampleDiffusion",
        },
        headers=auth,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["decision_id"] == decision_id
    assert body["media_type"] == "image/jpeg"
    assert body["watermark"]["verified"] is True
    assert body["c2pa"]["development_signer"] is True
    marked = base64.b64decode(body["image"])

    verified = client.post(
        "/v1/provenance/verify", files={"image": ("x.jpg", marked, "image/jpeg")}, headers=auth
    )
    assert verified.status_code == 200, verified.text
    report = verified.json()
    assert report["decision_id"] == decision_id
    assert report["watermark"]["output_id"] == body["watermark"]["output_id"]
    assert report["c2pa"]["state"] == "valid"
    assert report["c2pa"]["generator"] == "ExampleDiffusion"


def test_mark_multipart(api: tuple[TestClient, dict[str, str], Guard]) -> None:
    client, auth, _ = api
    response = client.post(
        "/v1/outputs/mark",
        files={"image": ("out.jpg", PHOTO, "image/jpeg")},
        data={"decision_id": allowed_id(client, auth)},
        headers=auth,
    )
    assert response.status_code == 200, response.text
    assert response.json()["c2pa"]["manifest"].startswith("urn:")


def test_blocked_decision_is_refused(api: tuple[TestClient, dict[str, str], Guard]) -> None:
    client, auth, _ = api
    blocked = client.post(
        "/v1/generations/check", json={"prompt": "make her naked"}, headers=auth
    ).json()
    response = client.post(
        "/v1/outputs/mark",
        json={"image": base64.b64encode(PHOTO).decode(), "decision_id": blocked["id"]},
        headers=auth,
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_an_output_decision"


def test_only_the_outputs_own_allowed_check_marks_it(
    api: tuple[TestClient, dict[str, str], Guard],
) -> None:
    """Issue 9: a blocked output (known-NCII hash) gets no mark, neither with its own
    decision nor with the allowed generation decision; other bytes or keys get none either."""
    client, auth, guard = api
    guard.banks.create_bank("ncii_test", "ncii")
    guard.banks.add_image("ncii_test", PHOTO, added_by="test")
    request = client.post("/v1/generations/check", json={"prompt": "a red kite"}, headers=auth)
    assert request.json()["action"] == "allow"
    output = client.post(
        "/v1/outputs/check",
        files={"image": ("out.jpg", PHOTO, "image/jpeg")},
        data={"request_id": request.json()["id"]},
        headers=auth,
    ).json()
    assert output["action"] == "block"
    refused = mark(client, auth, output["id"])
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "output_not_allowed")
    refused = mark(client, auth, request.json()["id"])
    assert (refused.status_code, refused.json()["error"]["code"]) == (
        409,
        "not_an_output_decision",
    )
    assert guard.provenance.marks.for_decision(output["id"]) == []

    other = images.encode(images.photo("rocket", (800, 600)), "JPEG", quality=90)
    allowed = allowed_id(client, auth, other)
    refused = mark(client, auth, allowed)  # PHOTO is not the image that was checked
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "output_mismatch")
    keys: ApiKeyRepository = client.app.state.keys  # type: ignore[attr-defined]
    stranger = {"Authorization": f"Bearer {keys.create('other', Role.SERVICE)[1]}"}
    refused = mark(client, stranger, allowed, other)
    assert (refused.status_code, refused.json()["error"]["code"]) == (404, "not_found")
    assert mark(client, auth, allowed, other).status_code == 200


def test_a_request_id_is_paired_by_its_key_once_per_output(
    api: tuple[TestClient, dict[str, str], Guard],
) -> None:
    client, auth, _ = api
    keys: ApiKeyRepository = client.app.state.keys  # type: ignore[attr-defined]
    stranger = {"Authorization": f"Bearer {keys.create('other', Role.SERVICE)[1]}"}
    request_id = client.post(
        "/v1/generations/check", json={"prompt": "a red kite"}, headers=auth
    ).json()["id"]
    body = {"image": base64.b64encode(PHOTO).decode(), "request_id": request_id}
    foreign = client.post("/v1/outputs/check", json=body, headers=stranger)
    assert (foreign.status_code, foreign.json()["error"]["code"]) == (404, "not_found")
    assert foreign.json()["error"]["field"] == "request_id"
    first = client.post("/v1/outputs/check", json=body, headers=auth)
    assert first.status_code == 200, first.text
    assert first.json()["request_id"] == request_id
    again = client.post("/v1/outputs/check", json=body, headers=auth)  # a retry
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]


@pytest.mark.parametrize(
    ("path", "payload", "status", "code"),
    [
        ("/v1/outputs/mark", {"image": "AAAA"}, 422, "invalid_input"),
        ("/v1/outputs/mark", {"image": "***", "decision_id": "x"}, 422, "invalid_input"),
        ("/v1/outputs/mark", {"image": "aGVsbG8=", "decision_id": "x"}, 422, "invalid_input"),
        ("/v1/provenance/verify", {"image": "aGVsbG8="}, 422, "invalid_input"),
        ("/v1/provenance/verify", {"image": 5}, 422, "invalid_input"),
        ("/v1/provenance/verify", {"image": "", "extra": 1}, 422, "invalid_input"),
    ],
)
def test_bad_requests_get_typed_errors(
    api: tuple[TestClient, dict[str, str], Guard],
    path: str,
    payload: object,
    status: int,
    code: str,
) -> None:
    client, auth, _ = api
    response = client.post(path, json=payload, headers=auth)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_auth_and_media_types(api: tuple[TestClient, dict[str, str], Guard]) -> None:
    client, auth, _ = api
    assert client.post("/v1/provenance/verify", json={"image": "AAAA"}).status_code == 401
    response = client.post(
        "/v1/provenance/verify", content=b"x", headers={**auth, "Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    missing = client.post(
        "/v1/provenance/verify", files={"other": ("a", b"x", "image/png")}, headers=auth
    )
    assert missing.status_code == 422
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/outputs/mark", "/v1/provenance/verify"} <= set(paths)
