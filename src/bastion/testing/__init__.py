"""Test helpers for Bastion and for detector authors: fake detectors, a frozen clock and a
registry builder. Fakes drive the positive (abuse) paths, so no abusive content is needed."""

from bastion.testing.fakes import (
    FakeDetector,
    FrozenClock,
    fake_detector_class,
    make_registry,
)

__all__ = ["FakeDetector", "FrozenClock", "fake_detector_class", "make_registry"]
