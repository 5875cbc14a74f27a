"""What every command shares: ``--data-dir``, settings, and typed errors as clean exits."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from bastion.errors import BastionError
from bastion.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

EXIT_ERROR = 2

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data directory (default ./bastion-data, or BASTION_DATA_DIR). "
        "BASTION_DATABASE_URL overrides the database inside it.",
        show_default=False,
    ),
]


def settings_for(data_dir: Path | None, **overrides: Any) -> Settings:
    return Settings.load(data_dir=data_dir, **overrides)


def fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def command(fn: F) -> F:
    """Turn BastionErrors into one-line messages (ending in ``[code]``) and exit status 2,
    never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BastionError as exc:
            # The typed code last, as the API's error body carries it: scripts can match it.
            where = f" ({exc.field})" if exc.field else ""
            raise fail(f"{exc.message}{where} [{exc.code}]") from None
        except BrokenPipeError:  # `bastion screen ... | head`
            sys.stderr.close()
            raise typer.Exit(0) from None

    return wrapper  # type: ignore[return-value]
