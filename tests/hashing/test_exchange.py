"""Hash list formats: python-threatexchange / HMA text, CSV and TSV; round trips."""

from __future__ import annotations

import pytest

from bastion.errors import InvalidInput
from bastion.hashing import exchange
from bastion.hashing.banks import BankService
from bastion.hashing.exchange import Format
from bastion.storage.db import Database

H1 = "2d6b1af3a956c529e79ca3d2526fa834d4196c81cedd04de0a26b855fc99b724"
H2 = "8c629e779a663698b9a33866c026726c21a679f61eb6e1f8c79ba7e23c8299e0"


def test_text_lists_with_and_without_signal_type() -> None:
    lines = ["# a comment", "", f"pdq {H1}", H2.upper()]
    items = list(exchange.read_entries(lines, Format.TXT, source="file"))
    assert [i.hash for i in items] == [H1, H2]
    assert {i.source for i in items} == {"file"}


def test_csv_with_header_and_metadata() -> None:
    lines = ["signal_type,signal,labels,case_id", f"pdq,{H1},ncii;adult,C-1"]
    (item,) = exchange.read_entries(lines, Format.CSV)
    assert item.labels == ("ncii", "adult")
    assert item.case_id == "C-1"


def test_headerless_csv_and_tsv() -> None:
    assert next(exchange.read_entries([f"{H1},whatever"], Format.CSV)).hash == H1
    assert next(exchange.read_entries([f"pdq\t{H2}"], Format.TSV)).hash == H2


def test_errors_name_the_line() -> None:
    with pytest.raises(InvalidInput, match="line 3"):
        list(exchange.read_entries([H1, H2, "nothex"], Format.TXT))
    with pytest.raises(InvalidInput, match="line 2"):
        list(exchange.read_entries(["signal,quality", f"{H1},high"], Format.CSV))


@pytest.mark.parametrize("fmt", list(Format))
def test_export_import_round_trip(database: Database, fmt: Format) -> None:
    service = BankService(database)
    service.create_bank("src", "ncii")
    service.create_bank("dst", "ncii")
    service.add_hash(
        "src", H1, added_by="t", labels=("a", "b"), case_id="C-7", note="n, with comma"
    )
    service.add_hash("src", H2, added_by="t", quality=88, source="stopncii")
    text = exchange.export_text(service.entries("src"), fmt)
    service.import_entries("dst", exchange.read_entries(text.splitlines(), fmt), added_by="t")
    before = [
        (e.hash, e.labels, e.case_id, e.note, e.quality, e.source) for e in service.entries("src")
    ]
    after = [
        (e.hash, e.labels, e.case_id, e.note, e.quality, e.source) for e in service.entries("dst")
    ]
    if fmt is Format.TXT:  # plain text carries hashes only
        assert [a[0] for a in after] == [b[0] for b in before]
    else:
        assert after == before


def test_chunked_export_writes_one_header() -> None:
    from datetime import UTC, datetime

    from bastion.hashing.model import Entry
    from bastion.hashing.signals import SignalType

    entries = [
        Entry(i, "b", SignalType.PDQ, H1, None, "s", (), datetime.now(UTC), "t") for i in range(5)
    ]
    text = "".join(exchange.iter_export(entries, Format.CSV, chunk=2))
    assert text.count("signal_type,signal") == 1
    assert len(text.splitlines()) == 6
