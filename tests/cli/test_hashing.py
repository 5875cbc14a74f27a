"""``bastion hash``, ``bastion match`` and ``bastion bank``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bastion.cli.app import app
from tests.hashing.conftest import encode, photo


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_hash_match_and_bank_commands(tmp_path: Path, monkeypatch: object) -> None:
    data = str(tmp_path / "data")
    a, c, bad = tmp_path / "a.jpg", tmp_path / "c.png", tmp_path / "bad.jpg"
    a.write_bytes(encode(photo("astronaut")))
    c.write_bytes(encode(photo("coffee"), "PNG"))
    bad.write_bytes(b"\xff\xd8\xff nope")
    code, out, err = run("hash", str(a), str(c), str(bad))
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(f" {a}")
    hex_a, quality, _ = lines[0].split(" ", 2)
    assert len(hex_a) == 64
    assert int(quality) == 100
    assert "bad.jpg" in err

    assert run("bank", "create", "known", "--kind", "ncii", "--data-dir", data)[0] == 0
    code, out, _ = run(
        "bank", "add", "known", str(a), "--label", "demo", "--case-id", "C-1", "--data-dir", data
    )
    assert code == 0
    assert json.loads(out)["case_id"] == "C-1"
    code, out, _ = run("match", str(a), str(c), "--data-dir", data)
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["file"] == str(a)
    assert first["matches"][0]["bank"] == "known"
    assert {"bank", "distance", "entry_id"} <= set(first["matches"][0])
    assert second["matches"] == []

    export = tmp_path / "known.csv"
    assert (
        run("bank", "export", "known", "--format", "csv", "--out", str(export), "--data-dir", data)[
            0
        ]
        == 0
    )
    assert run("bank", "create", "copy", "--data-dir", data)[0] == 0
    assert run("bank", "import", "copy", str(export), "--data-dir", data)[0] == 0
    banks = [json.loads(line) for line in run("bank", "list", "--data-dir", data)[1].splitlines()]
    assert {b["name"]: b["entries"] for b in banks} == {"copy": 1, "known": 1}
    assert run("bank", "disable", "known", "--data-dir", data)[0] == 0
    code, out, _ = run("match", str(a), "--data-dir", data)
    assert [m["bank"] for m in json.loads(out)["matches"]] == ["copy"]
    code, _, err = run("bank", "import", "copy", str(bad), "--data-dir", data)
    assert code == 2
    assert "cannot read" in err
