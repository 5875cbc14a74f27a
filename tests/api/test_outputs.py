"""POST /v1/outputs/check: JSON and multipart, the edit-delta across two calls, bad input."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bastion.api.app import create_app
from bastion.settings import Settings
from bastion.storage.keys import Role
from tests.image_fakes import GREY, PINK, fake_guard
from tests.images import benign_edit, flat, sample_jpeg


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def fake_client(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    guard = fake_guard(settings)
    app = create_app(guard=guard)
    _, token = app.state.keys.create("test", Role.SERVICE)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, {"Authorization": f"Bearer {token}"}
    guard.close()


def test_edit_delta_across_two_calls(fake_client: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = fake_client
    request = client.post(
        "/v1/generations/check",
        json={"prompt": "summer version", "images": [b64(flat(GREY))]},
        headers=auth,
    ).json()
    assert request["action"] == "allow"
    response = client.post(
        "/v1/outputs/check",
        json={"image": b64(flat(PINK)), "request_id": request["id"]},
        headers=auth,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["action"] == "block"
    assert body["rules"] == ["real_person_exposure_increase"]
    assert body["request_id"] == request["id"]
    assert body["surface"] == "output"
    # The same output again (a retry): paired once, the first decision comes back.
    again = client.post(
        "/v1/outputs/check",
        files={"image": ("out.png", flat(PINK), "image/png")},
        data={"request_id": request["id"]},
        headers=auth,
    )
    assert again.status_code == 200, again.text
    assert again.json()["id"] == body["id"]
    # The same, as multipart, for another request.
    second = client.post(
        "/v1/generations/check",
        json={"prompt": "summer version", "images": [b64(flat(GREY))]},
        headers=auth,
    ).json()
    response = client.post(
        "/v1/outputs/check",
        files={"image": ("out.png", flat(PINK), "image/png")},
        data={"request_id": second["id"]},
        headers=auth,
    )
    assert response.status_code == 200, response.text
    assert response.json()["rules"] == ["real_person_exposure_increase"]
    stored = client.get(f"/v1/decisions/{body['id']}", headers=auth).json()
    assert stored["rules"] == ["real_person_exposure_increase"]


@pytest.mark.slow
def test_real_models_allow_a_benign_edit(client: TestClient, auth: dict[str, str]) -> None:
    request = client.post(
        "/v1/generations/check",
        files={"images": ("in.jpg", sample_jpeg("astronaut"), "image/jpeg")},
        data={"prompt": "add a red hat"},
        headers=auth,
    ).json()
    assert request["action"] == "allow"
    assert any(f["label"] == "face" for f in request["findings"])
    response = client.post(
        "/v1/outputs/check",
        json={
            "image": b64(benign_edit("astronaut")),
            "request_id": request["id"],
            "context": {"platform": "demo"},
        },
        headers=auth,
    )
    assert response.status_code == 200, response.text
    assert response.json()["action"] == "allow"


def test_output_without_request(fake_client: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = fake_client
    response = client.post("/v1/outputs/check", json={"image": b64(flat(PINK))}, headers=auth)
    assert response.status_code == 200
    assert response.json()["request_id"] is None


@pytest.mark.parametrize(
    ("kwargs", "status", "field"),
    [
        ({"json": {"image": "not base64!"}}, 422, "image"),
        ({"json": {"image": b64(b"not an image")}}, 422, "image"),
        ({"json": {"request_id": "x"}}, 422, "image"),
        ({"json": {"image": b64(flat(GREY)), "request_id": "no-such-id"}}, 404, "request_id"),
        ({"json": {"image": b64(flat(GREY)), "extra": 1}}, 422, "extra"),
        ({"data": {"request_id": "x"}, "files": {"other": ("a", b"b")}}, 422, "image"),
        ({"content": b"raw", "headers": {"Content-Type": "image/png"}}, 415, None),
    ],
)
def test_bad_requests_get_typed_errors(
    fake_client: tuple[TestClient, dict[str, str]],
    kwargs: dict[str, object],
    status: int,
    field: str | None,
) -> None:
    client, auth = fake_client
    headers = {**auth, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    response = client.post("/v1/outputs/check", headers=headers, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field


def test_an_output_decision_is_not_a_request(
    fake_client: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = fake_client
    output = client.post("/v1/outputs/check", json={"image": b64(flat(GREY))}, headers=auth)
    response = client.post(
        "/v1/outputs/check",
        json={"image": b64(flat(GREY)), "request_id": output.json()["id"]},
        headers=auth,
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "request_id"


def test_needs_a_service_key(fake_client: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = fake_client
    assert client.post("/v1/outputs/check", json={"image": b64(flat(GREY))}).status_code == 401
    assert "/v1/outputs/check" in client.get("/openapi.json").json()["paths"]
