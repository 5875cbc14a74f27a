"""``bastion screen prompts`` and ``bastion eval prompts``."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from bastion.cli.common import DataDir, command, fail, settings_for

screen_app = typer.Typer(help="Screen content in bulk.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate the guard on labelled sets.", no_args_is_help=True)

InputFile = Annotated[Path, typer.Argument(help='JSON lines: {"id", "prompt"} [+ "image"].')]


def _lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"{path} is not valid UTF-8 (byte {exc.start})") from None
    return text.splitlines()


@contextmanager
def _progress(total: int, label: str) -> Iterator[Any]:
    """A progress bar on a terminal (stderr), nothing otherwise."""
    if not sys.stderr.isatty():
        yield lambda: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)


@contextmanager
def _output(out: Path | None) -> Iterator[IO[str]]:
    if out is None:
        yield sys.stdout
        return
    try:
        handle = out.open("w", encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror}") from None
    with handle:
        yield handle


@screen_app.command("prompts")
@command
def screen_prompts(
    file: InputFile,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here, not stdout.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Screen every line; write {"id","action","rules"} per line (or {"id","error"})."""
    from bastion.batch import screen_lines
    from bastion.guard import Guard

    lines = _lines(file)
    guard = Guard.from_settings(settings_for(data_dir))
    failed = 0
    with _output(out) as sink, _progress(len(lines), "screening") as advance:
        for record, _, _ in screen_lines(guard, lines, file.parent):
            failed += "error" in record
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            advance()
    if failed:
        typer.echo(f"{failed} line(s) could not be screened (see their 'error')", err=True)
        raise typer.Exit(1)


@eval_app.command("prompts")
@command
def eval_prompts(
    file: Annotated[Path, typer.Argument(help='Labelled JSON lines (adds "label": abuse|benign).')],
    misses: Annotated[bool, typer.Option("--misses", help="List every wrong decision.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the evaluation as JSON.")] = False,
    min_block_rate: Annotated[
        float | None, typer.Option(help="Fail (exit 1) when fewer abuse items are blocked.")
    ] = None,
    max_benign_block_rate: Annotated[
        float | None, typer.Option(help="Fail (exit 1) when more benign items are blocked.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Block rates on a labelled set, by language, obfuscation and category.

    Decisions go to a temporary database unless --data-dir is given.
    """
    from bastion.batch import screen_lines
    from bastion.guard import Guard
    from bastion.reports.evaluation import Evaluation, render_table

    lines = _lines(file)
    with tempfile.TemporaryDirectory(prefix="bastion-eval-") as scratch:
        settings = settings_for(data_dir or Path(scratch))
        guard = Guard.from_settings(settings)
        evaluation = Evaluation()
        with _progress(len(lines), "evaluating") as advance:
            for record, item, _ in screen_lines(guard, lines, file.parent):
                advance()
                if "error" in record:
                    evaluation.errors.append(record)
                    continue
                if item.get("label") not in ("abuse", "benign"):
                    evaluation.errors.append(
                        {
                            "id": record["id"],
                            "error": {
                                "code": "invalid_input",
                                "message": "label must be abuse or benign",
                            },
                        }
                    )
                    continue
                evaluation.add(item, record["action"])
        guard.close()
    if as_json:
        typer.echo(json.dumps(evaluation.as_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_table(evaluation))
        if misses and evaluation.misses:
            typer.echo("\nwrong decisions:")
            for miss in evaluation.misses:
                typer.echo(f"  {miss['id']} [{miss['label']}→{miss['action']}] {miss['prompt']}")
    problems = []
    overall = evaluation.overall
    if min_block_rate is not None and (overall.recall or 0) < min_block_rate:
        problems.append(f"abuse block rate {overall.recall:.3f} < {min_block_rate}")
    if (
        max_benign_block_rate is not None
        and (overall.benign_block_rate or 0) > max_benign_block_rate
    ):
        problems.append(
            f"benign block rate {overall.benign_block_rate:.3f} > {max_benign_block_rate}"
        )
    if evaluation.errors:
        problems.append(f"{len(evaluation.errors)} line(s) had errors")
    if problems:
        typer.echo("FAILED: " + "; ".join(problems), err=True)
        raise typer.Exit(1)


@command
def demo_seed(data_dir: DataDir = None) -> None:
    """Seed demo data (only into an empty database)."""
    from bastion.demo import seed_if_empty
    from bastion.guard import Guard
    from bastion.storage.keys import ApiKeyRepository

    guard = Guard.from_settings(settings_for(data_dir))
    keys = ApiKeyRepository(guard.db, guard.settings.resolved_secret())
    seeded = seed_if_empty(guard, keys)
    typer.echo(f"seeded: {seeded}" if seeded else "the database is not empty; nothing seeded")


def register(app: typer.Typer) -> None:
    app.add_typer(screen_app, name="screen")
    app.add_typer(eval_app, name="eval")
    demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
    demo_app.command("seed")(demo_seed)
    app.add_typer(demo_app, name="demo")
