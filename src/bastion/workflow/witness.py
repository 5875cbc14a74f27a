"""The external witness of the audit chain: each new signed head, one JSON line in a file.

An attacker who can rewrite the database (the log and its head row) cannot reach back into
the witness, so ``bastion audit verify --witness FILE`` still sees how many events existed
and what the chain's MAC was at each witnessed count. Lines are written after the commit,
so a rolled-back step never leaves a head that did not exist; a crash between commit and
write loses one line, which the next step's head covers. A syslog or HTTP witness would take
the same line; only the file is built.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bastion.errors import ConfigError
from bastion.storage.workflow.audit import Head


def record(path: Path, head: Head) -> None:
    """Append ``head`` to the witness file (created 0600) and flush it to disk."""
    line = json.dumps(head.public(), sort_keys=True, separators=(",", ":")) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read(path: Path, key: bytes) -> list[Head]:
    """Every witnessed head; a line that is not a head signed with ``key`` is an error."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read the audit witness {path}: {exc.strerror}") from None
    heads = []
    for number, line in enumerate(lines, start=1):
        try:
            head = Head(**json.loads(line))
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{path}:{number}: not a witnessed audit head ({exc})") from None
        if not head.signed_by(key):
            raise ConfigError(f"{path}:{number}: not signed by this instance's audit key")
        heads.append(head)
    return heads
