"""``create_app(settings)``: the FastAPI application, built in a factory, never at import."""

from __future__ import annotations

from fastapi import FastAPI

from bastion.api import errors, middleware
from bastion.api.limits import BodyLimit
from bastion.api.routes import (
    banks,
    cases,
    decisions,
    generations,
    health,
    hma,
    notices,
    outputs,
    provenance,
    statements,
)
from bastion.guard import Guard
from bastion.settings import Settings
from bastion.storage.keys import ApiKeyRepository
from bastion.version import __version__
from bastion.web import routes as web

ROUTERS = (
    health.router,
    generations.router,
    outputs.router,
    decisions.router,
    provenance.router,
    banks.router,
    hma.router,
    notices.router,
    cases.router,
    statements.router,
    web.router,
)


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
    middleware.install(app, settings)
    app.add_middleware(BodyLimit, max_bytes=settings.request_max_bytes)
    return app
