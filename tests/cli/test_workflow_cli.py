"""`bastion demo seed` then `bastion statements export --format tdb`: every line is valid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastion.cli.app import app
from bastion.workflow import tdb
from bastion.workflow.pii import find_personal_data
from tests.conftest import TEST_SECRET


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("BASTION_SECRET_KEY", TEST_SECRET)
    return CliRunner()


def test_demo_seed_then_export_is_valid(runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "data"
    seeded = runner.invoke(app, ["demo", "seed", "--data-dir", str(data)])
    assert seeded.exit_code == 0, seeded.output
    out = tmp_path / "tdb.jsonl"
    exported = runner.invoke(
        app, ["statements", "export", "--format", "tdb", "--out", str(out), "--data-dir", str(data)]
    )
    assert exported.exit_code == 0, exported.output
    lines = out.read_text("utf-8").splitlines()
    assert len(lines) >= 12
    payloads = [json.loads(line) for line in lines]
    for payload in payloads:
        assert tdb.violations(payload) == []
        for field in tdb.FREE_TEXT:
            if field in payload:
                assert find_personal_data(payload[field]) == []
                assert "demo.invalid" not in payload[field]
    assert len({p["puid"] for p in payloads}) == len(payloads)
    sources = {p["source_type"] for p in payloads}
    assert sources >= {"SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_VOLUNTARY"}
    assert any(p.get("decision_account") == "DECISION_ACCOUNT_SUSPENDED" for p in payloads)

    stdout = runner.invoke(
        app, ["statements", "export", "--format", "tdb", "--data-dir", str(data)]
    )
    assert stdout.output.splitlines() == lines
    verify = runner.invoke(app, ["audit", "verify", "--data-dir", str(data)])
    assert verify.exit_code == 0
    assert "intact" in verify.output
    overdue = runner.invoke(app, ["cases", "list", "--overdue", "--data-dir", str(data)])
    assert overdue.exit_code == 0
    assert overdue.output.strip()
    assert runner.invoke(app, ["outbox", "send", "--data-dir", str(data)]).exit_code == 0
    bad = runner.invoke(app, ["statements", "export", "--format", "csv", "--data-dir", str(data)])
    assert bad.exit_code == 2
    assert "tdb" in bad.output


def test_flaggers_add(runner: CliRunner, tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    added = runner.invoke(
        app,
        [
            "flaggers",
            "add",
            "--name",
            "Hotline",
            "--member-state",
            "DE",
            "--area",
            "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            "--data-dir",
            data,
        ],
    )
    assert added.exit_code == 0, added.output
    assert added.stdout.strip().splitlines()[-1].startswith("bst_")
    listed = runner.invoke(app, ["flaggers", "list", "--data-dir", data])
    assert json.loads(listed.stdout.strip())["name"] == "Hotline"
    bad = runner.invoke(
        app,
        [
            "flaggers",
            "add",
            "--name",
            "X",
            "--member-state",
            "US",
            "--area",
            "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            "--data-dir",
            data,
        ],
    )
    assert bad.exit_code == 2


def test_audit_verify_names_the_break_and_exits_1(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import create_engine, delete

    from bastion.storage.tables import wf_audit

    data = tmp_path / "data"
    witness = tmp_path / "witness.jsonl"
    monkeypatch.setenv("BASTION_AUDIT_WITNESS_FILE", str(witness))
    assert runner.invoke(app, ["demo", "seed", "--data-dir", str(data)]).exit_code == 0
    intact = runner.invoke(app, ["audit", "verify", "--data-dir", str(data)])
    assert intact.exit_code == 0, intact.output
    assert "witnessed head(s) agree" in intact.output
    engine = create_engine(f"sqlite:///{data / 'bastion.db'}")
    with engine.begin() as conn:
        last = conn.execute(wf_audit.select().order_by(wf_audit.c.seq.desc())).first()
        assert last is not None
        conn.execute(delete(wf_audit).where(wf_audit.c.seq == last.seq))
    engine.dispose()
    broken = runner.invoke(app, ["audit", "verify", "--data-dir", str(data)])
    assert broken.exit_code == 1
    assert f"audit chain broken: truncated at event {last.seq}" in broken.output
