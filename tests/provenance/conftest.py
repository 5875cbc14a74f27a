from __future__ import annotations

from collections.abc import Iterator

import pytest

from bastion.content import Image
from bastion.guard import Guard
from bastion.settings import Settings
from bastion.testing import fake_detector_class, make_registry
from tests.conftest import TEST_SECRET

# Stands in for the image guard's detectors (issue 3): screens images and finds nothing.
ImageScreen = fake_detector_class("image_screen", ["image_harm"], accepts=Image)


@pytest.fixture
def dev_settings(settings: Settings) -> Settings:
    """Settings with the development C2PA signer switched on."""
    return Settings.load(data_dir=settings.data_dir, secret_key=TEST_SECRET, c2pa_dev_signer=True)


@pytest.fixture
def marking_guard(dev_settings: Settings) -> Iterator[Guard]:
    guard = Guard.from_settings(dev_settings)
    yield guard
    guard.close()


@pytest.fixture
def upload_guard(dev_settings: Settings) -> Iterator[Guard]:
    """A marking guard that can also screen images (provenance + a benign fake screen)."""
    only = dev_settings.model_copy(
        update={
            "detectors": [
                "prompt_lexicon",
                "prompt_language",
                "provenance_watermark",
                "provenance_c2pa",
                "image_screen",
            ]
        }
    )
    guard = Guard.from_settings(only, registry=make_registry(ImageScreen, with_builtins=True))
    yield guard
    guard.close()
