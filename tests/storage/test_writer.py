"""Decision writers: a decision is committed before write() returns; a failing database is a
StorageUnavailable at once (never a decision), and writes resume when it is back."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from bastion.errors import StorageUnavailable
from bastion.policy.model import Decision
from bastion.storage.db import Database
from bastion.storage.decisions import DecisionRepository, StoredPrompt
from bastion.storage.writer import BackgroundWriter, SyncWriter
from tests.storage.test_repositories import make_decision

Items = Sequence[tuple[Decision, StoredPrompt | None]]


class Recording(DecisionRepository):
    """The real repository, counting transactions and failing on demand."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.batches: list[int] = []
        self.down = False
        self.slow_s = 0.0

    def add_many(self, items: Items) -> None:
        if self.down:
            raise StorageUnavailable("the database is unavailable")
        time.sleep(self.slow_s)
        super().add_many(items)
        self.batches.append(len(items))


def test_write_returns_after_the_commit(database: Database) -> None:
    repository = Recording(database)
    writer = BackgroundWriter(repository)
    decision = make_decision()
    writer.write(decision, StoredPrompt("h"))
    # Another connection sees it: committed, not merely queued.
    assert DecisionRepository(database).get(decision.id) == decision
    assert writer.pending(decision.id) is None
    writer.close()


def test_concurrent_writes_share_commits(database: Database) -> None:
    repository = Recording(database)
    repository.slow_s = 0.01  # a commit takes a while: the next checks queue up meanwhile
    writer = BackgroundWriter(repository)
    decisions = [make_decision() for _ in range(64)]
    threads = [threading.Thread(target=writer.write, args=(d, None)) for d in decisions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    assert sum(repository.batches) == 64
    assert len(repository.batches) < 64 / 2  # group commit
    reader = DecisionRepository(database)
    assert all(reader.get(d.id) == d for d in decisions)


def test_an_outage_fails_at_once_and_recovers(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    db.migrate()
    repository = Recording(db)
    writer = BackgroundWriter(repository, refuse_s=0.2)
    repository.down = True
    with pytest.raises(StorageUnavailable):
        writer.write(make_decision(), None)
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):  # refused without waiting for the database
        writer.write(make_decision(), None)
    assert time.monotonic() - started < 0.05
    repository.down = False
    time.sleep(0.25)
    decision = make_decision()
    writer.write(decision, None)
    assert repository.get(decision.id) == decision
    writer.close()
    db.dispose()


def test_one_bad_row_fails_only_its_own_check(database: Database) -> None:
    writer = BackgroundWriter(DecisionRepository(database))
    first = make_decision()
    writer.write(first, None)
    with pytest.raises(StorageUnavailable):  # same id again: an integrity error
        writer.write(first, None)
    assert not writer.failing  # not an outage: the next check is stored
    other = make_decision()
    writer.write(other, None)
    assert DecisionRepository(database).get(other.id) == other
    writer.close()


def test_sync_writer_raises_storage_unavailable(database: Database) -> None:
    writer = SyncWriter(DecisionRepository(database))
    decision = make_decision()
    writer.write(decision, None)
    with pytest.raises(StorageUnavailable) as caught:
        writer.write(decision, None)
    assert isinstance(caught.value.__cause__, IntegrityError)


def test_closed_writer_refuses(database: Database) -> None:
    writer = BackgroundWriter(DecisionRepository(database))
    writer.close()
    with pytest.raises(StorageUnavailable):
        writer.write(make_decision(), None)


def test_unreachable_databases_are_storage_unavailable(tmp_path: Path) -> None:
    missing = Database(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    with pytest.raises(StorageUnavailable):
        missing.ping()
    try:
        refused = Database("postgresql+psycopg://postgres@127.0.0.1:1/test")
    except Exception:
        pytest.skip("no Postgres driver installed")
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        refused.ping()
    assert time.monotonic() - started < 5
