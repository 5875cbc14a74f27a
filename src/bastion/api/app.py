"""``create_app(settings)``: the FastAPI application, built in a factory, never at import."""

from __future__ import annotations

from fastapi import FastAPI

from bastion import __version__
from bastion.api import errors
from bastion.api.limits import BodyLimit
from bastion.api.routes import decisions, generations, health, provenance
from bastion.guard import Guard
from bastion.settings import Settings
from bastion.storage.keys import ApiKeyRepository

ROUTERS = (health.router, generations.router, decisions.router, provenance.router)


def create_app(settings: Settings | None = None, *, guard: Guard | None = None) -> FastAPI:
    """Build the app. Pass ``guard`` to share one (tests, embedding); else one is built."""
    if guard is None:
        guard = Guard.from_settings(settings or Settings.load())
    settings = guard.settings
    app = FastAPI(
        title="Bastion",
        version=__version__,
        description="Safety by design for generative image tools. Authenticate with an API "
        "key (`bastion keys create --role service`) as `Authorization: Bearer <key>`.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.guard = guard
    app.state.settings = settings
    app.state.keys = ApiKeyRepository(guard.db, guard.settings.resolved_secret())
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(BodyLimit, max_bytes=settings.request_max_bytes)
    return app
