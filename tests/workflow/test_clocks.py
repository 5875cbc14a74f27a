"""Deadlines of every regime, from receipt, with a frozen clock; priority and overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bastion.testing import FrozenClock
from bastion.workflow import notices, queue
from bastion.workflow.clocks import add_months
from bastion.workflow.service import PUBLIC, Actor, Workflow
from tests.workflow.conftest import MINORS, START, add_item, dsa_notice, tidk_notice


def regimes(receipt: notices.NoticeReceipt) -> dict[str, datetime]:
    return {d.regime: d.due_at for d in receipt.deadlines}


def test_take_it_down_deadline_is_48_hours_from_receipt(wf: Workflow, clock: FrozenClock) -> None:
    add_item(wf, "img-1")
    clock.advance(minutes=17)
    receipt = notices.submit(wf, tidk_notice(), channel="web", actor=PUBLIC)
    assert regimes(receipt)["take_it_down"] == START + timedelta(hours=48, minutes=17)
    assert regimes(receipt)["dsa"] == START + timedelta(hours=24, minutes=17)
    case = queue.case_view(wf, receipt.case_ids[0])
    tidk = next(d for d in case["deadlines"] if d["regime"] == "take_it_down")
    assert tidk["hours"] == 48
    assert "48 hours" in tidk["basis"]


def test_india_24h_and_uk_48h_for_intimate_images(wf: Workflow) -> None:
    india = notices.submit(
        wf, dsa_notice(jurisdiction="IN", locations=["a"]), channel="api", actor=PUBLIC
    )
    uk = notices.submit(
        wf, dsa_notice(jurisdiction="GB", locations=["b"]), channel="api", actor=PUBLIC
    )
    assert regimes(india)["india_it_rules"] == START + timedelta(hours=24)
    assert regimes(uk)["uk_ncii"] == START + timedelta(hours=48)
    other = notices.submit(
        wf,
        dsa_notice(
            jurisdiction="IN",
            locations=["c"],
            category="STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            keywords=[],
        ),
        channel="api",
        actor=PUBLIC,
    )
    assert set(regimes(other)) == {"dsa"}  # no NCII clock for a scam


def test_dsa_target_is_configurable(wf: Workflow) -> None:
    wf.settings = wf.settings.model_copy(update={"dsa_target_hours": 6})
    receipt = notices.submit(wf, dsa_notice(locations=["x"]), channel="api", actor=PUBLIC)
    assert regimes(receipt)["dsa"] == START + timedelta(hours=6)


def test_overdue_cases_are_listed(wf: Workflow, clock: FrozenClock) -> None:
    receipt = notices.submit(wf, dsa_notice(locations=["x"]), channel="api", actor=PUBLIC)
    assert queue.queue(wf, overdue=True) == []
    clock.advance(hours=24, seconds=1)
    overdue = queue.queue(wf, overdue=True)
    assert [c["id"] for c in overdue] == list(receipt.case_ids)
    assert overdue[0]["overdue"] is True


def test_priority_child_safety_then_trusted_then_deadline(wf: Workflow, clock: FrozenClock) -> None:
    ordinary = notices.submit(wf, dsa_notice(locations=["o"]), channel="api", actor=PUBLIC)
    clock.advance(minutes=1)
    tidk = notices.submit(wf, tidk_notice(locations=["t"]), channel="api", actor=PUBLIC)
    clock.advance(minutes=1)
    order = notices.submit(
        wf,
        dsa_notice(
            type="authority_order", authority_name="Court", order_reference="R1", locations=["a"]
        ),
        channel="api",
        actor=Actor("k", "moderator"),
    )
    clock.advance(minutes=1)
    child = notices.submit(
        wf,
        dsa_notice(
            category=MINORS,
            keywords=["KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS"],
            locations=["c"],
            notifier_name=None,
            notifier_email=None,
        ),
        channel="api",
        actor=PUBLIC,
    )
    order_of = [c["id"] for c in queue.queue(wf)]
    assert order_of == [*child.case_ids, *order.case_ids, *tidk.case_ids, *ordinary.case_ids]


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(datetime(2026, 8, 31, tzinfo=UTC), 6) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 2, tzinfo=UTC), 6) == datetime(2027, 5, 2, tzinfo=UTC)
