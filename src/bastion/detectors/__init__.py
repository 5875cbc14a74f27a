"""Detectors: each returns typed Findings. Registered through the ``bastion.detectors``
entry-point group (see :mod:`bastion.detectors.registry`)."""

from bastion.detectors.base import Detector, DetectorConfig

__all__ = ["Detector", "DetectorConfig"]
