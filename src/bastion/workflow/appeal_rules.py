"""Who may appeal what, on which basis (Art. 20 DSA), and the refusals an appeal can meet."""

from __future__ import annotations

from typing import Any

from bastion.errors import BastionError
from bastion.storage.workflow import items as item_repo
from bastion.storage.workflow import notices as notice_repo
from bastion.workflow.model import (
    AccountMeasure,
    Complainant,
    ModerationDecision,
    SourceType,
)

BASES = (
    "visibility",  # Art. 20(1)(a)
    "provision",  # Art. 20(1)(b)
    "account",  # Art. 20(1)(c)
    "monetisation",  # Art. 20(1)(d)
    "not_actioned_notice",
    "not_actioned_tf_notice",
)


class AppealWindowClosed(BastionError):
    code = "appeal_window_closed"
    status = 409


class ComplaintProcessingSuspended(BastionError):
    code = "complaint_processing_suspended"
    status = 403


def basis_for(decision: ModerationDecision, role: Complainant) -> str:
    if not decision.restricts:
        if decision.source_type is SourceType.TRUSTED_FLAGGER:
            return "not_actioned_tf_notice"
        return "not_actioned_notice"
    if decision.account_measure in (AccountMeasure.SUSPENSION, AccountMeasure.TERMINATION):
        return "account"
    if decision.account_measure is AccountMeasure.NOTICE_SUSPENSION:
        return "provision"
    return "visibility"


def _complainant(
    conn: Any, token_role: Complainant, notice_id: str | None, decision: ModerationDecision
) -> tuple[str, str | None, str | None, str]:
    """(standing kind, standing ref, contact e-mail, language) of whoever holds the token."""
    if token_role is Complainant.NOTIFIER and notice_id:
        notice = notice_repo.get(conn, notice_id)
        return "notifier", notice.notifier_ref, notice.notifier_email, notice.language
    if decision.account_measure is AccountMeasure.NOTICE_SUSPENSION:
        ref = decision.extra.get("notifier_ref")
        return "notifier", str(ref) if ref else None, None, decision.language
    item = item_repo.get(conn, decision.item_id)
    return "complainant", decision.account_id, item.account_contact, decision.language
