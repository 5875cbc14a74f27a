"""Every case and appeal transition, and the refusal of every illegal one."""

from __future__ import annotations

import pytest

from bastion.errors import Conflict, Forbidden
from bastion.workflow import appeals, cases, decisions, notices
from bastion.workflow.decisions import DecisionInput
from bastion.workflow.model import (
    APPEAL_TRANSITIONS,
    CASE_TRANSITIONS,
    AppealState,
    CaseState,
    InvalidTransition,
    check_appeal_transition,
    check_case_transition,
)
from bastion.workflow.service import PUBLIC, Workflow
from tests.workflow.conftest import MOD_A, MOD_B, Tokens, add_item, dsa_notice

REMOVE = DecisionInput(
    visibility="remove",
    ground="illegal",
    legal_ground_id="eu_2024_1385_art5",
    explanation="Sexualised deepfake of a real person.",
)


@pytest.mark.parametrize("current", list(CaseState))
@pytest.mark.parametrize("target", list(CaseState))
def test_case_transition_table(current: CaseState, target: CaseState) -> None:
    if target in CASE_TRANSITIONS[current]:
        check_case_transition(current, target)
    else:
        with pytest.raises(InvalidTransition) as caught:
            check_case_transition(current, target)
        assert caught.value.status == 409


@pytest.mark.parametrize("current", list(AppealState))
@pytest.mark.parametrize("target", list(AppealState))
def test_appeal_transition_table(current: AppealState, target: AppealState) -> None:
    if target in APPEAL_TRANSITIONS[current]:
        check_appeal_transition(current, target)
    else:
        with pytest.raises(InvalidTransition):
            check_appeal_transition(current, target)


def open_case(wf: Workflow) -> str:
    add_item(wf, "img-1")
    return notices.submit(wf, dsa_notice(), channel="api", actor=PUBLIC).case_ids[0]


def state(wf: Workflow, case_id: str) -> str:
    return str(cases_view(wf, case_id)["state"])


def cases_view(wf: Workflow, case_id: str) -> dict[str, object]:
    from bastion.workflow import queue

    return queue.case_view(wf, case_id)


def test_open_review_release_decide_appeal_decide(wf: Workflow, tokens: Tokens) -> None:
    case_id = open_case(wf)
    assert state(wf, case_id) == "open"
    with pytest.raises(InvalidTransition):
        cases.release(wf, case_id, MOD_A)  # open -> open
    cases.assign(wf, case_id, MOD_A)
    assert state(wf, case_id) == "in_review"
    with pytest.raises(InvalidTransition):
        cases.assign(wf, case_id, MOD_B)  # in_review -> in_review
    with pytest.raises(Forbidden):
        cases.release(wf, case_id, MOD_B)  # not the assignee
    with pytest.raises(Conflict):
        decisions.decide(wf, case_id, REMOVE, MOD_B)  # assigned to A
    cases.release(wf, case_id, MOD_A)
    assert state(wf, case_id) == "open"
    cases.assign(wf, case_id, MOD_A)
    decisions.decide(wf, case_id, REMOVE, MOD_A)
    assert state(wf, case_id) == "decided"
    for illegal in (
        lambda: decisions.decide(wf, case_id, REMOVE, MOD_A),
        lambda: cases.assign(wf, case_id, MOD_A),
        lambda: cases.release(wf, case_id, MOD_A),
    ):
        with pytest.raises(InvalidTransition):
            illegal()
    appeal = appeals.lodge(wf, tokens.issued[0], "The picture is of me and I agreed to it.")
    assert state(wf, case_id) == "appealed"
    with pytest.raises(InvalidTransition):
        decisions.decide(wf, case_id, REMOVE, MOD_A)  # appealed -> decided only via appeal
    appeals.decide(wf, appeal.id, outcome="upheld", response="Confirmed.", actor=MOD_B)
    assert state(wf, case_id) == "decided"
    with pytest.raises(InvalidTransition):
        appeals.decide(wf, appeal.id, outcome="reversed", response="", actor=MOD_B)


def test_a_second_appeal_with_the_same_link_is_refused_while_one_is_open(
    wf: Workflow, tokens: Tokens
) -> None:
    case_id = open_case(wf)
    decisions.decide(wf, case_id, REMOVE, MOD_A)
    appeals.lodge(wf, tokens.issued[0], "This is my own picture, posted with consent.")
    with pytest.raises(Conflict):
        appeals.lodge(wf, tokens.issued[0], "And again: it is my own picture.")
