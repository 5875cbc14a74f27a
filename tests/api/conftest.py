from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bastion.api.app import create_app
from bastion.guard import Guard
from bastion.storage.keys import ApiKeyRepository, Role


@pytest.fixture
def app_client(guard: Guard) -> Iterator[tuple[TestClient, dict[Role, str]]]:
    app = create_app(guard=guard)
    keys: ApiKeyRepository = app.state.keys
    tokens = {role: keys.create(f"test {role.value}", role)[1] for role in Role}
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, tokens


@pytest.fixture
def client(app_client: tuple[TestClient, dict[Role, str]]) -> TestClient:
    return app_client[0]


@pytest.fixture
def auth(app_client: tuple[TestClient, dict[Role, str]]) -> dict[str, str]:
    return {"Authorization": f"Bearer {app_client[1][Role.SERVICE]}"}
