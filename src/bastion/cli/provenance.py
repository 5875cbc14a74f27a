"""``bastion mark IN OUT`` and ``bastion verify FILES…``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from bastion.cli.common import DataDir, command, fail, settings_for
from bastion.errors import BastionError


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from None


@command
def mark(
    source: Annotated[Path, typer.Argument(metavar="IN", help="The output image to mark.")],
    target: Annotated[Path, typer.Argument(metavar="OUT", help="Where to write the marked image.")],
    decision: Annotated[
        str | None,
        typer.Option("--decision", help="Id of the output's allowed decision, to link the mark."),
    ] = None,
    generator: Annotated[
        str | None,
        typer.Option(help="AI model named in the C2PA manifest (BASTION_GENERATOR_NAME)."),
    ] = None,
    dev_signer: Annotated[
        bool,
        typer.Option(
            "--dev-signer",
            help="Sign with the DEVELOPMENT certificate if none is configured.",
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Watermark and C2PA-sign an image; print what was written as one JSON line."""
    from bastion.clock import SystemClock
    from bastion.composition import open_database, provenance_service
    from bastion.content import Image
    from bastion.decode import ImageLimits
    from bastion.provenance.binding import check_markable
    from bastion.storage.decisions import DecisionRepository

    data = _read(source)
    # Only what marking needs: the stored decision and the provenance services (no models).
    settings = settings_for(data_dir, c2pa_dev_signer=dev_signer or None)
    db = open_database(settings)
    try:
        image = Image.from_bytes(
            data, max_bytes=settings.image_max_bytes, limits=ImageLimits.from_settings(settings)
        )
        image.header()  # format and size refused here, as on every surface
        if decision is not None:
            check_markable(DecisionRepository(db).get(decision), data, principal=None)
        marked = provenance_service(settings, db, SystemClock()).mark(
            data, decision, generator=generator or settings.generator_name
        )
    finally:
        db.dispose()
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        temporary.write_bytes(marked.data)
        os.replace(temporary, target)
    except OSError as exc:
        raise fail(f"cannot write {target}: {exc.strerror}") from None
    typer.echo(json.dumps({"file": str(target), **marked.to_dict()}, ensure_ascii=False))


@command
def verify(
    files: Annotated[list[Path], typer.Argument(metavar="FILES...", help="Images to inspect.")],
    dev_signer: Annotated[
        bool,
        typer.Option(
            "--dev-signer",
            help="Also trust the DEVELOPMENT root, as `make run` does.",
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Read watermark and C2PA manifest of each file: one JSON line per file.

    Exit status 1 when a file could not be read or decoded (its line has an "error").
    """
    from bastion.clock import SystemClock
    from bastion.composition import open_database, provenance_service
    from bastion.content import Image
    from bastion.decode import ImageLimits

    # Only what reading a mark needs: the database (the mark's link) and the provenance
    # services; no detector and no model is loaded.
    settings = settings_for(data_dir, c2pa_dev_signer=dev_signer or None)
    db = open_database(settings)
    provenance = provenance_service(settings, db, SystemClock())
    limits = ImageLimits.from_settings(settings)
    failed = False
    try:
        for path in files:
            line: dict[str, object] = {"file": str(path)}
            try:
                data = path.read_bytes()
                image = Image.from_bytes(data, max_bytes=settings.image_max_bytes, limits=limits)
                line.update(provenance.inspect(image).to_dict())
            except OSError as exc:
                failed = True
                line["error"] = {"code": "unreadable", "message": str(exc.strerror)}
            except BastionError as exc:
                failed = True
                line["error"] = {"code": exc.code, "message": exc.message}
            typer.echo(json.dumps(line, ensure_ascii=False))
    finally:
        db.dispose()
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(mark)
    app.command()(verify)
