"""Docs that cannot drift: every detector and label is in docs/detectors.md, every image
setting has a description and is in docs/image-guard.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.detectors.registry import default_registry
from bastion.guard import DERIVED_LABELS
from bastion.settings import Settings

DOCS = Path(__file__).parents[1] / "docs"
IMAGE_SETTINGS = [
    name
    for name in Settings.model_fields
    if name.startswith(("image_", "onnx_", "face_", "edit_delta_"))
]


def test_every_detector_and_label_is_documented() -> None:
    text = (DOCS / "detectors.md").read_text("utf-8")
    registry = default_registry()
    for name in registry.names():
        assert f"`{name}`" in text, name
    for label in sorted(registry.labels() | DERIVED_LABELS):
        assert f"`{label}`" in text, label


@pytest.mark.parametrize("name", IMAGE_SETTINGS)
def test_image_settings_are_described_and_documented(name: str) -> None:
    assert Settings.model_fields[name].description
    assert f"BASTION_{name.upper()}" in (DOCS / "image-guard.md").read_text("utf-8")
