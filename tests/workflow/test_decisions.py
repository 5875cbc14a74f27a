"""Decisions: effects, TAKE IT DOWN copy sweep, stay-down, roles, bad input, atomicity."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from bastion.errors import Forbidden, InvalidInput
from bastion.storage.tables import bank_entries, wf_decisions, wf_statements
from bastion.storage.workflow import decisions as decision_repo
from bastion.storage.workflow import items as item_repo
from bastion.workflow import cases, decisions, notices, statements, tdb
from bastion.workflow.cases import DetectionInput, ItemInput
from bastion.workflow.decisions import DecisionInput
from bastion.workflow.model import Automation, ItemState, SourceType
from bastion.workflow.service import PUBLIC, SYSTEM, Workflow
from tests.workflow.conftest import CHILD, MINORS, MOD_A, add_item, dsa_notice, tidk_notice

REMOVE = DecisionInput(
    visibility="remove",
    ground="illegal",
    legal_ground_id="eu_2024_1385_art5",
    explanation="Sexualised deepfake of a real person.",
)
SHA = "ab" * 32


def count(wf: Workflow, table: Any) -> int:
    with wf.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def exact_stay_down(wf: Workflow) -> int:
    """Enabled SHA-256 stay-down entries (the exact signal of removed content)."""
    with wf.db.connect() as conn:
        query = select(func.count()).where(
            bank_entries.c.signal_type == "sha256", bank_entries.c.enabled.is_(True)
        )
        return int(conn.execute(query).scalar_one())


def test_take_it_down_removes_the_item_and_its_identical_copies(wf: Workflow) -> None:
    original = add_item(wf, "img-1", sha256=SHA)
    copy = add_item(wf, "img-2", sha256=SHA)
    other = add_item(wf, "img-3", sha256="cd" * 32)
    case_id = notices.submit(wf, tidk_notice(), channel="web", actor=PUBLIC).case_ids[0]
    decision = decisions.decide(wf, case_id, REMOVE, MOD_A)
    assert decision.take_it_down
    assert decision.copies_removed == (copy.id,)
    with wf.db.connect() as conn:
        assert item_repo.get(conn, original.id).state is ItemState.REMOVED
        assert item_repo.get(conn, copy.id).state is ItemState.REMOVED
        assert item_repo.get(conn, other.id).state is ItemState.VISIBLE
        assert wf.stay_down.lookup(conn, SHA) is not None  # the re-upload is blocked
        payloads = [s.payload for s in decision_repo.tdb_statements(conn)]
    assert len(payloads) == 2  # one statement per affected uploader
    for payload in payloads:
        assert payload is not None
        tdb.check(payload)
    copy_payload = next(p for p in payloads if p and p["automated_detection"] == "Yes")
    assert "Identical copy" in copy_payload["decision_facts"]


def test_a_dsa_removal_does_not_sweep_copies_but_stays_down(wf: Workflow) -> None:
    add_item(wf, "img-1", sha256=SHA)
    copy = add_item(wf, "img-2", sha256=SHA)
    case_id = notices.submit(wf, dsa_notice(), channel="web", actor=PUBLIC).case_ids[0]
    decision = decisions.decide(wf, case_id, REMOVE, MOD_A)
    assert decision.copies_removed == ()
    with wf.db.connect() as conn:
        assert item_repo.get(conn, copy.id).state is ItemState.VISIBLE
    assert exact_stay_down(wf) == 1


def test_detection_and_decision_automation_are_recorded(wf: Workflow) -> None:
    case, _ = cases.add_detection(
        wf,
        DetectionInput(
            item=ItemInput(content_id="img-9", sha256=SHA, account_id="u9"),
            source="pdq_bank_match",
            category=MINORS,
            keywords=("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",),
            score=1.0,
        ),
        SYSTEM,
    )
    assert case.child_safety
    assert case.priority == 0
    with pytest.raises(Forbidden):
        decisions.decide(wf, case.id, REMOVE, MOD_A)  # child safety needs the specialist role
    decision = decisions.decide(
        wf,
        case.id,
        DecisionInput(
            visibility="remove",
            ground="illegal",
            legal_ground_id="eu_2011_93_art5",
            explanation="Known child sexual abuse material (hash match).",
        ),
        CHILD,
    )
    assert decision.source_type is SourceType.VOLUNTARY
    assert decision.automated_detection is True
    assert decision.automated_decision is Automation.PARTIALLY
    payload = statements.tdb_payload(decision, puid="bst-x")
    assert payload is not None
    assert payload["automated_detection"] == "Yes"
    assert "source_identity" not in payload


def test_system_decisions_are_fully_automated(wf: Workflow) -> None:
    case, _ = cases.add_detection(
        wf,
        DetectionInput(
            item=ItemInput(content_id="img-8", sha256=SHA),
            source="nudity_classifier",
            category="STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
            keywords=("KEYWORD_NUDITY",),
        ),
        SYSTEM,
    )
    decision = decisions.decide(
        wf,
        case.id,
        DecisionInput(
            visibility="age_restrict",
            ground="terms",
            tc_ground_id="tc_adult_content",
            explanation="Nudity outside the age-verified area.",
        ),
        SYSTEM,
    )
    assert decision.automated_decision is Automation.FULLY


BAD = [
    ("visibility", {"visibility": "delete"}),
    ("ground", {"ground": None}),
    ("ground", {"ground": "morality"}),
    ("legal_ground_id", {"legal_ground_id": None}),
    ("legal_ground_id", {"legal_ground_id": "nope"}),
    ("tc_ground_id", {"ground": "terms", "tc_ground_id": None}),
    ("explanation", {"explanation": "bad"}),
    ("account_end", {"account_measure": "suspension"}),
    ("account_end", {"account_measure": "suspension", "account_end": date(2026, 1, 1)}),
    ("account_end", {"account_measure": "termination", "account_end": date(2027, 1, 1)}),
    ("account_measure", {"account_measure": "notice_suspension"}),
    ("visibility_end", {"visibility_end": date(2020, 1, 1)}),
    ("territorial_scope", {"territorial_scope": ["XX"]}),
    ("territorial_scope", {"territorial_scope": []}),
    ("category", {"category": "STATEMENT_CATEGORY_NOPE"}),
    ("keywords", {"keywords": ["KEYWORD_NUDITY"]}),
    ("keyword_other", {"keywords": ["KEYWORD_OTHER"]}),
    ("notice_assessment", {"notice_assessment": "manifestly_unfounded"}),
    ("also_illegal", {"also_illegal": True}),
    ("disclose_notifier", {"disclose_notifier": True}),
]


@pytest.mark.parametrize(("field", "changes"), BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_decisions_are_refused_and_nothing_is_written(
    wf: Workflow, field: str, changes: dict[str, Any]
) -> None:
    add_item(wf, "img-1")
    case_id = notices.submit(wf, dsa_notice(), channel="web", actor=PUBLIC).case_ids[0]
    given = DecisionInput(**{**_fields(REMOVE), **changes})
    with pytest.raises(InvalidInput) as caught:
        decisions.decide(wf, case_id, given, MOD_A)
    assert caught.value.field == field, caught.value.message
    assert count(wf, wf_decisions) == 0


def _fields(given: DecisionInput) -> dict[str, Any]:
    return {name: getattr(given, name) for name in DecisionInput.__slots__}


def test_an_invalid_statement_rolls_the_decision_back(
    wf: Workflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_item(wf, "img-1", sha256=SHA)
    case_id = notices.submit(wf, dsa_notice(), channel="web", actor=PUBLIC).case_ids[0]

    def refuse(payload: Any) -> None:
        raise tdb.InvalidStatement([tdb.Violation("decision_facts", "max", "too long")])

    monkeypatch.setattr(tdb, "check", refuse)
    with pytest.raises(tdb.InvalidStatement):
        decisions.decide(wf, case_id, REMOVE, MOD_A)
    assert count(wf, wf_decisions) == 0
    assert count(wf, wf_statements) == 0
    assert exact_stay_down(wf) == 0
    with wf.db.connect() as conn:
        assert item_repo.by_content_id(conn, "img-1").state is ItemState.VISIBLE  # type: ignore[union-attr]


def test_personal_data_never_reaches_the_tdb(wf: Workflow) -> None:
    add_item(wf, "img-1")
    case_id = notices.submit(wf, dsa_notice(), channel="web", actor=PUBLIC).case_ids[0]
    decision = decisions.decide(
        wf,
        case_id,
        DecisionInput(
            visibility="remove",
            ground="illegal",
            legal_ground_id="eu_2024_1385_art5",
            explanation="Noor Notifier (noor@example.org) showed it is her; posted by "
            "@uploader, see https://pics.example/u/uploader or call +33 1 23 45 67 89.",
        ),
        MOD_A,
    )
    with wf.db.connect() as conn:
        payload = next(decision_repo.tdb_statements(conn)).payload
    assert payload is not None
    text = str(payload)
    for secret in ("Noor", "noor@example.org", "@uploader", "pics.example", "23 45 67"):
        assert secret not in text
    assert "[redacted]" in payload["illegal_content_explanation"]
    with wf.db.connect() as conn:
        user = next(s for s in decision_repo.statements_for(conn, decision.id) if s.kind == "user")
    assert "noor@example.org" in (user.body or "")  # the person affected gets the full reasons
