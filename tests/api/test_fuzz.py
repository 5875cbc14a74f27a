"""Every route of openapi.json under seeded hostile requests: never a 5xx, always the error
shape (issue 10). ``BASTION_TEST_FUZZ_REQUESTS`` raises the count (bench/fuzz_routes.py runs
10,000+)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bastion.api.app import create_app
from bastion.settings import Settings
from bastion.storage.keys import Role
from tests.api.fuzzing import cases
from tests.image_fakes import fake_guard

COUNT = int(os.environ.get("BASTION_TEST_FUZZ_REQUESTS", "1500"))


@pytest.fixture
def fuzz_client(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    guard = fake_guard(
        settings,
        rate_limit_public="100000/minute",
        rate_limit_public_key="100000/minute",
        rate_limit_service="100000/minute",
    )
    app = create_app(guard=guard)
    _, token = app.state.keys.create("fuzz", Role.ADMIN)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, {"Authorization": f"Bearer {token}"}
    guard.close()


def test_no_route_answers_5xx_to_hostile_requests(
    fuzz_client: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = fuzz_client
    openapi = client.get("/openapi.json").json()
    statuses: Counter[int] = Counter()
    failures = []
    for index, case in enumerate(cases(openapi, seed=20261207, count=COUNT)):
        headers = dict(auth) if index % 7 else {}
        if case.content_type:
            headers["Content-Type"] = case.content_type
        response = client.request(case.method, case.url, content=case.body, headers=headers)
        statuses[response.status_code] += 1
        if response.status_code >= 500 and response.status_code != 503:
            failures.append((case.method, case.path, (case.body or b"")[:120], response.text[:200]))
            continue
        if response.status_code >= 400 and response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            body = response.json()
            assert set(body) == {"error"}, (case.path, body)
            assert {"code", "message", "field"} <= set(body["error"]), (case.path, body)
            assert len(response.content) < 4096, (case.path, len(response.content))
    assert failures == [], f"{len(failures)} 5xx of {COUNT}: {failures[:5]}"
    assert sum(statuses.values()) == COUNT
