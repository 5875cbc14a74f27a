"""The root ``bastion`` command: one Typer app, each command group in its own module."""

from __future__ import annotations

import typer

from bastion.cli import (
    check,
    config,
    db,
    hashing,
    keys,
    provenance,
    screen,
    serve,
    workflow,
)

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
config.register(app)
hashing.register(app)
workflow.register(app)
provenance.register(app)


def main() -> None:
    app()
