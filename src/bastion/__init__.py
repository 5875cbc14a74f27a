"""Bastion: safety by design for generative image tools.

The curated public API::

    from bastion import Guard
    guard = Guard.default()
    decision = guard.check_generation("make it a watercolour")
    decision.action  # "allow" | "review" | "block"
"""

from bastion.content import Image, Prompt
from bastion.errors import (
    BastionError,
    ConfigError,
    InvalidInput,
    NotFound,
    OutputNotAllowed,
    PolicyError,
)
from bastion.findings import Finding
from bastion.guard import Guard
from bastion.policy.model import Action, Decision, Reason, Severity, Surface
from bastion.settings import Settings

__all__ = [
    "Action",
    "BastionError",
    "ConfigError",
    "Decision",
    "Finding",
    "Guard",
    "Image",
    "InvalidInput",
    "NotFound",
    "OutputNotAllowed",
    "PolicyError",
    "Prompt",
    "Reason",
    "Settings",
    "Severity",
    "Surface",
]
from bastion.version import __version__ as __version__
