"""``bastion serve`` and ``bastion init``."""

from __future__ import annotations

from typing import Annotated

import typer

from bastion.cli.common import DataDir, command, settings_for


@command
def init(data_dir: DataDir = None) -> None:
    """Create the data directory, its secret key and the database schema."""
    from bastion.bootstrap import prepare_data_dir
    from bastion.storage.db import Database

    settings = settings_for(data_dir)
    prepare_data_dir(settings)
    Database(settings.resolved_database_url).migrate()
    typer.echo(f"ready: {settings.data_dir} ({settings.resolved_database_url})")


@command
def serve(
    data_dir: DataDir = None,
    host: Annotated[str | None, typer.Option(help="Bind address (BASTION_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (BASTION_PORT).")] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Seed demo data into an empty database, print a fresh demo admin key and, "
            "unless a certificate is configured, sign C2PA manifests with a DEVELOPMENT CA.",
        ),
    ] = False,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    import uvicorn

    from bastion.api.app import create_app
    from bastion.demo import seed_if_empty
    from bastion.guard import Guard
    from bastion.storage.keys import ApiKeyRepository

    settings = settings_for(data_dir, host=host, port=port)
    if demo and settings.c2pa_cert_file is None and not settings.c2pa_dev_signer:
        settings = settings.model_copy(update={"c2pa_dev_signer": True})
    guard = Guard.from_settings(settings)
    credentials = guard.provenance.credentials  # creates the development CA on first start
    if credentials is not None and credentials.development:
        typer.echo(
            f"C2PA: outputs are signed with a DEVELOPMENT certificate "
            f"({settings.data_dir / 'c2pa-dev'}); not for production"
        )
    app = create_app(guard=guard)
    keys: ApiKeyRepository = app.state.keys
    if demo:
        seeded = seed_if_empty(guard, keys)
        if seeded:
            typer.echo(f"seeded demo data: {seeded}")
        for key in keys.list():
            if key.name == "demo" and key.revoked_at is None:
                keys.revoke(key.id)
        _, clear = keys.create("demo", "admin")
        typer.echo(f"demo admin API key (shown once, replaced on each start): {clear}")
    url = f"http://{settings.host}:{settings.port}"
    typer.echo(f"Bastion is serving on {url}  (API docs: {url}/docs)")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(serve)
