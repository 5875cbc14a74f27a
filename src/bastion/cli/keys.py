"""``bastion keys``: API keys (stored only as hashes; the clear key is shown once)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bastion.cli.common import DataDir, command, settings_for
from bastion.storage.keys import ApiKeyRepository, Role

keys_app = typer.Typer(help="API keys for service callers.", no_args_is_help=True)


def _repository(data_dir: object) -> ApiKeyRepository:
    from bastion.bootstrap import prepare_data_dir
    from bastion.storage.db import Database

    settings = settings_for(data_dir)  # type: ignore[arg-type]
    prepare_data_dir(settings)
    db = Database(settings.resolved_database_url)
    db.migrate()
    return ApiKeyRepository(db, settings.resolved_secret())


@keys_app.command()
@command
def create(
    role: Annotated[Role, typer.Option(help="service, moderator, child_safety or admin.")],
    name: Annotated[str, typer.Option(help="Who or what uses the key.")] = "default",
    data_dir: DataDir = None,
) -> None:
    """Create a key and print it once."""
    record, clear = _repository(data_dir).create(name, role)
    typer.echo(f"created {record.role.value} key {record.id} ({record.name})", err=True)
    typer.echo(clear)


@keys_app.command("list")
@command
def list_keys(data_dir: DataDir = None) -> None:
    """List keys (never the keys themselves): one JSON line each."""
    for key in _repository(data_dir).list():
        typer.echo(
            json.dumps(
                {
                    "id": key.id,
                    "name": key.name,
                    "role": key.role.value,
                    "prefix": key.prefix,
                    "created_at": key.created_at.isoformat() if key.created_at else None,
                    "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
                }
            )
        )


@keys_app.command()
@command
def revoke(key_id: str, data_dir: DataDir = None) -> None:
    """Revoke a key by id."""
    _repository(data_dir).revoke(key_id)
    typer.echo(f"revoked {key_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
