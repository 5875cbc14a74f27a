"""Time, in one place: always timezone-aware UTC. Pass a ``Clock`` where time matters so
tests can freeze it (see :class:`bastion.testing.FrozenClock`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Databases without timezone support (SQLite) return naive UTC; make it aware again."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc(value: datetime) -> datetime:
    """Like :func:`as_utc` for values that are never missing."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return utcnow()
