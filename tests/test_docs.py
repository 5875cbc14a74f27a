"""Docs that cannot drift: every setting, CLI command, detector and rule is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main

from bastion.cli.app import app
from bastion.cli.config import settings_reference
from bastion.detectors.registry import default_registry
from bastion.policy.loader import load_policy
from tests.golden import assert_golden

ROOT = Path(__file__).parent.parent
DOCS = "\n".join(
    p.read_text("utf-8") for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
)


def test_configuration_reference_is_generated() -> None:
    assert_golden(ROOT / "docs" / "configuration.md", settings_reference())


def _commands(group: Any, prefix: str = "bastion") -> list[str]:
    found = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if hasattr(command, "commands"):
            found += _commands(command, path)
        else:
            found.append(path)
    return found


def _documented(path: str, lines: list[str]) -> bool:
    """The full path appears, or a line with its parent names the subcommand
    ("bastion bank create|list|import", "bastion keys create … / `list` / `revoke ID`")."""
    if path in DOCS:
        return True
    parent, sub = path.rsplit(" ", 1)
    word = re.compile(rf"(?<![\w-]){re.escape(sub)}(?![\w-])")
    return any(parent in line and word.search(line.split(parent, 1)[1]) for line in lines)


def test_every_cli_command_is_documented() -> None:
    commands = _commands(typer.main.get_command(app))
    assert "bastion screen prompts" in commands
    lines = DOCS.splitlines()
    assert [path for path in commands if not _documented(path, lines)] == []


def test_every_detector_is_documented() -> None:
    registry = default_registry()
    for name in registry.names():
        assert f"`{name}`" in DOCS, f"detector {name} is not in docs/detectors.md"
        for label in registry.get(name).labels:
            assert f"`{label}`" in DOCS, f"label {label} of {name} is not documented"


def test_every_default_rule_is_documented() -> None:
    for rule in load_policy().rules:
        assert f"`{rule.id}`" in DOCS, f"rule {rule.id} is not in docs/policy.md"
