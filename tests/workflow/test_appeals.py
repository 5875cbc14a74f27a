"""Appeals: who may appeal, until when, decided by another reviewer; reversal restores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bastion.errors import Forbidden, InvalidInput, NotFound
from bastion.storage.workflow import decisions as decision_repo
from bastion.storage.workflow import items as item_repo
from bastion.testing import FrozenClock
from bastion.workflow import appeals, decisions, notices
from bastion.workflow.appeals import AppealWindowClosed
from bastion.workflow.decisions import DecisionInput
from bastion.workflow.model import DecisionStatus, ItemState
from bastion.workflow.service import PUBLIC, SYSTEM, Workflow
from tests.workflow.conftest import MOD_A, MOD_B, Tokens, add_item, dsa_notice, tidk_notice

REMOVE = DecisionInput(
    visibility="remove",
    ground="illegal",
    legal_ground_id="eu_2024_1385_art5",
    explanation="Sexualised deepfake of a real person.",
)
SHA = "ef" * 32


def removed_case(wf: Workflow, *, tidk: bool = False) -> tuple[str, str]:
    add_item(wf, "img-1", sha256=SHA)
    given = tidk_notice() if tidk else dsa_notice()
    case_id = notices.submit(wf, given, channel="web", actor=PUBLIC).case_ids[0]
    return case_id, decisions.decide(wf, case_id, REMOVE, MOD_A).id


def test_reversal_by_a_second_reviewer_restores_the_item_and_its_copies(
    wf: Workflow, tokens: Tokens
) -> None:
    copy = add_item(wf, "img-2", sha256=SHA)
    _, decision_id = removed_case(wf, tidk=True)
    appeal = appeals.lodge(wf, tokens.issued[0], "It is my own picture, I posted it myself.")
    assert appeal.basis == "visibility"
    with pytest.raises(Forbidden):
        appeals.decide(wf, appeal.id, outcome="reversed", response="", actor=MOD_A)
    with pytest.raises(Forbidden):
        appeals.decide(wf, appeal.id, outcome="reversed", response="", actor=SYSTEM)
    decided = appeals.decide(
        wf,
        appeal.id,
        outcome="reversed",
        actor=MOD_B,
        response="The uploader is the person depicted.",
    )
    assert decided.outcome is not None
    assert decided.outcome.value == "reversed"
    with wf.db.connect() as conn:
        assert item_repo.by_content_id(conn, "img-1").state is ItemState.VISIBLE  # type: ignore[union-attr]
        assert item_repo.get(conn, copy.id).state is ItemState.VISIBLE
        assert wf.stay_down.lookup(conn, SHA) is None
        assert decision_repo.status(conn, decision_id) is DecisionStatus.REVERSED
    counts = appeals.outcome_counts(wf)
    assert counts["total"]["reversed"] == 1
    assert counts["by_basis"]["visibility"]["reversed"] == 1


def test_the_window_is_six_months_from_being_informed(
    wf: Workflow, tokens: Tokens, clock: FrozenClock
) -> None:
    removed_case(wf)
    clock.advance(days=183)  # 2 Nov 2026 + 183 days = 4 May 2027 > 2 May 2027
    with pytest.raises(AppealWindowClosed) as caught:
        appeals.lodge(wf, tokens.issued[0], "It is my own picture, I posted it myself.")
    assert caught.value.status == 409
    clock.advance(days=-2)
    assert appeals.lodge(wf, tokens.issued[0], "It is my own picture, I posted it myself.")


def test_bad_appeals(wf: Workflow, tokens: Tokens) -> None:
    removed_case(wf)
    with pytest.raises(NotFound):
        appeals.lodge(wf, "not-a-token", "This decision is wrong for sure.")
    with pytest.raises(InvalidInput):
        appeals.lodge(wf, tokens.issued[0], "short")
    appeal = appeals.lodge(wf, tokens.issued[0], "This decision is wrong for sure.")
    with pytest.raises(InvalidInput):
        appeals.decide(wf, appeal.id, outcome="maybe", response="", actor=MOD_B)
    with pytest.raises(InvalidInput):
        appeals.decide(wf, appeal.id, outcome="partially_reversed", response="", actor=MOD_B)
    with pytest.raises(InvalidInput):
        appeals.decide(
            wf,
            appeal.id,
            outcome="partially_reversed",
            response="",
            actor=MOD_B,
            new_decision=DecisionInput(
                visibility="remove",
                ground="illegal",
                legal_ground_id="eu_2024_1385_art5",
                explanation="Still a deepfake, still removed.",
            ),
        )


def test_partial_reversal_replaces_the_measure_with_a_lighter_one(
    wf: Workflow, tokens: Tokens
) -> None:
    _, decision_id = removed_case(wf)
    appeal = appeals.lodge(wf, tokens.issued[0], "Adults may see it, it is consensual art.")
    decided = appeals.decide(
        wf,
        appeal.id,
        outcome="partially_reversed",
        response="Adults only.",
        actor=MOD_B,
        new_decision=DecisionInput(
            visibility="age_restrict",
            ground="terms",
            tc_ground_id="tc_adult_content",
            explanation="Explicit image; adults only.",
        ),
    )
    assert decided.new_decision_id is not None
    with wf.db.connect() as conn:
        assert item_repo.by_content_id(conn, "img-1").state is ItemState.AGE_RESTRICTED  # type: ignore[union-attr]
        assert wf.stay_down.lookup(conn, SHA) is None
        assert decision_repo.status(conn, decision_id) is DecisionStatus.SUPERSEDED
        new = decision_repo.get(conn, decided.new_decision_id)
    assert new.supersedes == decision_id
    assert new.appeal_id == appeal.id


def test_the_notifier_can_appeal_a_decision_not_to_act(wf: Workflow, tokens: Tokens) -> None:
    add_item(wf, "img-1")
    case_id = notices.submit(wf, dsa_notice(), channel="web", actor=PUBLIC).case_ids[0]
    decisions.decide(wf, case_id, DecisionInput(explanation="A costume photo."), MOD_A)
    assert len(tokens.issued) == 1  # only the notifier's link: nothing restricted
    appeal = appeals.lodge(wf, tokens.issued[0], "It is an AI edit of a real woman.")
    assert appeal.basis == "not_actioned_notice"
    with pytest.raises(InvalidInput):
        appeals.decide(wf, appeal.id, outcome="reversed", response="", actor=MOD_B)
    decided = appeals.decide(
        wf, appeal.id, outcome="reversed", response="Now removed.", actor=MOD_B, new_decision=REMOVE
    )
    assert decided.new_restriction
    assert appeals.outcome_counts(wf)["restrictions_newly_imposed"] == 1
    with wf.db.connect() as conn:
        assert item_repo.by_content_id(conn, "img-1").state is ItemState.REMOVED  # type: ignore[union-attr]


def test_omitted_and_upheld_change_nothing(
    wf: Workflow, tokens: Tokens, clock: FrozenClock
) -> None:
    _, decision_id = removed_case(wf)
    first = appeals.lodge(wf, tokens.issued[0], "Please look again at this decision.")
    appeals.decide(wf, first.id, outcome="omitted", response="Withdrawn.", actor=MOD_B)
    clock.advance(hours=2)
    second = appeals.lodge(wf, tokens.issued[0], "Please look again at this decision.")
    decided = appeals.decide(wf, second.id, outcome="upheld", response="Confirmed.", actor=MOD_B)
    assert decided.decided_at is not None
    assert decided.decided_at - second.lodged_at == timedelta(0)
    with wf.db.connect() as conn:
        assert decision_repo.status(conn, decision_id) is DecisionStatus.IN_FORCE
    counts = appeals.outcome_counts(wf)["total"]
    assert (counts["omitted"], counts["upheld"], counts["received"]) == (1, 1, 2)
