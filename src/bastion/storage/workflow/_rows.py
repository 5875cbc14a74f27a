"""Row helpers shared by the workflow repositories."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row

from bastion.clock import as_utc


def values(row: Row[Any]) -> dict[str, Any]:
    """The row as a dict with every datetime made timezone-aware UTC (SQLite drops zones)."""
    out = dict(row._mapping)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = as_utc(value)
    return out
