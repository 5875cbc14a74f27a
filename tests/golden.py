"""Golden files: texts people and regulators read are compared with reviewed copies.

Regenerate with ``BASTION_TEST_UPDATE_GOLDEN=1 make pytest`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("BASTION_TEST_UPDATE_GOLDEN") == "1"


def assert_golden(name: str | Path, actual: str) -> None:
    path = name if isinstance(name, Path) else GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing; run with BASTION_TEST_UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{path} differs; review and regenerate with BASTION_TEST_UPDATE_GOLDEN=1"
    )
