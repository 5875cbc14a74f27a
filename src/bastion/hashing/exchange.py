"""Hash list formats: what python-threatexchange, HMA and hash-sharing programmes exchange.

Read:
- plain text: one hex hash per line, or ``<signal_type> <hash>`` (python-threatexchange's
  local-file exchange); blank lines and ``#`` comments are skipped;
- CSV / TSV with a header naming a hash column (``signal``, ``hash``, ``pdq`` or
  ``indicator``) and optionally ``signal_type``, ``quality``, ``source``, ``labels``
  (separated by ``;`` or spaces), ``case_id``, ``note``, ``enabled``;
- CSV / TSV without a header: the hash first, optionally the signal type before it.

Write: CSV or TSV with the header ``signal_type, signal, quality, source, labels, case_id,
note, enabled, added_at, added_by, entry_id`` — the first two columns are what other tools
read; the rest lets an export be imported again without losing metadata.

Every problem names the line it is on.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import IO

from bastion.errors import BastionError, InvalidInput
from bastion.hashing.model import Entry, EntryInput
from bastion.hashing.signals import Hash, SignalType

HASH_COLUMNS = ("signal", "hash", "pdq", "indicator")
EXPORT_COLUMNS = (
    "signal_type",
    "signal",
    "quality",
    "source",
    "labels",
    "case_id",
    "note",
    "enabled",
    "added_at",
    "added_by",
    "entry_id",
)
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


class Format(StrEnum):
    TXT = "txt"
    CSV = "csv"
    TSV = "tsv"


def guess_format(name: str) -> Format:
    lowered = name.lower()
    if lowered.endswith(".csv"):
        return Format.CSV
    if lowered.endswith((".tsv", ".tab")):
        return Format.TSV
    return Format.TXT


def read_entries(
    lines: Iterable[str], fmt: Format, *, source: str = "import", labels: tuple[str, ...] = ()
) -> Iterator[EntryInput]:
    """Parse a hash list lazily; raises InvalidInput naming the line of the first problem."""
    if fmt is Format.TXT:
        yield from _read_text(lines, source, labels)
        return
    reader = csv.reader(lines, delimiter="," if fmt is Format.CSV else "\t")
    header: list[str] | None = None
    for number, row in enumerate(reader, start=1):
        cells = [c.strip() for c in row]
        if not cells or all(not c for c in cells) or cells[0].startswith("#"):
            continue
        if header is None:
            lowered = [c.lower() for c in cells]
            if any(c in HASH_COLUMNS for c in lowered) and not any(_HEX.match(c) for c in cells):
                header = lowered
                continue
            header = []
        try:
            yield _row(cells, header or [], source, labels)
        except BastionError as exc:
            raise InvalidInput(f"line {number}: {exc.message}", field=exc.field) from None


def _read_text(lines: Iterable[str], source: str, labels: tuple[str, ...]) -> Iterator[EntryInput]:
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        kind, _, rest = line.partition(" ")
        signal_type, value = (kind, rest.strip()) if rest else (SignalType.PDQ.value, kind)
        try:
            parsed = Hash.parse(value, signal_type)
        except BastionError as exc:
            raise InvalidInput(f"line {number}: {exc.message}", field=exc.field) from None
        yield EntryInput(
            hash=parsed.hex, signal_type=parsed.signal_type, source=source, labels=labels
        )


def _row(cells: list[str], header: list[str], source: str, labels: tuple[str, ...]) -> EntryInput:
    if not header:
        if len(cells) >= 2 and cells[0].lower() in {s.value for s in SignalType}:
            parsed = Hash.parse(cells[1], cells[0].lower())
        else:
            parsed = Hash.parse(cells[0])
        return EntryInput(
            hash=parsed.hex, signal_type=parsed.signal_type, source=source, labels=labels
        )
    values = dict(zip(header, cells, strict=False))
    column = next((c for c in HASH_COLUMNS if values.get(c)), None)
    if column is None:
        raise InvalidInput("no hash in this row", field="signal")
    signal_type = (values.get("signal_type") or "").lower() or (
        "pdq" if column == "pdq" else SignalType.PDQ.value
    )
    parsed = Hash.parse(values[column], signal_type)
    quality = values.get("quality") or None
    if quality is not None and not quality.isdigit():
        raise InvalidInput(f"quality must be a whole number, got {quality!r}", field="quality")
    row_labels = tuple(
        part for part in (values.get("labels") or "").replace(";", " ").split() if part
    )
    enabled = (values.get("enabled") or "true").lower()
    if enabled not in _TRUE | _FALSE:
        raise InvalidInput(f"enabled must be true or false, got {enabled!r}", field="enabled")
    return EntryInput(
        hash=parsed.hex,
        signal_type=parsed.signal_type,
        quality=int(quality) if quality is not None else None,
        source=values.get("source") or source,
        labels=row_labels or labels,
        case_id=values.get("case_id") or None,
        note=values.get("note") or None,
        enabled=enabled in _TRUE,
    )


def write_entries(
    entries: Iterable[Entry], out: IO[str], fmt: Format, *, header: bool = True
) -> int:
    """Write entries; returns how many. Plain text writes ``<signal_type> <hash>`` lines."""
    count = 0
    if fmt is Format.TXT:
        for entry in entries:
            out.write(f"{entry.signal_type.value} {entry.hash}\n")
            count += 1
        return count
    writer = csv.writer(out, delimiter="," if fmt is Format.CSV else "\t", lineterminator="\n")
    if header:
        writer.writerow(EXPORT_COLUMNS)
    for entry in entries:
        writer.writerow(
            [
                entry.signal_type.value,
                entry.hash,
                "" if entry.quality is None else entry.quality,
                entry.source,
                ";".join(entry.labels),
                entry.case_id or "",
                entry.note or "",
                "true" if entry.enabled else "false",
                entry.added_at.isoformat(),
                entry.added_by,
                entry.id,
            ]
        )
        count += 1
    return count


def iter_export(entries: Iterable[Entry], fmt: Format, chunk: int = 1000) -> Iterator[str]:
    """The export in pieces of ``chunk`` entries (the header once), for streaming."""
    buffer = io.StringIO()
    batch: list[Entry] = []
    first = True
    for entry in entries:
        batch.append(entry)
        if len(batch) >= chunk:
            write_entries(batch, buffer, fmt, header=first)
            first, batch = False, []
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    write_entries(batch, buffer, fmt, header=first)
    yield buffer.getvalue()


def export_text(entries: Iterable[Entry], fmt: Format) -> str:
    buffer = io.StringIO()
    write_entries(entries, buffer, fmt)
    return buffer.getvalue()
