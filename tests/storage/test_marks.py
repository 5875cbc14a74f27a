"""Output marks: reserve, complete, look up, release — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from bastion.storage.db import Database
from bastion.storage.marks import MarkRepository

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_reserve_complete_and_look_up(database: Database) -> None:
    repo = MarkRepository(database)
    mark = repo.reserve(issuer=3, decision_id="d-1", source_sha256="ab" * 32, now=NOW)
    assert len(mark.output_id) == 8
    assert int(mark.output_id, 16) >= 0
    assert repo.get(3, mark.output_id) is None  # reservations are not marks yet
    done = repo.complete(
        mark,
        media_type="image/png",
        marked_sha256="cd" * 32,
        manifest="urn:c2pa:x",
        signer="Test signer",
        development_signer=True,
    )
    loaded = repo.get(3, mark.output_id.upper())
    assert loaded == done
    assert loaded is not None
    assert loaded.complete
    assert loaded.created_at == NOW
    assert repo.get(4, mark.output_id) is None  # another issuer's id space
    assert repo.for_decision("d-1") == [done]
    repo.release(done)  # completed marks are never released
    assert repo.get(3, mark.output_id) == done


def test_release_frees_a_reservation_and_ids_are_unique(database: Database) -> None:
    repo = MarkRepository(database)
    mark = repo.reserve(issuer=1, decision_id=None, source_sha256="00" * 32, now=NOW)
    repo.release(mark)
    assert repo.for_decision("anything") == []
    ids = {
        repo.reserve(issuer=1, decision_id=None, source_sha256="00" * 32, now=NOW).output_id
        for _ in range(50)
    }
    assert len(ids) == 50
