"""Statements rendered from the decision record: golden files in English and German, the TDB
payload, language fallback. Regenerate with BASTION_TEST_REGENERATE=1 and review the diff."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bastion.settings import Settings
from bastion.workflow import tdb
from bastion.workflow.model import (
    AccountMeasure,
    Automation,
    Ground,
    ModerationDecision,
    SourceType,
    Visibility,
)
from bastion.workflow.statements import tdb_payload, user_statement
from tests.conftest import TEST_SECRET

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("BASTION_TEST_REGENERATE") == "1"

RECORD = ModerationDecision(
    id="0190f1e2-0000-7000-8000-000000000001",
    case_id="case-1",
    item_id="item-1",
    decided_at=datetime(2026, 11, 3, 14, 30, tzinfo=UTC),
    reviewer="key-mod-a",
    reviewer_role="moderator",
    visibility=Visibility.REMOVE,
    account_measure=AccountMeasure.SUSPENSION,
    account_end=date(2026, 12, 3),
    ground=Ground.ILLEGAL,
    category="STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    keywords=("KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",),
    category_addition=("STATEMENT_CATEGORY_CYBER_VIOLENCE",),
    legal_ground="Directive (EU) 2024/1385, Article 5, as transposed into national law",
    legal_reference_url="https://eur-lex.europa.eu/eli/dir/2024/1385/oj",
    ground_explanation="The item shows an identifiable person in a sexualised way without consent.",
    explanation="The image is an AI edit that undresses a real woman.",
    content_types=("CONTENT_TYPE_IMAGE", "CONTENT_TYPE_SYNTHETIC_MEDIA"),
    content_language="de",
    content_date=date(2026, 10, 30),
    application_date=date(2026, 11, 3),
    source_type=SourceType.ARTICLE_16,
    notice_ids=("notice-1",),
    automated_detection=True,
    automated_decision=Automation.PARTIALLY,
    take_it_down=True,
    account_id="acct-1",
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(data_dir=tmp_path, secret_key=TEST_SECRET, platform_name="Pixelhof")


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGENERATE or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; regenerate and review"


@pytest.mark.parametrize("language", ["en", "de"])
def test_user_statement_golden(settings: Settings, language: str) -> None:
    rendered = user_statement(
        replace(RECORD, language=language),
        settings,
        item_ref="img-1001",
        appeal_url="https://pixelhof.example/appeal?token=TOKEN",
    )
    assert rendered.language == language
    check_golden(f"statement_{language}.txt", f"Subject: {rendered.subject}\n\n{rendered.body}")


def test_user_statement_has_the_six_elements(settings: Settings) -> None:
    body = user_statement(RECORD, settings, item_ref="img-1001", appeal_url="U").body
    for needle in (
        "was removed",  # (a) measure
        "until 2026-12-03",  # (a) duration
        "everywhere",  # (a) territorial scope
        "notice submitted under DSA Article 16",  # (b) facts and source
        "detected by automated means",  # (c) automated detection
        "with the help of automated means",  # (c) automated decision
        "Legal ground: Directive (EU) 2024/1385",  # (d) ground and explanation
        "Appeal to us, free of charge",  # (f) internal complaint
        "Out-of-court dispute settlement",  # (f) Art. 21
        "courts",  # (f) judicial redress
    ):
        assert needle in body


def test_terms_statement_and_fallback_language(settings: Settings) -> None:
    terms = replace(
        RECORD,
        ground=Ground.TERMS,
        legal_ground=None,
        tc_clause="4.2",
        tc_version="2026-01",
        tc_text="No intimate images without consent.",
        also_illegal=True,
        language="fi",
        worldwide=False,
        territorial_scope=("DE", "AT"),
    )
    rendered = user_statement(terms, settings, item_ref="x", appeal_url="U")
    assert rendered.language == "en"
    assert "Clause 4.2 (version 2026-01)" in rendered.body
    assert "DE, AT" in rendered.body
    payload = tdb_payload(terms, puid="bst-1")
    assert payload is not None
    assert payload["incompatible_content_illegal"] == "Yes"
    assert payload["territorial_scope"] == ["AT", "DE"]


def test_tdb_payload_golden() -> None:
    payload = tdb_payload(RECORD, puid="bst-0190f1e2-0000-7000-8000-000000000001")
    assert payload is not None
    assert tdb.violations(payload) == []
    check_golden("tdb_payload.json", json.dumps(payload, indent=2, sort_keys=True) + "\n")


def test_no_tdb_payload_without_an_eu_restriction() -> None:
    assert (
        tdb_payload(
            replace(
                RECORD,
                visibility=Visibility.NONE,
                account_measure=AccountMeasure.WARNING,
                account_end=None,
            ),
            puid="p",
        )
        is None
    )
    assert (
        tdb_payload(replace(RECORD, worldwide=False, territorial_scope=("US",)), puid="p") is None
    )
