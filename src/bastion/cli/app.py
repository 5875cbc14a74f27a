"""The root ``bastion`` command: one Typer app, each command group in its own module."""

from __future__ import annotations

import typer

from bastion.cli import check, db, keys, provenance, screen, serve

app = typer.Typer(
    name="bastion",
    help="Bastion: safety by design for generative image tools.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

serve.register(app)
check.register(app)
screen.register(app)
keys.register(app)
db.register(app)
provenance.register(app)


def main() -> None:
    app()
