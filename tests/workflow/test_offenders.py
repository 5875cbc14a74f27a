"""Art. 23: warning before suspension, thresholds over count, share and gravity."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bastion.storage.tables import wf_outbox
from bastion.storage.workflow import decisions as decision_repo
from bastion.storage.workflow import standing as standing_repo
from bastion.workflow import decisions, notices, tdb
from bastion.workflow.decisions import DecisionInput
from bastion.workflow.notices import NoticeProcessingSuspended
from bastion.workflow.service import PUBLIC, Workflow
from tests.workflow.conftest import MINORS, MOD_A, add_item, dsa_notice

ILLEGAL = DecisionInput(
    visibility="remove",
    ground="illegal",
    legal_ground_id="eu_2024_1385_art5",
    explanation="Non-consensual sexualised edit.",
    manifestly_illegal=True,
)


def kinds(wf: Workflow) -> list[str]:
    with wf.db.connect() as conn:
        return list(
            conn.execute(select(wf_outbox.c.kind).order_by(wf_outbox.c.created_at)).scalars()
        )


def test_repeat_offender_is_warned_then_suspended(wf: Workflow) -> None:
    for n in range(3):
        add_item(wf, f"img-{n}", account_id="acct-rex", account_contact="rex@users.example")
    standings = []
    for n in range(2):
        case_id = notices.submit(
            wf, dsa_notice(locations=[f"img-{n}"]), channel="api", actor=PUBLIC
        ).case_ids[0]
        decisions.decide(wf, case_id, ILLEGAL, MOD_A)
        with wf.db.connect() as conn:
            standings.append(standing_repo.get(conn, "account", "acct-rex"))
    assert standings[0] is not None
    assert standings[0].state == "warned"
    assert standings[1] is not None
    assert standings[1].state == "suspended"
    assert "warning" in kinds(wf)
    with wf.db.connect() as conn:
        payloads = [s.payload for s in decision_repo.tdb_statements(conn)]
    suspension = [p for p in payloads if p and p.get("decision_account")]
    assert len(suspension) == 1
    assert suspension[0]["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert suspension[0]["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    tdb.check(suspension[0])


def test_gravity_counts_child_safety_more(wf: Workflow) -> None:
    add_item(wf, "img-c", account_id="acct-c")
    add_item(wf, "img-d", account_id="acct-c")
    case_id = notices.submit(
        wf,
        dsa_notice(
            locations=["img-c"], category=MINORS, keywords=["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]
        ),
        channel="api",
        actor=PUBLIC,
    ).case_ids[0]
    from tests.workflow.conftest import CHILD

    decisions.decide(
        wf,
        case_id,
        DecisionInput(
            visibility="remove",
            ground="illegal",
            legal_ground_id="eu_2011_93_art5",
            explanation="Child sexual abuse material.",
            manifestly_illegal=True,
        ),
        CHILD,
    )
    with wf.db.connect() as conn:
        assert standing_repo.strike_totals(
            conn, "account", "acct-c", wf.clock.now().replace(year=2025)
        ) == (1, 3)
        standing = standing_repo.get(conn, "account", "acct-c")
    assert standing is not None
    assert standing.state == "warned"


def test_abusive_notifier_is_warned_then_notice_processing_is_suspended(wf: Workflow) -> None:
    unfounded = DecisionInput(
        explanation="Nothing wrong here.", notice_assessment="manifestly_unfounded"
    )
    for n in range(5):
        case_id = notices.submit(
            wf, dsa_notice(locations=[f"img-{n}"]), channel="api", actor=PUBLIC
        ).case_ids[0]
        decisions.decide(wf, case_id, unfounded, MOD_A)
    assert kinds(wf).count("warning") == 1
    assert "statement" in kinds(wf)  # the suspension's statement goes to the notifier
    with pytest.raises(NoticeProcessingSuspended) as caught:
        notices.submit(wf, dsa_notice(locations=["img-9"]), channel="api", actor=PUBLIC)
    assert caught.value.status == 403
    # Another spelling of the same mailbox is the same notifier.
    for alias in ("noor+2@example.org", "Noor@Example.org", "noor+x@EXAMPLE.org"):
        with pytest.raises(NoticeProcessingSuspended):
            notices.submit(
                wf,
                dsa_notice(locations=["img-9"], notifier_email=alias),
                channel="api",
                actor=PUBLIC,
            )
    # Child sexual abuse reports are still taken.
    notices.submit(
        wf,
        dsa_notice(
            locations=["img-9"], category=MINORS, keywords=["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]
        ),
        channel="api",
        actor=PUBLIC,
    )
    with wf.db.connect() as conn:
        payloads = [s.payload for s in decision_repo.tdb_statements(conn)]
    provision = [p for p in payloads if p and p.get("decision_provision")]
    assert provision
    assert provision[0]["decision_provision"] == "DECISION_PROVISION_PARTIAL_SUSPENSION"
