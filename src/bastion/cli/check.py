"""``bastion check``: one prompt (and optional input photos), and optionally the generated
output, with a human-readable verdict for each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bastion.cli.common import DataDir, command, fail, settings_for


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from None


@command
def check(
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="The prompt to screen.")],
    image: Annotated[
        list[Path] | None, typer.Option("--image", "-i", help="An input photo (repeatable).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="The generated image: screened after the request, against its input photos "
            "(edit-delta).",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print the decision as JSON; with --output, {"generation": …, "output": …}.',
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Screen a generation request (and its output) and explain the decision."""
    from bastion.guard import Guard

    images = [_read(path) for path in image or []]
    generated = _read(output) if output is not None else None
    guard = Guard.from_settings(settings_for(data_dir))
    try:
        decision = guard.check_generation(prompt, images)
        checked = guard.check_output(generated, request=decision) if generated is not None else None
    finally:
        guard.close()
    if as_json:
        payload = (
            decision.to_dict()
            if checked is None
            else {"generation": decision.to_dict(), "output": checked.to_dict()}
        )
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    typer.echo(guard.explain(decision))
    if checked is not None:
        typer.echo("")
        typer.echo(guard.explain(checked))


def register(app: typer.Typer) -> None:
    app.command()(check)
