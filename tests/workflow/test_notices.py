"""Notice intake: every incomplete notice gets a precise error and leaves nothing behind."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bastion.storage.tables import wf_cases, wf_items, wf_notices, wf_outbox
from bastion.workflow import notices
from bastion.workflow.notices import IncompleteNotice
from bastion.workflow.service import PUBLIC, Actor, Workflow
from tests.workflow.conftest import MINORS, add_item, dsa_notice, tidk_notice


def count(wf: Workflow, table: Any) -> int:
    with wf.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_complete_notice_opens_a_case_and_queues_a_receipt(wf: Workflow) -> None:
    add_item(wf, "img-1")
    receipt = notices.submit(wf, dsa_notice(), channel="api", actor=PUBLIC)
    assert len(receipt.case_ids) == 1
    assert receipt.notice.notifier_ref is not None
    assert count(wf, wf_notices) == 1
    with wf.db.connect() as conn:
        messages = conn.execute(select(wf_outbox.c.kind, wf_outbox.c.status)).all()
    assert [tuple(m) for m in messages] == [("receipt", "sent")]  # sent right after commit


def test_one_notice_about_several_items_opens_one_case_per_item(wf: Workflow) -> None:
    receipt = notices.submit(
        wf,
        dsa_notice(locations=["https://pics.example/i/a", "img-b", "https://pics.example/i/a"]),
        channel="api",
        actor=PUBLIC,
    )
    assert len(receipt.case_ids) == 2
    assert count(wf, wf_items) == 2


def test_notices_about_the_same_item_share_a_case(wf: Workflow) -> None:
    add_item(wf, "img-1")
    first = notices.submit(wf, dsa_notice(), channel="api", actor=PUBLIC)
    second = notices.submit(wf, dsa_notice(locations=["img-1"]), channel="web", actor=PUBLIC)
    assert first.case_ids == second.case_ids


MISSING = [
    ("explanation", {"explanation": "too short"}),
    ("locations", {"locations": []}),
    ("locations", {"locations": ["not a url or id!"]}),
    ("category", {"category": "STATEMENT_CATEGORY_MADE_UP"}),
    ("keywords", {"keywords": ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]}),
    ("keyword_other", {"keywords": ["KEYWORD_OTHER"]}),
    ("jurisdiction", {"jurisdiction": ""}),
    ("jurisdiction", {"jurisdiction": "XX"}),
    ("notifier_name", {"notifier_name": " "}),
    ("notifier_email", {"notifier_email": None}),
    ("notifier_email", {"notifier_email": "not-an-address"}),
    ("bona_fide", {"bona_fide": False}),
    ("type", {"type": "complaint"}),
    ("type", {"type": "trusted_flagger"}),
    ("type", {"type": "authority_order", "authority_name": "Court", "order_reference": "1"}),
]


@pytest.mark.parametrize(
    ("field", "changes"), MISSING, ids=[f"{m[0]}-{i}" for i, m in enumerate(MISSING)]
)
def test_incomplete_notices_are_refused_precisely(
    wf: Workflow, field: str, changes: dict[str, Any]
) -> None:
    with pytest.raises(IncompleteNotice) as caught:
        notices.submit(wf, dsa_notice(**changes), channel="api", actor=PUBLIC)
    assert field in [f for f, _ in caught.value.problems]
    assert caught.value.status == 422
    assert count(wf, wf_notices) == 0
    assert count(wf, wf_cases) == 0
    assert count(wf, wf_outbox) == 0


def test_every_problem_is_listed_at_once(wf: Workflow) -> None:
    with pytest.raises(IncompleteNotice) as caught:
        notices.submit(wf, notices.NoticeInput(), channel="web", actor=PUBLIC)
    fields = {f for f, _ in caught.value.problems}
    assert fields >= {
        "explanation",
        "locations",
        "category",
        "jurisdiction",
        "notifier_name",
        "notifier_email",
        "bona_fide",
    }


def test_child_sexual_abuse_notices_may_be_anonymous(wf: Workflow) -> None:
    receipt = notices.submit(
        wf,
        dsa_notice(
            category=MINORS,
            keywords=["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"],
            notifier_name=None,
            notifier_email=None,
        ),
        channel="web",
        actor=PUBLIC,
    )
    assert receipt.notice.child_sexual_abuse
    assert receipt.notice.notifier_email is None
    assert count(wf, wf_outbox) == 0  # no address, no receipt


def test_take_it_down_needs_signature_statement_and_role(wf: Workflow) -> None:
    with pytest.raises(IncompleteNotice) as caught:
        notices.submit(
            wf,
            tidk_notice(signature="", non_consent_statement=None, requester_role="friend"),
            channel="api",
            actor=PUBLIC,
        )
    assert {"signature", "non_consent_statement", "requester_role"} <= {
        f for f, _ in caught.value.problems
    }


def test_authority_orders_come_from_staff(wf: Workflow) -> None:
    order = dsa_notice(
        type="authority_order",
        authority_name="Tribunal de Paris",
        order_reference="RG 26/0001",
        bona_fide=False,
    )
    receipt = notices.submit(wf, order, channel="api", actor=Actor("k", "moderator"))
    assert receipt.notice.details["authority_name"] == "Tribunal de Paris"


def test_a_failure_after_the_notice_row_leaves_nothing(
    wf: Workflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(wf, "audit", broken)
    with pytest.raises(RuntimeError):
        notices.submit(wf, dsa_notice(), channel="api", actor=PUBLIC)
    assert count(wf, wf_notices) == 0
    assert count(wf, wf_cases) == 0
    assert count(wf, wf_items) == 0
    assert count(wf, wf_outbox) == 0
