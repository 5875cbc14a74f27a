"""Repositories behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from bastion.errors import AuthError, InvalidInput, NotFound
from bastion.findings import Finding
from bastion.policy.model import Action, Decision, Reason, Severity, Surface
from bastion.storage.db import Database
from bastion.storage.decisions import DecisionRepository, StoredPrompt
from bastion.storage.keys import ApiKeyRepository, Role
from bastion.storage.tables import metadata

SECRET = b"0123456789abcdef0123456789abcdef"


def make_decision(action: Action = Action.BLOCK) -> Decision:
    finding = Finding("prompt_lexicon", "sexual_explicit", 0.9, evidence={"terms": [{"term": "x"}]})
    reason = Reason(
        rule="adult_explicit_content",
        description="d",
        action=action,
        severity=Severity.MEDIUM,
        findings=(finding,),
        category="STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        keywords=("KEYWORD_ADULT_SEXUAL_MATERIAL",),
    )
    return Decision(
        action=action,
        severity=Severity.MEDIUM,
        surface=Surface.GENERATION,
        reasons=(reason,),
        findings=(finding,),
        language="en",
        created_at=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
    )


def test_migrations_match_the_tables(database: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with database.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert diff == []
    assert set(inspect(database.engine).get_table_names()) >= {"decisions", "api_keys"}


def test_migrate_is_idempotent(database: Database) -> None:
    database.migrate()
    database.migrate()


def test_decision_round_trip(database: Database) -> None:
    repo = DecisionRepository(database)
    decision = make_decision()
    repo.add(decision, StoredPrompt("ab" * 32))
    loaded = repo.get(decision.id)
    assert loaded == decision
    assert loaded.reasons[0].findings[0].evidence["terms"][0]["term"] == "x"
    assert repo.count_by_action() == {"block": 1}
    assert repo.prompt_of(decision.id) == StoredPrompt("ab" * 32)


def test_missing_decision_is_not_found(database: Database) -> None:
    with pytest.raises(NotFound):
        DecisionRepository(database).get("no-such-id")


def test_duplicate_decision_id_leaves_one_row(database: Database) -> None:
    repo = DecisionRepository(database)
    decision = make_decision()
    repo.add(decision)
    with pytest.raises(Exception):  # noqa: B017 - any integrity error; nothing half-written
        repo.add(decision)
    assert repo.count_by_action() == {"block": 1}


def test_prompt_purge(database: Database) -> None:
    repo = DecisionRepository(database)
    decision = make_decision(Action.ALLOW)
    expires = datetime(2026, 11, 26, tzinfo=UTC)
    repo.add(decision, StoredPrompt("cd" * 32, "a lighthouse", expires))
    assert repo.purge_expired(expires - timedelta(seconds=1)) == 0
    assert repo.purge_expired(expires) == 1
    stored = repo.prompt_of(decision.id)
    assert stored is not None
    assert stored.text is None
    assert stored.hash == "cd" * 32


def test_api_keys(database: Database) -> None:
    keys = ApiKeyRepository(database, SECRET)
    record, clear = keys.create("integration", Role.SERVICE)
    assert clear.startswith("bst_")
    assert record.prefix in clear
    assert keys.authenticate(clear).id == record.id
    assert keys.authenticate(clear).created_at.tzinfo is not None
    with pytest.raises(AuthError):
        keys.authenticate(clear[:-1] + ("A" if clear[-1] != "A" else "B"))
    with pytest.raises(AuthError):
        keys.authenticate("nonsense")
    with pytest.raises(AuthError):
        ApiKeyRepository(database, b"another-secret-0123456789").authenticate(clear)
    keys.revoke(record.id)
    with pytest.raises(AuthError, match="revoked"):
        keys.authenticate(clear)
    with pytest.raises(NotFound):
        keys.revoke(record.id)
    with pytest.raises(InvalidInput):
        keys.create("x", "superuser")
    assert [k.role for k in keys.list()] == [Role.SERVICE]


def test_keys_are_stored_only_as_hashes(database: Database) -> None:
    keys = ApiKeyRepository(database, SECRET)
    _, clear = keys.create("integration", Role.ADMIN)
    with database.connect() as connection:
        rows = connection.exec_driver_sql("SELECT * FROM api_keys").all()
    assert clear not in repr(rows)


def test_a_key_records_its_last_use_at_most_once_a_minute(database: Database) -> None:
    from sqlalchemy import update

    from bastion.storage.tables import api_keys

    keys = ApiKeyRepository(database, b"k" * 32)
    key, clear = keys.create("svc", Role.SERVICE)
    assert key.last_used_at is None
    first = keys.authenticate(clear)  # returns the key as it was; records the use
    (stored,) = keys.list()
    assert stored.last_used_at is not None
    keys.authenticate(clear)
    (again,) = keys.list()
    assert again.last_used_at == stored.last_used_at  # within the minute: no second write
    old = stored.last_used_at - timedelta(minutes=5)
    with database.begin() as conn:
        conn.execute(update(api_keys).where(api_keys.c.id == key.id).values(last_used_at=old))
    keys.authenticate(clear)
    (later,) = keys.list()
    assert later.last_used_at is not None
    assert later.last_used_at > old
    assert first.id == key.id
