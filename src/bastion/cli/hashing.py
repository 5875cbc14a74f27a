"""``bastion hash``, ``bastion match`` and ``bastion bank …``: hashes and banks from a shell."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bastion.cli.common import DataDir, command, fail, settings_for
from bastion.errors import BastionError

if TYPE_CHECKING:
    from bastion.hashing.banks import BankService

bank_app = typer.Typer(help="Hash banks: create, list, add, import, export, disable.")
Files = Annotated[list[Path], typer.Argument(help="Image files.")]
ACTOR = "cli"


def _service(data_dir: Path | None) -> BankService:
    from bastion.composition import bank_service, open_database

    settings = settings_for(data_dir)
    return bank_service(settings, open_database(settings))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BastionError(f"cannot read {path}: {exc.strerror}", field="file") from None


@command
def hash_files(files: Files) -> None:
    """Print `<pdq hex> <quality> <file>` for each image (errors go to stderr)."""
    from bastion.decode import ImageLimits
    from bastion.hashing.pdq import hash_bytes

    limits = ImageLimits.from_settings(settings_for(None))  # the API's limits
    failed = 0
    for path in files:
        try:
            result = hash_bytes(_read(path), limits=limits)
        except BastionError as exc:
            typer.echo(f"error: {path}: {exc.message} [{exc.code}]", err=True)
            failed += 1
            continue
        typer.echo(f"{result.hex} {result.quality} {path}")
    if failed:
        raise typer.Exit(1)


@command
def match_files(
    files: Files,
    bank: Annotated[list[str] | None, typer.Option("--bank", help="Only these banks.")] = None,
    data_dir: DataDir = None,
) -> None:
    """One JSON line per file: {"file", "hash", "quality", "matches": [...]} (or "error")."""
    service = _service(data_dir)
    failed = 0
    for path in files:
        record: dict[str, object] = {"file": str(path)}
        try:
            found = service.lookup_image(_read(path), banks=bank)
        except BastionError as exc:
            record["error"] = {"code": exc.code, "message": exc.message}
            failed += 1
        else:
            record.update(found.to_dict())
        typer.echo(json.dumps(record, ensure_ascii=False))
    if failed:
        raise typer.Exit(1)


@bank_app.command("create")
@command
def create(
    name: str,
    kind: Annotated[
        str, typer.Option(help="csam, ncii, terrorism, false_positives, other, …")
    ] = "other",
    distance: Annotated[int, typer.Option(help="Match distance for this bank (0-31).")] = 31,
    negative: Annotated[
        bool, typer.Option(help="Known false positives: suppress matches.")
    ] = False,
    description: Annotated[str, typer.Option(help="What the bank is for.")] = "",
    data_dir: DataDir = None,
) -> None:
    """Create a bank."""
    bank = _service(data_dir).create_bank(
        name, kind, match_distance=distance, negative=negative, description=description
    )
    typer.echo(json.dumps(bank.to_dict()))


@bank_app.command("list")
@command
def list_banks(data_dir: DataDir = None) -> None:
    """One JSON line per bank, with entry counts."""
    service = _service(data_dir)
    counts = service.repository.entry_counts()
    for bank in service.banks():
        total, enabled = counts.get(bank.id, (0, 0))
        typer.echo(json.dumps({**bank.to_dict(), "entries": total, "enabled_entries": enabled}))


@bank_app.command("add")
@command
def add(
    name: str,
    files: Annotated[list[Path] | None, typer.Argument(help="Images to hash and bank.")] = None,
    hash_: Annotated[
        list[str] | None, typer.Option("--hash", help="A hex hash (repeatable).")
    ] = None,
    label: Annotated[list[str] | None, typer.Option(help="A label (repeatable).")] = None,
    case_id: Annotated[str | None, typer.Option(help="The case this came from.")] = None,
    source: Annotated[str, typer.Option(help="Where the hash came from.")] = "cli",
    note: Annotated[str | None, typer.Option(help="A note kept with the entry.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Add hashes (--hash) or images (hashed, plus crops; images are not kept)."""
    from bastion.hashing.model import EntryInput

    if not files and not hash_:
        raise fail("give image files or --hash values")
    service = _service(data_dir)
    meta: dict[str, Any] = {
        "labels": tuple(label or ()),
        "case_id": case_id,
        "source": source,
        "note": note,
    }
    entries = []
    if hash_:
        entries += service.add(name, [EntryInput(hash=h, **meta) for h in hash_], added_by=ACTOR)
    for path in files or []:
        entries.append(service.add_image(name, _read(path), added_by=ACTOR, **meta))
    for entry in entries:
        typer.echo(json.dumps(entry.to_dict(), ensure_ascii=False))


@bank_app.command("import")
@command
def import_file(
    name: str,
    file: Annotated[Path, typer.Argument(help="A hash list: .txt, .csv or .tsv.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="txt, csv or tsv (default: by extension).")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Source recorded on each entry.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Bulk import (python-threatexchange / HMA hash lists); a progress bar on a terminal."""
    from bastion.hashing import exchange

    kind = exchange.Format(fmt) if fmt else exchange.guess_format(file.name)
    try:
        lines = file.read_text("utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {file}: {exc}") from None
    items = list(exchange.read_entries(lines, kind, source=source or f"import:{file.name}"))
    service = _service(data_dir)
    if sys.stderr.isatty():
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(f"importing into {name}", total=len(items))
            count = service.import_entries(
                name, items, added_by=ACTOR, progress=lambda n: bar.update(task, completed=n)
            )
    else:
        count = service.import_entries(name, items, added_by=ACTOR)
    typer.echo(f"imported {count} hash(es) into {name}", err=True)


@bank_app.command("export")
@command
def export(
    name: str,
    fmt: Annotated[str, typer.Option("--format", help="csv, tsv or txt.")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here, not stdout.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Export a bank's entries (with metadata; txt is `<signal_type> <hash>` lines)."""
    from bastion.hashing import exchange

    entries = _service(data_dir).entries(name)
    chunks = exchange.iter_export(entries, exchange.Format(fmt))
    if out is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        return
    try:
        with out.open("w", encoding="utf-8", newline="") as handle:
            for chunk in chunks:
                handle.write(chunk)
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror}") from None


def _toggle(name: str | None, entry: int | None, enabled: bool, data_dir: Path | None) -> None:
    if (name is None) == (entry is None):
        raise fail("give a bank name or --entry ID")
    service = _service(data_dir)
    if entry is not None:
        typer.echo(json.dumps(service.set_entry_enabled(entry, enabled).to_dict()))
    else:
        typer.echo(json.dumps(service.update_bank(str(name), enabled=enabled).to_dict()))


@bank_app.command("disable")
@command
def disable(
    name: Annotated[str | None, typer.Argument(help="A bank to disable.")] = None,
    entry: Annotated[int | None, typer.Option(help="Disable one entry instead.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Disable a bank or one entry (nothing is deleted; `enable` undoes it)."""
    _toggle(name, entry, False, data_dir)


@bank_app.command("enable")
@command
def enable(
    name: Annotated[str | None, typer.Argument(help="A bank to enable.")] = None,
    entry: Annotated[int | None, typer.Option(help="Enable one entry instead.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Enable a bank or one entry again."""
    _toggle(name, entry, True, data_dir)


def register(app: typer.Typer) -> None:
    app.command("hash")(hash_files)
    app.command("match")(match_files)
    app.add_typer(bank_app, name="bank")
