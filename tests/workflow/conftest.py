"""Workflow fixtures: a Workflow on each database backend with a frozen clock, predictable
appeal tokens and a file outbox in the test's directory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bastion.settings import Settings
from bastion.storage.db import Database
from bastion.testing import FrozenClock
from bastion.workflow import cases
from bastion.workflow.cases import ItemInput
from bastion.workflow.notices import NoticeInput
from bastion.workflow.outbox import FileTransport
from bastion.workflow.records import Item
from bastion.workflow.service import Actor, Workflow
from tests.conftest import TEST_SECRET

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MOD_A = Actor("key-mod-a", "moderator")
MOD_B = Actor("key-mod-b", "moderator")
CHILD = Actor("key-child", "child_safety")
DEEPFAKE_W = "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN"
CYBER_W = "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN"
MINORS = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"


class Tokens:
    def __init__(self) -> None:
        self.issued: list[str] = []

    def __call__(self) -> str:
        value = f"token-{len(self.issued):04d}"
        self.issued.append(value)
        return value


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def tokens() -> Tokens:
    return Tokens()


@pytest.fixture
def wf(
    database: Database, tmp_path: Path, clock: FrozenClock, tokens: Tokens
) -> Iterator[Workflow]:
    settings = Settings.load(data_dir=tmp_path / "data", secret_key=TEST_SECRET)
    return Workflow(
        database,
        settings,
        TEST_SECRET.encode(),
        clock=clock,
        new_token=tokens,
        transport=FileTransport(tmp_path / "outbox"),
    )


def add_item(wf: Workflow, content_id: str, **fields: Any) -> Item:
    fields.setdefault("url", f"https://pics.example/i/{content_id}")
    fields.setdefault("sha256", f"{abs(hash(content_id)):064x}"[-64:])
    fields.setdefault("account_id", f"acct-{content_id}")
    fields.setdefault("account_contact", f"{content_id}@users.example")
    fields.setdefault("content_types", ("CONTENT_TYPE_IMAGE", "CONTENT_TYPE_SYNTHETIC_MEDIA"))
    with wf.db.begin() as conn:
        return cases.resolve_item(conn, wf, ItemInput(content_id=content_id, **fields))


def dsa_notice(**fields: Any) -> NoticeInput:
    base: dict[str, Any] = {
        "type": "dsa_art16",
        "explanation": "A sexualised AI edit of a real woman, shared without her consent.",
        "locations": ["https://pics.example/i/img-1"],
        "category": CYBER_W,
        "keywords": [DEEPFAKE_W],
        "jurisdiction": "FR",
        "notifier_name": "Noor Notifier",
        "notifier_email": "noor@example.org",
        "bona_fide": True,
    }
    base.update(fields)
    return NoticeInput(**base)


def tidk_notice(**fields: Any) -> NoticeInput:
    base: dict[str, Any] = {
        "type": "take_it_down",
        "jurisdiction": "US",
        "signature": "Rae Requester",
        "non_consent_statement": "I never consented to this image.",
        "requester_role": "individual",
        "notifier_name": "Rae Requester",
        "notifier_email": "rae@example.org",
    }
    base.update(fields)
    return dsa_notice(**base)
