"""Bounded public intake and Idempotency-Key over HTTP (issue 10)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bastion.api.app import create_app
from bastion.guard import Guard
from bastion.settings import Settings
from bastion.storage.keys import ApiKeyRepository, Role
from tests.api.test_workflow_api import NOTICE


def _client(settings: Settings, **overrides: Any) -> Iterator[tuple[TestClient, Guard, str]]:
    guard = Guard.from_settings(settings.model_copy(update=overrides))
    app = create_app(guard=guard)
    keys: ApiKeyRepository = app.state.keys
    token = keys.create("moderator", Role.MODERATOR)[1]
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, guard, token
    guard.close()


@pytest.fixture
def intake(settings: Settings) -> Iterator[tuple[TestClient, Guard, str]]:
    yield from _client(settings, rate_limit_public="1000/minute")


def test_a_retried_notice_with_the_same_key_creates_one_notice(
    intake: tuple[TestClient, Guard, str],
) -> None:
    client, _, _ = intake
    headers = {"Idempotency-Key": "notice-retry-1"}
    first = client.post("/v1/notices", json=NOTICE, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post("/v1/notices", json=NOTICE, headers=headers)
    assert again.status_code == first.status_code
    assert again.json() == first.json()
    other = client.post("/v1/notices", json={**NOTICE, "signature": "R. R."}, headers=headers)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_racing_duplicates_with_one_key_create_one_notice(
    intake: tuple[TestClient, Guard, str],
) -> None:
    client, _, _ = intake
    headers = {"Idempotency-Key": "notice-race-1"}
    with ThreadPoolExecutor(8) as pool:
        replies = list(
            pool.map(lambda _: client.post("/v1/notices", json=NOTICE, headers=headers), range(8))
        )
    assert {r.status_code for r in replies} == {201}
    assert len({r.json()["id"] for r in replies}) == 1


def test_notices_from_one_address_past_the_limit_get_429(settings: Settings) -> None:
    for client, _, _ in _client(settings, rate_limit_public="5/minute"):
        statuses = [client.post("/v1/notices", json=NOTICE).status_code for _ in range(8)]
        assert statuses[:5] == [201] * 5
        assert statuses[5:] == [429] * 3
        refused = client.post("/v1/notices", json=NOTICE)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["error"]["code"]


def test_too_many_locations_are_refused(intake: tuple[TestClient, Guard, str]) -> None:
    client, _, _ = intake
    locations = [f"https://pics.example/i/img-{n}" for n in range(1000)]
    response = client.post("/v1/notices", json={**NOTICE, "locations": locations})
    assert response.status_code in (413, 422)
    assert "error" in response.json()


def test_a_body_that_does_not_arrive_in_time_gets_408() -> None:
    """A client that sends half a body cannot hold the worker: 408, then close."""
    import asyncio

    from bastion.api.intake import ReadTimeout

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass

    async def half_sent() -> dict[str, Any]:
        if not sent_once:
            sent_once.append(True)
            return {"type": "http.request", "body": b"{", "more_body": True}
        await asyncio.sleep(10)
        raise AssertionError("not reached")

    sent_once: list[bool] = []
    replies: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        replies.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/notices", "headers": []}
    asyncio.run(ReadTimeout(app, 0.05)(scope, half_sent, send))
    assert replies[0]["status"] == 408
    assert (b"connection", b"close") in replies[0]["headers"]
    assert b"request_timeout" in replies[1]["body"]


@pytest.mark.parametrize(
    ("field", "size"),
    [("signature", 20 * 1024 * 1024), ("explanation", 200_000), ("notifier_name", 5000)],
)
def test_an_oversized_field_is_refused_and_nothing_is_stored(
    intake: tuple[TestClient, Guard, str], field: str, size: int
) -> None:
    """Issue 10: a 20 MiB signature on the public notice route is a typed 422, not +25 MB of
    database per unauthenticated request."""
    from sqlalchemy import func, select

    from bastion.storage.tables import wf_notices

    client, guard, _ = intake
    response = client.post("/v1/notices", json={**NOTICE, field: "x" * size})
    assert response.status_code == 422, response.text[:200]
    body = response.json()["error"]
    assert body["code"] == "invalid_input"
    assert body["field"] == field
    assert len(response.content) < 1000  # the input is not echoed
    with guard.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(wf_notices)).scalar_one() == 0
