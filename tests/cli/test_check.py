"""``bastion check --prompt … --image IN [--output OUT]``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastion.cli.app import app
from tests.conftest import TEST_SECRET
from tests.images import benign_edit, sample_jpeg

pytestmark = pytest.mark.slow


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    photo, output = tmp_path / "in.jpg", tmp_path / "out.jpg"
    photo.write_bytes(sample_jpeg("astronaut"))
    output.write_bytes(benign_edit("astronaut"))
    return photo, output


def run(*args: str, data_dir: Path) -> object:
    env = {"BASTION_SECRET_KEY": TEST_SECRET}
    return CliRunner().invoke(app, ["check", *args, "--data-dir", str(data_dir)], env=env)


def test_check_with_input_photo_and_output(files: tuple[Path, Path], tmp_path: Path) -> None:
    photo, output = files
    result = run(
        "--prompt",
        "add a red hat",
        "--image",
        str(photo),
        "--output",
        str(output),
        data_dir=tmp_path / "d",
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    text = result.output  # type: ignore[attr-defined]
    assert "ALLOW (none) generation decision" in text
    assert "ALLOW (none) output decision" in text
    assert "face" in text


def test_check_json_with_output(files: tuple[Path, Path], tmp_path: Path) -> None:
    photo, output = files
    result = run(
        "-p",
        "put her in lingerie",
        "-i",
        str(photo),
        "-o",
        str(output),
        "--json",
        data_dir=tmp_path / "d",
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    body = json.loads(result.output)  # type: ignore[attr-defined]
    assert body["generation"]["action"] == "block"
    assert "real_person_sexual_edit" in body["generation"]["rules"]
    assert body["output"]["request_id"] == body["generation"]["id"]
    assert body["output"]["action"] == "block"  # the output of a blocked request stays blocked


def test_check_bad_files(files: tuple[Path, Path], tmp_path: Path) -> None:
    photo, _ = files
    result = run("-p", "a hat", "-i", str(tmp_path / "missing.jpg"), data_dir=tmp_path / "d")
    assert result.exit_code == 2
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n junk")
    result = run("-p", "a hat", "-i", str(photo), "-o", str(junk), data_dir=tmp_path / "d")
    assert result.exit_code == 2
    assert "image" in result.output  # type: ignore[attr-defined]
