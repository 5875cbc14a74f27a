"""kill -9 under load loses no acknowledged decision: ``bastion serve`` runs as a real process,
concurrent clients record every decision id they were answered with, the server is SIGKILLed
mid-load, and every one of those ids is then read back from the database (SQLite and Postgres).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from bastion.settings import Settings
from bastion.storage.db import Database
from bastion.storage.keys import ApiKeyRepository, Role
from bastion.storage.tables import decisions
from tests.conftest import POSTGRES_URL, TEST_SECRET

CLIENTS = 8
LOAD_S = 1.5


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'bastion.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("BASTION_TEST_POSTGRES_URL is not set (make test sets it when reachable)")
    schema = f"bastion_kill_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_live(port: int, server: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"bastion serve exited with {server.returncode}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            connection.request("GET", "/livez")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.05)
        finally:
            connection.close()
    raise AssertionError("bastion serve did not come up")


def client(port: int, key: str, stop: threading.Event, acknowledged: list[str]) -> None:
    """Check prompts until stopped or the server dies; keep the id of every 200 answer."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        _load(connection, headers, stop, acknowledged)
    finally:
        connection.close()


def _load(
    connection: http.client.HTTPConnection,
    headers: dict[str, str],
    stop: threading.Event,
    acknowledged: list[str],
) -> None:
    number = 0
    while not stop.is_set():
        number += 1
        body = json.dumps({"prompt": f"a lighthouse at dusk, take {number}"})
        try:
            connection.request("POST", "/v1/generations/check", body, headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            return  # killed: whatever was in flight was never acknowledged
        if response.status == 200:
            acknowledged.append(json.loads(payload)["id"])


def test_kill_9_loses_no_acknowledged_decision(tmp_path: Path, database_url: str) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    settings = Settings.load(data_dir=data_dir, secret_key=TEST_SECRET, database_url=database_url)
    db = Database(database_url)
    db.migrate()
    _, key = ApiKeyRepository(db, settings.resolved_secret()).create("kill test", Role.SERVICE)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BASTION_")},
        "BASTION_DATA_DIR": str(data_dir),
        "BASTION_SECRET_KEY": TEST_SECRET,
        "BASTION_DATABASE_URL": database_url,
        "BASTION_DETECTORS": '["prompt_lexicon"]',  # starts in about a second
        "BASTION_RATE_LIMIT_SERVICE": "1000000/minute",
        "BASTION_LOG_LEVEL": "warning",
    }
    command = [sys.executable, "-c", "from bastion.cli.app import main; main()", "serve"]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_live(port, server)
        stop = threading.Event()
        acknowledged: list[list[str]] = [[] for _ in range(CLIENTS)]
        threads = [
            threading.Thread(target=client, args=(port, key, stop, acknowledged[i]))
            for i in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(LOAD_S)
        server.send_signal(signal.SIGKILL)  # mid-load, no shutdown of any kind
        server.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    ids = {decision_id for ids in acknowledged for decision_id in ids}
    assert len(ids) > 50, "the load was too light to mean anything"
    db.dispose()  # read back through a fresh engine, as a restarted process would
    reopened = Database(database_url)
    with reopened.connect() as connection:
        stored = set(connection.execute(select(decisions.c.id)).scalars())
    reopened.dispose()
    lost = ids - stored
    print(f"{database_url.split(':')[0]}: {len(ids)} acknowledged, {len(stored)} stored")
    assert not lost, f"{len(lost)} of {len(ids)} acknowledged decisions were lost"
