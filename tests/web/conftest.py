from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bastion.api.app import create_app
from bastion.guard import Guard


@pytest.fixture
def web(guard: Guard) -> Iterator[TestClient]:
    with TestClient(create_app(guard=guard), raise_server_exceptions=False) as client:
        yield client
