"""``bastion statements``, ``bastion cases``, ``bastion outbox``, ``bastion audit`` and
``bastion flaggers``: the notice-and-action workflow from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from bastion.cli.common import DataDir, command, fail, settings_for
from bastion.workflow.service import Workflow

statements_app = typer.Typer(help="Statements of reasons.", no_args_is_help=True)
cases_app = typer.Typer(help="The review queue.", no_args_is_help=True)
outbox_app = typer.Typer(help="Messages to notifiers and users.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
flaggers_app = typer.Typer(help="Trusted flaggers (DSA Art. 22).", no_args_is_help=True)


def _workflow(data_dir: Path | None) -> Workflow:
    from bastion.composition import bank_service, open_database, workflow_service

    settings = settings_for(data_dir)
    db = open_database(settings)
    return workflow_service(settings, db, bank_service(settings, db), auto_dispatch=False)


@statements_app.command("export")
@command
def export(
    format: Annotated[str, typer.Option("--format", help="tdb: Transparency Database payloads.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here, not stdout.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Write one JSON payload per line, each validated again before it is written."""
    from bastion.storage.workflow import decisions as repo
    from bastion.workflow import tdb

    if format != "tdb":
        raise fail("--format must be tdb")
    wf = _workflow(data_dir)
    lines = []
    with wf.db.connect() as conn:
        for statement in repo.tdb_statements(conn):
            assert statement.payload is not None
            problems = tdb.violations(statement.payload)
            if problems:
                first = problems[0]
                raise fail(f"statement {statement.puid} is invalid: {first.field}: {first.message}")
            lines.append(json.dumps(statement.payload, ensure_ascii=False, sort_keys=True))
    text = "".join(line + "\n" for line in lines)
    if out is None:
        sys.stdout.write(text)
    else:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise fail(f"cannot write {out}: {exc.strerror}") from None
        typer.echo(f"wrote {len(lines)} statement(s) to {out}", err=True)


@cases_app.command("list")
@command
def list_cases(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only cases past a deadline.")] = False,
    data_dir: DataDir = None,
) -> None:
    """The queue, one JSON line per case (priority first, then the earliest deadline)."""
    from bastion.workflow import queue

    for case in queue.queue(_workflow(data_dir), overdue=overdue, limit=500):
        typer.echo(json.dumps(case, ensure_ascii=False))


@outbox_app.command("send")
@command
def send(data_dir: DataDir = None) -> None:
    """Send queued messages with the configured adapter (BASTION_OUTBOX_ADAPTER)."""
    sent, failed = _workflow(data_dir).send_pending()
    typer.echo(f"sent {sent}, failed {failed}")
    if failed:
        raise typer.Exit(1)


@audit_app.command("verify")
@command
def verify(
    witness: Annotated[
        Path | None,
        typer.Option(help="Witnessed heads to check too. Default: BASTION_AUDIT_WITNESS_FILE."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Check the MAC chain and its signed head; exit 1 at the first bad position."""
    wf = _workflow(data_dir)
    check = wf.verify_audit(witness or wf.settings.audit_witness_file)
    if check.kind is not None:
        where = "" if check.position is None else f" at event {check.position}"
        raise fail(
            f"audit chain broken: {check.kind.value}{where}: {check.detail} "
            f"({check.events} intact before it)",
            code=1,
        )
    sealed = "" if check.head is None or check.head.mac else ", head not yet signed"
    witnessed = f", {check.witnessed} witnessed head(s) agree" if check.witnessed else ""
    typer.echo(f"audit chain intact: {check.events} event(s){sealed}{witnessed}")


@flaggers_app.command("add")
@command
def add_flagger(
    name: Annotated[str, typer.Option(help="The organisation's name.")],
    member_state: Annotated[str, typer.Option(help="Awarding Digital Services Coordinator.")],
    area: Annotated[list[str], typer.Option(help="STATEMENT_CATEGORY_* (repeat).")],
    data_dir: DataDir = None,
) -> None:
    """Register a trusted flagger and print its API key once."""
    from bastion.storage.keys import ApiKeyRepository, Role
    from bastion.workflow import notices

    wf = _workflow(data_dir)
    keys = ApiKeyRepository(wf.db, wf.settings.resolved_secret())
    record, clear = keys.create(f"trusted flagger: {name}"[:200], Role.SERVICE)
    try:
        flagger = notices.register_flagger(
            wf, name=name, member_state=member_state, areas=area, api_key_id=record.id
        )
    except Exception:
        keys.revoke(record.id)
        raise
    typer.echo(f"registered trusted flagger {flagger.id} ({flagger.name})", err=True)
    typer.echo(clear)


@flaggers_app.command("list")
@command
def list_flaggers(data_dir: DataDir = None) -> None:
    """Registered trusted flaggers, one JSON line each."""
    from bastion.storage.workflow import notices as repo

    wf = _workflow(data_dir)
    with wf.db.connect() as conn:
        for f in repo.list_flaggers(conn):
            typer.echo(
                json.dumps(
                    {
                        "id": f.id,
                        "name": f.name,
                        "member_state": f.member_state,
                        "areas": list(f.areas),
                    }
                )
            )


def register(app: typer.Typer) -> None:
    app.add_typer(statements_app, name="statements")
    app.add_typer(cases_app, name="cases")
    app.add_typer(outbox_app, name="outbox")
    app.add_typer(audit_app, name="audit")
    app.add_typer(flaggers_app, name="flaggers")
