"""Banks, lookups and upload scans over HTTP, and the HMA-compatible routes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bastion.storage.keys import Role
from tests.hashing.conftest import encode, photo

H1 = "2d6b1af3a956c529e79ca3d2526fa834d4196c81cedd04de0a26b855fc99b724"


def bearer(tokens: dict[Role, str], role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def test_bank_lifecycle_and_lookup(app_client: tuple[TestClient, dict[Role, str]]) -> None:
    client, tokens = app_client
    admin, service = bearer(tokens, Role.ADMIN), bearer(tokens, Role.SERVICE)
    assert (
        client.post("/v1/banks", json={"name": "ncii", "kind": "ncii"}, headers=service).status_code
        == 403
    )
    created = client.post(
        "/v1/banks", json={"name": "ncii", "kind": "ncii", "match_distance": 20}, headers=admin
    )
    assert created.status_code == 201
    assert created.json()["match_distance"] == 20
    entry = client.post(
        "/v1/banks/ncii/entries",
        json={"hash": H1, "labels": ["x"], "case_id": "C-1"},
        headers=admin,
    )
    assert entry.status_code == 201
    found = client.get("/v1/lookup", params={"hash": H1}, headers=service).json()
    assert found["matches"][0]["entry_id"] == entry.json()["id"]
    assert found["matches"][0]["case_id"] == "C-1"
    image = encode(photo("coffee"))
    added = client.post(
        "/v1/banks/ncii/entries", files={"image": ("c.jpg", image, "image/jpeg")}, headers=admin
    )
    assert added.status_code == 201
    assert len(added.json()["variants"]) == 4
    by_image = client.post(
        "/v1/lookup",
        files={"image": ("c.jpg", encode(photo("coffee"), quality=50), "image/jpeg")},
        headers=service,
    )
    assert by_image.json()["matches"][0]["entry_id"] == added.json()["id"]
    banks = client.get("/v1/banks", headers=service).json()
    assert banks[0]["entries"] == 2
    refused = client.get("/v1/banks/ncii/entries", params={"format": "csv"}, headers=service)
    assert refused.status_code == 403  # NCII entries: child-safety staff and admins only
    export = client.get("/v1/banks/ncii/entries", params={"format": "csv"}, headers=admin)
    assert export.text.startswith("signal_type,signal")
    assert H1 in export.text
    imported = client.post(
        "/v1/banks/ncii/import?format=txt", content=f"pdq {'0' * 64}\n", headers=admin
    )
    assert imported.json()["imported"] == 1
    disabled = client.patch(
        f"/v1/entries/{entry.json()['id']}", json={"enabled": False}, headers=admin
    )
    assert disabled.json()["enabled"] is False
    assert client.get("/v1/lookup", params={"hash": H1}, headers=service).json()["matches"] == []


def test_upload_scan_blocks_a_known_image(app_client: tuple[TestClient, dict[Role, str]]) -> None:
    client, tokens = app_client
    admin, service = bearer(tokens, Role.ADMIN), bearer(tokens, Role.SERVICE)
    client.post("/v1/banks", json={"name": "csam_list", "kind": "csam"}, headers=admin)
    client.post(
        "/v1/banks/csam_list/entries",
        files={"image": ("a.jpg", encode(photo("rocket")), "image/jpeg")},
        headers=admin,
    )
    scan = client.post(
        "/v1/uploads/scan",
        files={"image": ("u.jpg", encode(photo("rocket"), quality=60), "image/jpeg")},
        headers=service,
    )
    assert scan.status_code == 200
    assert scan.json()["action"] == "block"
    assert scan.json()["rules"] == ["known_csam_hash"]
    clean = client.post(
        "/v1/uploads/scan",
        content=encode(photo("camera")),
        headers={**service, "Content-Type": "image/jpeg"},
    )
    assert clean.json()["action"] == "allow"
    bad = client.post(
        "/v1/uploads/scan",
        content=b"\xff\xd8\xffjunk",
        headers={**service, "Content-Type": "image/jpeg"},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "undecodable_image"
    assert client.post("/v1/uploads/scan", content=b"x").status_code == 401


def test_hma_compatible_routes(app_client: tuple[TestClient, dict[Role, str]]) -> None:
    client, tokens = app_client
    admin, service = bearer(tokens, Role.ADMIN), bearer(tokens, Role.SERVICE)
    assert client.post("/c/banks", json={"name": "TEST_BANK"}, headers=admin).json() == {
        "name": "test_bank",
        "matching_enabled_ratio": 1.0,
    }
    photo_bytes = encode(photo("chelsea"))
    added = client.post(
        "/c/bank/test_bank/content",
        files={"photo": ("p.jpg", photo_bytes, "image/jpeg")},
        headers=admin,
    )
    assert added.status_code == 201
    content_id, pdq = added.json()["id"], added.json()["signals"]["pdq"]
    assert client.post(
        "/h/hash", files={"photo": ("p.jpg", photo_bytes, "image/jpeg")}, headers=service
    ).json() == {"pdq": pdq}
    assert client.get(
        "/m/lookup", params={"signal_type": "pdq", "signal": pdq}, headers=service
    ).json() == {"test_bank": [{"bank_content_id": content_id, "distance": "0"}]}
    posted = client.post(
        "/m/lookup", files={"photo": ("p.jpg", photo_bytes, "image/jpeg")}, headers=service
    ).json()
    assert posted == {"pdq": {"test_bank": [{"bank_content_id": content_id, "distance": "0"}]}}
    signal = client.post("/c/bank/test_bank/signal", json={"pdq": H1}, headers=admin)
    assert signal.status_code == 201
    assert signal.json()["signals"] == {"pdq": H1}
    content = client.get(
        f"/c/bank/test_bank/content/{content_id}",
        params={"include_signals": "true"},
        headers=service,
    ).json()
    assert content["signals"] == {"pdq": pdq}
    assert content["disable_until_ts"] == 1
    client.put(
        f"/c/bank/test_bank/content/{content_id}", json={"disable_until_ts": 0}, headers=admin
    )
    assert (
        client.get(
            "/m/lookup", params={"signal_type": "pdq", "signal": pdq}, headers=service
        ).json()
        == {}
    )
    client.put("/c/bank/test_bank", json={"enabled_ratio": 0.0}, headers=admin)
    raw = client.get(
        "/m/raw_lookup",
        params={"signal_type": "pdq", "signal": H1, "include_distance": "true"},
        headers=service,
    )
    assert raw.json() == {"matches": [{"bank_content_id": signal.json()["id"], "distance": "0"}]}
    assert client.get("/c/banks", headers=service).json() == [
        {"name": "test_bank", "matching_enabled_ratio": 0.0}
    ]
    assert (
        client.get(
            "/h/hash", params={"url": "http://example.invalid/x.jpg"}, headers=service
        ).status_code
        == 422
    )
    assert (
        client.get(
            "/m/lookup", params={"signal_type": "pdq", "signal": "nothex"}, headers=service
        ).status_code
        == 422
    )
    assert client.get("/c/banks").status_code == 401
