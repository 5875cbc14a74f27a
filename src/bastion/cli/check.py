"""``bastion check``: one prompt (and optional input photo), human-readable verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bastion.cli.common import DataDir, command, fail, settings_for


@command
def check(
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="The prompt to screen.")],
    image: Annotated[
        list[Path] | None, typer.Option("--image", "-i", help="An input photo (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Screen a generation request and explain the decision."""
    from bastion.guard import Guard

    images = []
    for path in image or []:
        try:
            images.append(path.read_bytes())
        except OSError as exc:
            raise fail(f"cannot read {path}: {exc.strerror}") from None
    guard = Guard.from_settings(settings_for(data_dir))
    decision = guard.check_generation(prompt, images)
    if as_json:
        typer.echo(json.dumps(decision.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(guard.explain(decision))


def register(app: typer.Typer) -> None:
    app.command()(check)
