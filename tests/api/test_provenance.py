"""POST /v1/outputs/mark and POST /v1/provenance/verify."""

from __future__ import annotations

import base64
from collections.abc import Iterator

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


def allowed_id(client: TestClient, auth: dict[str, str]) -> str:
    body = client.post("/v1/generations/check", json={"prompt": "a red kite"}, headers=auth).json()
    assert body["action"] == "allow"
    return str(body["id"])


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
    assert response.json()["error"]["code"] == "output_not_allowed"


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
