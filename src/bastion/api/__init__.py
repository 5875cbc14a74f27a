"""The HTTP API: a thin adapter over the Guard (and, later, banks, workflow and reports)."""

from bastion.api.app import create_app

__all__ = ["create_app"]
