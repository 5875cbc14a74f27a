"""Prepare a data directory: create it and its secret key on first start, and say so."""

from __future__ import annotations

import logging
import os

from bastion.errors import ConfigError
from bastion.settings import Settings, new_secret

log = logging.getLogger("bastion")


def prepare_data_dir(settings: Settings) -> None:
    """Create ``data_dir`` and, when no key is configured, ``data_dir/secret.key`` (mode 600)."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create data directory {settings.data_dir}: {exc}") from exc
    if settings.secret_key is not None:
        return
    path = settings.data_dir / "secret.key"
    if path.exists():
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first
    except OSError as exc:
        raise ConfigError(f"cannot create {path}: {exc}") from exc
    with os.fdopen(fd, "w") as handle:
        handle.write(new_secret() + "\n")
    log.warning(
        "created a new secret key at %s (set BASTION_SECRET_KEY to manage it yourself)", path
    )
