"""The workflow over HTTP: the whole path, and a clear 4xx for every bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from bastion.storage.keys import Role

NOTICE: dict[str, Any] = {
    "type": "take_it_down",
    "explanation": "An AI-generated intimate image of me, posted without my consent.",
    "locations": ["https://pics.example/i/img-1"],
    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "keywords": ["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN"],
    "jurisdiction": "US",
    "notifier_name": "Rae Requester",
    "notifier_email": "rae@example.org",
    "bona_fide": True,
    "signature": "Rae Requester",
    "non_consent_statement": "I never consented to this.",
    "requester_role": "individual",
}
SHA = "12" * 32


def bearer(tokens: dict[Role, str], role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


@pytest.fixture
def tokens(app_client: tuple[TestClient, dict[Role, str]]) -> dict[Role, str]:
    return app_client[1]


def register(client: TestClient, tokens: dict[Role, str], content_id: str, sha: str = SHA) -> Any:
    return client.post(
        "/v1/content",
        json={
            "content_id": content_id,
            "url": f"https://pics.example/i/{content_id}",
            "sha256": sha,
            "account_id": f"acct-{content_id}",
            "account_contact": f"{content_id}@users.example",
            "content_types": ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_SYNTHETIC_MEDIA"],
        },
        headers=bearer(tokens, Role.SERVICE),
    )


def test_take_it_down_end_to_end(client: TestClient, tokens: dict[Role, str]) -> None:
    assert register(client, tokens, "img-1").status_code == 201
    assert register(client, tokens, "img-2").status_code == 201  # an identical copy
    created = client.post("/v1/notices", json=NOTICE)  # no key needed
    assert created.status_code == 201, created.text
    body = created.json()
    deadlines = {d["regime"]: d for d in body["deadlines"]}
    assert deadlines["take_it_down"]["hours"] == 48
    case_id = body["case_ids"][0]

    queue = client.get("/v1/cases", headers=bearer(tokens, Role.MODERATOR)).json()
    assert [c["id"] for c in queue["cases"]] == [case_id]
    decided = client.post(
        f"/v1/cases/{case_id}/decision",
        json={
            "visibility": "remove",
            "ground": "illegal",
            "legal_ground_id": "us_take_it_down",
            "explanation": "Valid request about an intimate deepfake.",
        },
        headers=bearer(tokens, Role.MODERATOR),
    )
    assert decided.status_code == 201, decided.text
    assert len(decided.json()["copies_removed"]) == 1
    for content_id in ("img-1", "img-2"):
        state = client.get(f"/v1/content/{content_id}", headers=bearer(tokens, Role.SERVICE))
        assert state.json()["state"] == "removed"
    reupload = register(client, tokens, "img-3")
    assert reupload.status_code == 409
    assert reupload.json()["error"]["code"] == "stay_down_match"

    payloads = client.get("/v1/statements?format=tdb", headers=bearer(tokens, Role.MODERATOR))
    assert payloads.json()["count"] == 2
    verify = client.get("/v1/audit/verify", headers=bearer(tokens, Role.ADMIN)).json()
    assert verify["intact"] is True


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"explanation": ""}, "explanation"),
        ({"locations": []}, "locations"),
        ({"category": "nope"}, "category"),
        ({"jurisdiction": "ZZ"}, "jurisdiction"),
        ({"notifier_email": "x"}, "notifier_email"),
        ({"bona_fide": False}, "bona_fide"),
        ({"signature": None}, "signature"),
        ({"type": "complaint"}, "type"),
        ({"type": "trusted_flagger"}, "type"),
    ],
)
def test_incomplete_notices_get_a_precise_422(
    client: TestClient, changes: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/notices", json={**NOTICE, **changes})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "incomplete_notice"
    assert f"{field}:" in error["message"]


@pytest.mark.parametrize(
    "body",
    [
        {**NOTICE, "bona_fide": "yes"},  # strict types
        {**NOTICE, "locations": "https://pics.example/i/img-1"},
        {**NOTICE, "unknown": 1},
        [],
    ],
)
def test_malformed_notices_are_422(client: TestClient, body: Any) -> None:
    response = client.post("/v1/notices", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_invalid_json_is_422(client: TestClient) -> None:
    response = client.post(
        "/v1/notices", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422


def test_roles_and_bad_decisions(client: TestClient, tokens: dict[Role, str]) -> None:
    register(client, tokens, "img-1")
    case_id = client.post("/v1/notices", json=NOTICE).json()["case_ids"][0]
    assert client.get("/v1/cases").status_code == 401
    assert client.get("/v1/cases", headers=bearer(tokens, Role.SERVICE)).status_code == 403
    url = f"/v1/cases/{case_id}/decision"
    mod = bearer(tokens, Role.MODERATOR)
    for body, status, code in [
        ({"visibility": "delete"}, 422, "invalid_input"),
        ({"visibility": "remove"}, 422, "invalid_input"),
        (
            {
                "visibility": "remove",
                "ground": "illegal",
                "legal_ground_id": "none",
                "explanation": "long enough",
            },
            422,
            "invalid_input",
        ),
        ({"visibility_end": "tomorrow"}, 422, "invalid_input"),
    ]:
        response = client.post(url, json=body, headers=mod)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
    assert client.post("/v1/cases/nope/decision", json={}, headers=mod).status_code == 404
    assert client.get("/v1/cases?state=lost", headers=mod).status_code == 422
    assert client.get(f"/v1/cases/{case_id}", headers=mod).json()["state"] == "open"


def test_appeal_over_http(client: TestClient, tokens: dict[Role, str]) -> None:
    appeal = client.post("/v1/appeals", json={"token": "unknown", "explanation": "It is mine!!"})
    assert appeal.status_code == 404
    short = client.post("/v1/appeals", json={"token": "unknown", "explanation": "no"})
    assert short.status_code == 422
    outcomes = client.get("/v1/appeals/outcomes", headers=bearer(tokens, Role.MODERATOR))
    assert outcomes.json()["total"]["received"] == 0
    bad = client.post(
        "/v1/appeals/nope/decision",
        json={"outcome": "maybe"},
        headers=bearer(tokens, Role.MODERATOR),
    )
    assert bad.status_code == 422


def test_detections_and_content_errors(client: TestClient, tokens: dict[Role, str]) -> None:
    service = bearer(tokens, Role.SERVICE)
    ok = client.post(
        "/v1/detections",
        headers=service,
        json={
            "item": {"content_id": "img-9", "sha256": SHA},
            "source": "nudity_classifier",
            "category": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
            "keywords": ["KEYWORD_NUDITY"],
            "score": 0.9,
        },
    )
    assert ok.status_code == 201
    for body in [
        {"item": {}, "source": "x", "category": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"},
        {
            "item": {"sha256": "XYZ"},
            "source": "x",
            "category": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        },
        {
            "item": {"content_id": "a"},
            "source": "Bad Name",
            "category": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        },
        {"item": {"content_id": "a"}, "source": "x", "category": "nope"},
        {
            "item": {"content_id": "a"},
            "source": "x",
            "category": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
            "score": 2.0,
        },
    ]:
        response = client.post("/v1/detections", headers=service, json=body)
        assert response.status_code == 422, body
    assert client.get("/v1/content/none", headers=service).status_code == 404
    bad = client.post("/v1/content", headers=service, json={"content_id": "a b"})
    assert bad.status_code == 422
