"""The intake middleware stack, installed in one place (by ``create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from bastion.api.idempotency import Idempotency
from bastion.api.intake import ReadTimeout
from bastion.api.parsing import JsonGuard
from bastion.api.ratelimit import RateLimit
from bastion.settings import Settings
from bastion.web.headers import SecurityHeaders


def install(app: FastAPI, settings: Settings) -> None:
    """Add the intake middleware. Starlette runs the last added first: read timeout, then
    rate limits and the challenge, then idempotency, then the JSON guard, then the routes."""
    app.add_middleware(JsonGuard)
    app.add_middleware(Idempotency, ttl_hours=settings.idempotency_ttl_hours)
    app.add_middleware(RateLimit, settings=settings)
    app.add_middleware(ReadTimeout, seconds=settings.request_read_timeout_seconds)
    app.add_middleware(SecurityHeaders)  # on every answer, refusals by the limits included
