"""CSAM and NCII bank entries — hashes with their case notes — are for child-safety staff and
admins only: no export, page or single entry for service or moderator keys (issue 10)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bastion.api.app import create_app
from bastion.settings import Settings
from bastion.storage.keys import Role
from tests.image_fakes import fake_guard

H1 = "f" * 64


@pytest.fixture
def keyed(settings: Settings) -> Iterator[tuple[TestClient, dict[Role, dict[str, str]]]]:
    guard = fake_guard(settings)
    app = create_app(guard=guard)
    keys = {
        role: {"Authorization": f"Bearer {app.state.keys.create(role.value, role)[1]}"}
        for role in Role
    }
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, keys
    guard.close()


@pytest.mark.parametrize("kind", ["csam", "ncii"])
def test_restricted_bank_entries_need_child_safety_or_admin(
    keyed: tuple[TestClient, dict[Role, dict[str, str]]], kind: str
) -> None:
    client, keys = keyed
    admin = keys[Role.ADMIN]
    assert (
        client.post("/v1/banks", json={"name": "list", "kind": kind}, headers=admin).status_code
        == 201
    )
    entry = client.post(
        "/v1/banks/list/entries",
        json={"hash": H1, "case_id": "C-9", "note": "case notes"},
        headers=admin,
    )
    assert entry.status_code == 201, entry.text
    entry_id = entry.json()["id"]
    reads = [
        "/v1/banks/list/entries",
        "/v1/banks/list/entries?format=csv",
        f"/v1/entries/{entry_id}",
        f"/c/bank/list/content/{entry_id}",
    ]
    for role, expected in [
        (Role.SERVICE, 403),
        (Role.MODERATOR, 403),
        (Role.CHILD_SAFETY, 200),
        (Role.ADMIN, 200),
    ]:
        for path in reads:
            response = client.get(path, headers=keys[role])
            assert response.status_code == expected, (role, path, response.text[:200])
            if expected == 403:
                assert response.json()["error"]["code"] == "forbidden"
                assert H1 not in response.text
                assert "case notes" not in response.text


def test_other_banks_stay_readable_by_service_keys(
    keyed: tuple[TestClient, dict[Role, dict[str, str]]],
) -> None:
    client, keys = keyed
    admin = keys[Role.ADMIN]
    client.post("/v1/banks", json={"name": "watch", "kind": "other"}, headers=admin)
    client.post("/v1/banks/watch/entries", json={"hash": H1}, headers=admin)
    assert client.get("/v1/banks/watch/entries", headers=keys[Role.SERVICE]).status_code == 200
