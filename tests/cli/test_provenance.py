"""`bastion mark` and `bastion verify`: files in, JSON lines out, typed errors as exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from bastion.cli.app import app
from tests.conftest import TEST_SECRET
from tests.provenance import images

runner = CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("BASTION_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("BASTION_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def test_mark_then_verify_a_stripped_copy(env: Path) -> None:
    source = env / "in.jpg"
    source.write_bytes(images.encode(images.photo("chelsea"), "JPEG", quality=90))
    code, out = run(
        "check", "--prompt", "a paper boat on a lake", "--output", str(source), "--json"
    )
    assert code == 0
    decision_id = json.loads(out)["output"]["id"]  # a mark binds to the output's own check

    code, out = run(
        "mark",
        str(source),
        str(env / "out.jpg"),
        "--decision",
        decision_id,
        "--dev-signer",
        "--generator",
        "ExampleDiffusion",
    )
    assert code == 0, out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["decision_id"] == decision_id
    assert summary["watermark"]["verified"] is True

    pixels = np.asarray(Image.open(io.BytesIO((env / "out.jpg").read_bytes())).convert("RGB"))
    (env / "stripped.jpg").write_bytes(images.encode(pixels, "JPEG", quality=80))
    code, out = run("verify", str(env / "stripped.jpg"), str(env / "out.jpg"), "--dev-signer")
    assert code == 0, out
    stripped, original = (json.loads(line) for line in out.strip().splitlines()[-2:])
    assert stripped["file"].endswith("stripped.jpg")
    assert stripped["decision_id"] == decision_id
    assert stripped["watermark"]["detected"] is True
    assert stripped["c2pa"]["state"] == "absent"
    assert original["c2pa"]["state"] == "valid"
    assert original["c2pa"]["generator"] == "ExampleDiffusion"
    assert original["watermark"]["output_id"] == summary["watermark"]["output_id"]


def test_verify_reports_bad_files_and_continues(env: Path) -> None:
    (env / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (env / "ok.png").write_bytes(images.encode(images.drawing(1, (400, 300))))
    code, out = run("verify", str(env / "bad.png"), str(env / "missing.png"), str(env / "ok.png"))
    assert code == 1
    bad, missing, ok = (json.loads(line) for line in out.strip().splitlines()[-3:])
    assert bad["error"]["code"] == "undecodable_image"
    assert missing["error"]["code"] == "unreadable"
    assert ok["watermark"]["detected"] is False
    assert ok["decision_id"] is None


def test_mark_errors_are_one_line(env: Path) -> None:
    source = env / "in.png"
    source.write_bytes(images.encode(images.photo("coins")))
    result = runner.invoke(app, ["mark", str(source), str(env / "out.png")])
    assert result.exit_code == 2
    assert "C2PA signing is not configured" in result.stderr
    result = runner.invoke(
        app, ["mark", str(source), str(env / "o.png"), "--decision", "nope", "--dev-signer"]
    )
    assert result.exit_code == 2
    assert "no decision" in result.stderr
    assert not (env / "o.png").exists()
