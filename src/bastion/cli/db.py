"""``bastion db``: schema migrations and retention purges."""

from __future__ import annotations

import typer

from bastion.cli.common import DataDir, command, settings_for

db_app = typer.Typer(help="Database schema and retention.", no_args_is_help=True)


@db_app.command()
@command
def upgrade(data_dir: DataDir = None) -> None:
    """Apply every pending migration (idempotent)."""
    from bastion.storage.db import Database

    settings = settings_for(data_dir)
    Database(settings.resolved_database_url).migrate()
    typer.echo("schema is up to date")


@db_app.command()
@command
def purge(data_dir: DataDir = None) -> None:
    """Erase clear-text prompts whose retention (BASTION_PROMPT_RETENTION_HOURS) has ended."""
    from bastion.guard import Guard

    guard = Guard.from_settings(settings_for(data_dir))
    typer.echo(f"erased {guard.purge_expired_prompts()} expired prompt text(s)")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
