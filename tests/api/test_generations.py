"""POST /v1/generations/check, GET /v1/decisions/{id}, /healthz, auth and bad input."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from bastion.api.app import create_app
from bastion.guard import Guard
from bastion.settings import Settings
from bastion.storage.keys import Role
from tests.test_guard import PNG_1x1


def test_healthz_needs_no_key(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "prompt_lexicon" in response.json()["detectors"]


def test_openapi_is_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/generations/check" in paths


def test_check_and_fetch_decision(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post("/v1/generations/check", json={"prompt": "make her naked"}, headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["action"] == "block"
    assert "real_person_sexual_edit" in body["rules"]
    fetched = client.get(f"/v1/decisions/{body['id']}", headers=auth)
    assert fetched.status_code == 200
    assert fetched.json() == body


def test_multipart_check(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/v1/generations/check",
        data={"prompt": "a lighthouse at dusk", "context": '{"platform": "demo"}'},
        headers=auth,
    )
    assert response.status_code == 200, response.text
    assert response.json()["action"] == "allow"


def test_x_api_key_header(app_client: tuple[TestClient, dict[Role, str]]) -> None:
    client, tokens = app_client
    response = client.post(
        "/v1/generations/check",
        json={"prompt": "a cat"},
        headers={"X-API-Key": tokens[Role.ADMIN]},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer bst_wrongwrongwrongwrong"}, {"X-API-Key": "nope"}],
)
def test_missing_or_wrong_key_is_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post("/v1/generations/check", json={"prompt": "a cat"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert client.get("/v1/decisions/x", headers=headers).status_code == 401


def test_wrong_role_is_403(app_client: tuple[TestClient, dict[Role, str]]) -> None:
    client, tokens = app_client
    response = client.post(
        "/v1/generations/check",
        json={"prompt": "a cat"},
        headers={"Authorization": f"Bearer {tokens[Role.MODERATOR]}"},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_unknown_decision_is_404(client: TestClient, auth: dict[str, str]) -> None:
    response = client.get("/v1/decisions/does-not-exist", headers=auth)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"prompt": ""}, 422, "invalid_input"),
        ({"prompt": "x" * 1_000_000}, 413, "input_too_large"),
        ({"prompt": 42}, 422, "invalid_input"),
        ({"prompt": None}, 422, "invalid_input"),
        ({"prompt": ["a"]}, 422, "invalid_input"),
        ({}, 422, "invalid_input"),
        ({"prompt": "ok", "unexpected": 1}, 422, "invalid_input"),
        ({"prompt": "bad\u0000byte"}, 422, "invalid_input"),
        ({"prompt": "ok", "images": ["***not base64***"]}, 422, "invalid_input"),
        (
            {"prompt": "ok", "images": [base64.b64encode(b"not an image").decode()]},
            422,
            "invalid_input",
        ),
        ({"prompt": "ok", "context": {"verified_adult": "yes"}}, 422, "invalid_input"),
        ([1, 2, 3], 422, "invalid_input"),
        ("just a string", 422, "invalid_input"),
    ],
)
def test_bad_json_input(
    client: TestClient, auth: dict[str, str], payload: object, status: int, code: str
) -> None:
    response = client.post("/v1/generations/check", json=payload, headers=auth)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"prompt": "\xff\xfe"}', "invalid_input"),
        (b'{"prompt": ', "invalid_input"),
        (b"", "invalid_input"),
        (b'{"prompt": "\\ud800"}', "invalid_input"),
    ],
)
def test_malformed_bodies(client: TestClient, auth: dict[str, str], body: bytes, code: str) -> None:
    headers = {**auth, "Content-Type": "application/json"}
    response = client.post("/v1/generations/check", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code


def test_unsupported_media_type(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/v1/generations/check",
        content=b"prompt",
        headers={**auth, "Content-Type": "text/plain"},
    )
    assert response.status_code == 415


def test_body_over_the_limit_is_413(client: TestClient, auth: dict[str, str]) -> None:
    big = b"x" * (26 * 1024 * 1024)
    response = client.post(
        "/v1/generations/check", content=big, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "input_too_large"


def test_image_without_image_detectors_fails_closed(settings: Settings) -> None:
    only_prompt = settings.model_copy(update={"detectors": ["prompt_lexicon", "prompt_language"]})
    guard = Guard.from_settings(only_prompt)
    app = create_app(guard=guard)
    _, token = app.state.keys.create("test", Role.SERVICE)
    payload = {"prompt": "add a hat", "images": [base64.b64encode(PNG_1x1).decode()]}
    with TestClient(app) as client:
        response = client.post(
            "/v1/generations/check", json=payload, headers={"Authorization": f"Bearer {token}"}
        )
    guard.close()
    assert response.status_code == 200
    assert response.json()["action"] == "block"
    assert response.json()["rules"] == ["detector_failure"]


def test_tiny_image_is_screened_by_image_detectors(
    client: TestClient, auth: dict[str, str]
) -> None:
    payload = {"prompt": "add a hat", "images": [base64.b64encode(PNG_1x1).decode()]}
    response = client.post("/v1/generations/check", json=payload, headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["action"] == "allow"
    assert any(f["detector"] == "image_nsfw" for f in body["findings"])


def test_multipart_missing_prompt(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/v1/generations/check", files={"images": ("a.png", PNG_1x1, "image/png")}, headers=auth
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "prompt"
