"""Appeals (DSA Art. 20): free, electronic, open to the affected person and to notifiers (also
against a decision not to act) for at least six months from the moment they were informed.

Every statement and every decision message carries a personal appeal link (a random token,
stored only as a hash). An appeal is decided by a human reviewer other than the one who took
the decision. Reversal restores the content (and removed copies, stay-down entries, account
measures); the outcome is recorded for the transparency report (template Part 7).
"""

from __future__ import annotations

import statistics
from typing import Any

from bastion.errors import Conflict, Forbidden, InvalidInput, NotFound
from bastion.policy.model import new_id
from bastion.storage.workflow import appeals as repo
from bastion.storage.workflow import cases as case_repo
from bastion.storage.workflow import decisions as decision_repo
from bastion.storage.workflow import items as item_repo
from bastion.storage.workflow import notices as notice_repo
from bastion.storage.workflow import standing as standing_repo
from bastion.workflow import measures, offenders, outbox
from bastion.workflow.appeal_rules import (
    BASES,
    AppealWindowClosed,
    ComplaintProcessingSuspended,
    _complainant,
    basis_for,
)
from bastion.workflow.cases import check_reviewer_may_handle
from bastion.workflow.decisions import DecisionInput, build, record
from bastion.workflow.model import (
    ACCOUNT_RANK,
    VISIBILITY_RANK,
    AccountMeasure,
    AppealOutcome,
    AppealState,
    CaseState,
    DecisionStatus,
    ModerationDecision,
    Visibility,
    check_appeal_transition,
    check_case_transition,
)
from bastion.workflow.records import Appeal
from bastion.workflow.service import PUBLIC, Actor, Workflow, token_hash


def lodge(wf: Workflow, token: str, explanation: str, actor: Actor = PUBLIC) -> Appeal:
    """Lodge an appeal with the link's token. Raises a typed error for every refusal."""
    text = (explanation or "").strip()
    if len(text) < 10:
        raise InvalidInput(
            "say briefly why the decision is wrong (at least 10 characters)", field="explanation"
        )
    if len(text) > 5000:
        raise InvalidInput("explanation is longer than 5000 characters", field="explanation")
    if not token or len(token) > 200:
        raise NotFound("this appeal link is not valid", field="token")
    now = wf.clock.now()
    hashed = token_hash(token)
    with wf.db.begin() as conn:
        grant = repo.token(conn, hashed)
        if grant is None:
            raise NotFound("this appeal link is not valid", field="token")
        if grant.expires_at is not None and now > grant.expires_at:
            raise AppealWindowClosed(
                f"the appeal period ended on {grant.expires_at.date().isoformat()}", field="token"
            )
        decision = decision_repo.get(conn, grant.decision_id)
        if decision_repo.status(conn, decision.id) is not DecisionStatus.IN_FORCE:
            raise Conflict("this decision was already reconsidered", field="token")
        if repo.open_for_token(conn, hashed) is not None:
            raise Conflict("an appeal with this link is already being reviewed", field="token")
        kind, ref, contact, language = _complainant(conn, grant.role, grant.notice_id, decision)
        standing = standing_repo.get(conn, kind, ref) if ref else None
        suspended_here = decision.account_measure is AccountMeasure.NOTICE_SUSPENSION
        if (
            standing is not None
            and standing.state == "suspended"
            and standing.suspended_until is not None
            and standing.suspended_until > now
            and not suspended_here
        ):
            raise ComplaintProcessingSuspended(
                "processing of complaints from this sender is suspended until "
                f"{standing.suspended_until.date().isoformat()} (DSA Art. 23(2))"
            )
        case = case_repo.get(conn, decision.case_id, lock=True)
        if case.state is not CaseState.APPEALED:
            check_case_transition(case.state, CaseState.APPEALED)
            case_repo.update_case(conn, case.id, state=CaseState.APPEALED, updated_at=now)
        appeal = Appeal(
            id=new_id(),
            decision_id=decision.id,
            token_hash=hashed,
            role=grant.role,
            basis=basis_for(decision, grant.role),
            lodged_at=now,
            explanation=text,
            state=AppealState.OPEN,
        )
        repo.add(conn, appeal)
        if contact:
            _, subject, body = outbox.render(
                "appeal_received",
                language,
                {
                    "platform": wf.settings.platform_name,
                    "appeal_id": appeal.id,
                    "decision_id": decision.id,
                    "lodged_at": now.strftime("%Y-%m-%d %H:%M"),
                },
            )
            outbox.enqueue(
                conn,
                wf.clock,
                kind="appeal_received",
                to=contact,
                subject=subject,
                body=body,
                ref_id=appeal.id,
            )
        wf.audit(
            conn,
            actor,
            "appeal.lodged",
            "appeal",
            appeal.id,
            {"decision": decision.id, "role": grant.role.value, "basis": appeal.basis},
        )
    wf.after_commit()
    return appeal


def decide(
    wf: Workflow,
    appeal_id: str,
    *,
    outcome: str,
    response: str,
    actor: Actor,
    new_decision: DecisionInput | None = None,
    manifestly_unfounded: bool = False,
) -> Appeal:
    """Decide an appeal. ``new_decision`` is the lighter measure of a partial reversal, or the
    measure imposed when a decision not to act is reversed."""
    try:
        result = AppealOutcome(outcome)
    except ValueError:
        raise InvalidInput(
            f"outcome must be one of: {', '.join(o.value for o in AppealOutcome)}",
            field="outcome",
        ) from None
    if len(response or "") > 5000:
        raise InvalidInput("response is longer than 5000 characters", field="response")
    if actor.role in ("system", "public"):
        raise Forbidden("appeals are decided by a person, not solely by automated means")
    now = wf.clock.now()
    with wf.db.begin() as conn:
        appeal = repo.get(conn, appeal_id)
        check_appeal_transition(appeal.state, AppealState.DECIDED)
        original = decision_repo.get(conn, appeal.decision_id)
        if original.reviewer == actor.id:
            raise Forbidden(
                "a reviewer other than the one who took the decision must decide the appeal",
                field="appeal_id",
            )
        case = case_repo.get(conn, original.case_id, lock=True)
        check_reviewer_may_handle(case, actor)
        if decision_repo.status(conn, original.id) is not DecisionStatus.IN_FORCE:
            raise Conflict("the decision was already reconsidered", field="appeal_id")
        if manifestly_unfounded and result is not AppealOutcome.UPHELD:
            raise InvalidInput(
                "only an upheld decision makes a complaint manifestly unfounded",
                field="manifestly_unfounded",
            )
        if new_decision is not None and result not in (
            AppealOutcome.PARTIALLY_REVERSED,
            AppealOutcome.REVERSED,
        ):
            raise InvalidInput(
                "a new decision comes only with a (partial) reversal", field="decision"
            )
        item = item_repo.get(conn, original.item_id)
        notices = [notice_repo.get(conn, n) for n in original.notice_ids]
        new: ModerationDecision | None = None
        new_restriction = False

        def redecide(given: DecisionInput) -> ModerationDecision:
            draft = build(
                wf,
                given,
                case=case,
                item=item,
                notices=notices,
                automated_detection=original.automated_detection,
                detectors=original.detectors,
                actor=actor,
                supersedes=original.id,
                appeal_id=appeal.id,
            )
            return record(conn, wf, draft, item, notices, actor)

        if result is AppealOutcome.REVERSED and original.restricts:
            if new_decision is not None:
                raise InvalidInput(
                    "a reversal restores the content; for a lighter measure use partially_reversed",
                    field="decision",
                )
            measures.reverse(conn, wf, original, actor, now)
        elif result is AppealOutcome.REVERSED:
            if new_decision is None:
                raise InvalidInput(
                    "reversing a decision not to act needs the new decision", field="decision"
                )
            new = redecide(new_decision)
            if not new.restricts:
                raise InvalidInput("the new decision must restrict the content", field="decision")
            decision_repo.set_status(conn, original.id, DecisionStatus.SUPERSEDED)
            standing_repo.revoke_strikes(conn, original.id, now)
            new_restriction = True
        elif result is AppealOutcome.PARTIALLY_REVERSED:
            if new_decision is None or not original.restricts:
                raise InvalidInput(
                    "a partial reversal replaces a restriction with a lighter one "
                    "(give the new decision)",
                    field="decision",
                )
            lighter_visibility = (
                VISIBILITY_RANK[Visibility(new_decision.visibility)]
                if (new_decision.visibility in {v.value for v in Visibility})
                else 99
            )
            lighter_account = (
                ACCOUNT_RANK.get(AccountMeasure(new_decision.account_measure), 99)
                if (new_decision.account_measure in {a.value for a in AccountMeasure})
                else 99
            )
            if not (
                lighter_visibility <= VISIBILITY_RANK[original.visibility]
                and lighter_account <= ACCOUNT_RANK[original.account_measure]
                and (lighter_visibility, lighter_account)
                != (VISIBILITY_RANK[original.visibility], ACCOUNT_RANK[original.account_measure])
            ):
                raise InvalidInput(
                    "the new decision must be lighter than the original", field="decision"
                )
            measures.reverse(conn, wf, original, actor, now)
            new = redecide(new_decision)
            decision_repo.set_status(conn, original.id, DecisionStatus.SUPERSEDED)
        repo.decide(
            conn,
            appeal.id,
            state=AppealState.DECIDED,
            outcome=result,
            reviewer=actor.id,
            decided_at=now,
            response=(response or "").strip() or None,
            new_decision_id=new.id if new else None,
            new_restriction=new_restriction,
        )
        case_repo.update_case(
            conn,
            case.id,
            state=CaseState.DECIDED,
            updated_at=now,
            decision_id=new.id if new else case.decision_id,
        )
        kind, ref, contact, language = _complainant(
            conn, appeal.role, _notice_of(conn, appeal), original
        )
        if manifestly_unfounded and ref:
            offenders.complaint_unfounded(
                conn,
                wf,
                subject_kind=kind,
                subject_ref=ref,
                appeal_id=appeal.id,
                decision=original,
                contact=contact,
                language=language,
            )
        if contact:
            _, subject, body = outbox.render(
                "appeal_decision",
                language,
                {
                    "platform": wf.settings.platform_name,
                    "appeal_id": appeal.id,
                    "decision_id": original.id,
                    "outcome": result.value,
                    "response": (response or "").strip(),
                    "ods_url": wf.settings.ods_url,
                },
            )
            outbox.enqueue(
                conn,
                wf.clock,
                kind="appeal_decision",
                to=contact,
                subject=subject,
                body=body,
                ref_id=appeal.id,
            )
        wf.audit(
            conn,
            actor,
            "appeal.decided",
            "appeal",
            appeal.id,
            {
                "outcome": result.value,
                "decision": original.id,
                "new_decision": new.id if new else None,
            },
        )
        decided = repo.get(conn, appeal.id)
    wf.after_commit()
    return decided


def _notice_of(conn: Any, appeal: Appeal) -> str | None:
    grant = repo.token(conn, appeal.token_hash)
    return grant.notice_id if grant else None


def get(wf: Workflow, appeal_id: str) -> Appeal:
    with wf.db.connect() as conn:
        return repo.get(conn, appeal_id)


def listing(wf: Workflow, state: AppealState | None = None, limit: int = 100) -> list[Appeal]:
    with wf.db.connect() as conn:
        return repo.listing(conn, state=state, limit=limit)


def outcome_counts(wf: Workflow) -> dict[str, Any]:
    """Counts for the transparency report (Annex I Part 7: internal complaints)."""
    with wf.db.connect() as conn:
        rows = repo.outcome_counts(conn)
        times = repo.decided_times(conn)
    outcomes = [o.value for o in AppealOutcome]
    total = {"received": 0, **{o: 0 for o in outcomes}, "pending": 0}
    by_basis: dict[str, dict[str, int]] = {
        b: {"received": 0, **{o: 0 for o in outcomes}, "pending": 0} for b in BASES
    }
    new_restrictions = 0
    for basis, outcome, new_restriction, count in rows:
        key = outcome or "pending"
        for bucket in (total, by_basis.setdefault(basis, {"received": 0, "pending": 0})):
            bucket["received"] += count
            bucket[key] = bucket.get(key, 0) + count
        if new_restriction:
            new_restrictions += count
    hours = [(d - lodged).total_seconds() / 3600 for lodged, d in times]
    return {
        "total": total,
        "by_basis": by_basis,
        "restrictions_newly_imposed": new_restrictions,
        "median_hours_to_decision": round(statistics.median(hours), 2) if hours else None,
    }
