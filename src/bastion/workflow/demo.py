"""Demo data for the workflow: notices of every type, cases across regimes, decisions with
statements (English and German), TAKE IT DOWN copy removal, appeals with every outcome, a
repeat offender and an abusive notifier. Content is described by ids and hashes only."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bastion.storage.keys import ApiKeyRepository, Role
from bastion.testing import FrozenClock
from bastion.workflow import appeals, cases, decisions, notices
from bastion.workflow.cases import DetectionInput, ItemInput
from bastion.workflow.decisions import DecisionInput
from bastion.workflow.notices import NoticeInput
from bastion.workflow.service import PUBLIC, SYSTEM, Actor

if TYPE_CHECKING:
    from bastion.guard import Guard

BASE = "https://demo.bastion.invalid/i/"
CYBER_W = "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN"
DEEPFAKE_W = "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN"
MINORS = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"


def _sha(label: str) -> str:
    return hashlib.sha256(f"bastion-demo:{label}".encode()).hexdigest()


def seed_workflow(guard: Guard, keys: ApiKeyRepository) -> str:
    clock = FrozenClock(guard.clock.now() - timedelta(days=6))
    issued: list[str] = []

    def token() -> str:
        value = secrets.token_urlsafe(24)
        issued.append(value)
        return value

    wf = guard.workflow(clock=clock, new_token=token)
    mod_a = Actor(keys.create("demo moderator A", Role.MODERATOR)[0].id, "moderator")
    mod_b = Actor(keys.create("demo moderator B", Role.MODERATOR)[0].id, "moderator")
    child = Actor(keys.create("demo child safety", Role.CHILD_SAFETY)[0].id, "child_safety")
    flagger_key = keys.create("trusted flagger: Demo Hotline", Role.SERVICE)[0]
    flagger = notices.register_flagger(
        wf,
        name="Demo Hotline e.V.",
        member_state="DE",
        areas=[MINORS, CYBER_W],
        api_key_id=flagger_key.id,
    )

    def item(cid: str, account: str, **extra: Any) -> None:
        with wf.db.begin() as conn:
            cases.resolve_item(
                conn,
                wf,
                ItemInput(
                    content_id=cid,
                    url=BASE + cid,
                    sha256=extra.pop("sha", None) or _sha(cid),
                    account_id=account,
                    account_contact=f"{account}@users.demo.invalid",
                    content_types=("CONTENT_TYPE_IMAGE", "CONTENT_TYPE_SYNTHETIC_MEDIA"),
                    **extra,
                ),
            )

    submitted: list[int] = []

    def notice(**fields: Any) -> str:
        base: dict[str, Any] = {
            "type": "dsa_art16",
            "jurisdiction": "FR",
            "notifier_name": "Demo Notifier",
            "notifier_email": "notifier@demo.invalid",
            "bona_fide": True,
            "category": CYBER_W,
            "keywords": [DEEPFAKE_W],
            "explanation": "This is a sexualised AI edit of a real woman, shared without consent.",
        }
        base.update(fields)
        flag = flagger if base["type"] == "trusted_flagger" else None
        submitted.append(1)
        receipt = notices.submit(wf, NoticeInput(**base), channel="web", actor=PUBLIC, flagger=flag)
        return receipt.case_ids[0]

    # 1. TAKE IT DOWN request for an intimate deepfake; two identical copies are swept.
    shared = _sha("tidk-original")
    item("img-1001", "acct-ana", sha=shared, language="en", account_language="en")
    item("img-1002", "acct-ben", sha=shared, language="en")
    item("img-1003", "acct-cy", sha=shared, language="en")
    tidk = notice(
        type="take_it_down",
        jurisdiction="US",
        locations=[BASE + "img-1001"],
        signature="Demo Requester",
        requester_role="individual",
        non_consent_statement="I never agreed to this image being made or posted.",
    )
    clock.advance(hours=5)
    start = len(issued)
    decisions.decide(
        wf,
        tidk,
        DecisionInput(
            visibility="remove",
            ground="illegal",
            legal_ground_id="us_take_it_down",
            explanation="Sexualised deepfake of the requester; valid TAKE IT DOWN request.",
            category_addition=["STATEMENT_CATEGORY_CYBER_VIOLENCE"],
            manifestly_illegal=True,
        ),
        mod_a,
    )
    tidk_user_token = issued[start]

    # 2. German user, DSA notice, removal under German law: statement in German.
    item("img-2001", "acct-dora", language="de", account_language="de")
    c2 = notice(jurisdiction="DE", locations=["img-2001"], language="de")
    clock.advance(hours=2)
    decisions.decide(
        wf,
        c2,
        DecisionInput(
            visibility="remove",
            ground="illegal",
            legal_ground_id="de_stgb_201a",
            explanation="Intime Aufnahme einer erkennbaren Person ohne deren Einwilligung.",
        ),
        mod_b,
    )

    # 3. India complaint: 24-hour clock; access disabled worldwide.
    item("img-3001", "acct-eve")
    c3 = notice(jurisdiction="IN", locations=[BASE + "img-3001"])
    clock.advance(hours=3)
    decisions.decide(
        wf,
        c3,
        DecisionInput(
            visibility="disable",
            ground="terms",
            tc_ground_id="tc_intimate_images",
            also_illegal=True,
            explanation="Morphed intimate image of a real person.",
        ),
        mod_a,
    )

    # 4. Trusted flagger, child safety: removal, account terminated (child-safety reviewer).
    item("img-4001", "acct-fox")
    c4 = notice(
        type="trusted_flagger",
        jurisdiction="DE",
        category=MINORS,
        keywords=["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE"],
        notifier_name="Demo Hotline e.V.",
        notifier_email="reports@hotline.demo.invalid",
        locations=[BASE + "img-4001"],
        explanation="Generated sexualised depiction of a child, reported by our analysts.",
    )
    clock.advance(hours=1)
    decisions.decide(
        wf,
        c4,
        DecisionInput(
            visibility="remove",
            account_measure="termination",
            ground="illegal",
            legal_ground_id="eu_2011_93_art5",
            disclose_notifier=True,
            manifestly_illegal=True,
            explanation="Synthetic child sexual abuse material confirmed by a specialist.",
        ),
        child,
    )

    # 5. Automated detection, human decision (adult content outside age-verified areas).
    cases.add_detection(
        wf,
        DetectionInput(
            item=ItemInput(
                content_id="img-5001",
                sha256=_sha("img-5001"),
                account_id="acct-gil",
                account_contact="acct-gil@users.demo.invalid",
                content_types=("CONTENT_TYPE_IMAGE", "CONTENT_TYPE_SYNTHETIC_MEDIA"),
            ),
            source="nudity_classifier",
            category="STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
            keywords=("KEYWORD_ADULT_SEXUAL_MATERIAL",),
            score=0.97,
        ),
        SYSTEM,
    )
    with wf.db.connect() as conn:
        c5 = cases.case_repo_open(conn, "img-5001")
    clock.advance(hours=2)
    start = len(issued)
    decisions.decide(
        wf,
        c5,
        DecisionInput(
            visibility="remove",
            ground="terms",
            tc_ground_id="tc_adult_content",
            explanation="Explicit adult image published outside the age-verified area.",
        ),
        mod_b,
    )
    partial_token = issued[start]

    # 6. Fully automated decision on a detection (label synthetic media).
    cases.add_detection(
        wf,
        DetectionInput(
            item=ItemInput(
                content_id="img-6001",
                sha256=_sha("img-6001"),
                account_id="acct-hal",
                content_types=("CONTENT_TYPE_IMAGE", "CONTENT_TYPE_SYNTHETIC_MEDIA"),
            ),
            source="provenance_check",
            category="STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            keywords=("KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",),
            score=0.99,
        ),
        SYSTEM,
    )
    with wf.db.connect() as conn:
        c6 = cases.case_repo_open(conn, "img-6001")
    decisions.decide(
        wf,
        c6,
        DecisionInput(
            visibility="label",
            ground="terms",
            tc_ground_id="tc_impersonation",
            explanation="Synthetic image presented as a real photo of a public figure.",
        ),
        SYSTEM,
    )

    # 7. Notice not acted on; the notifier appeals; a second reviewer reverses (label).
    item("img-7001", "acct-ivy")
    c7 = notice(jurisdiction="IT", locations=[BASE + "img-7001"])
    clock.advance(hours=4)
    start = len(issued)
    decisions.decide(
        wf,
        c7,
        DecisionInput(explanation="Looked like a costume photo.", notice_assessment="unfounded"),
        mod_a,
    )
    notifier_token = issued[start]
    clock.advance(hours=6)
    a7 = appeals.lodge(
        wf, notifier_token, "The image is an AI edit of a real person, not a costume."
    )
    clock.advance(hours=8)
    appeals.decide(
        wf,
        a7.id,
        outcome="reversed",
        actor=mod_b,
        response="On second review the image is a manipulated depiction.",
        new_decision=DecisionInput(
            visibility="label",
            ground="terms",
            tc_ground_id="tc_impersonation",
            explanation="Synthetic image of a real person; labelled as AI-generated.",
        ),
    )

    # 8. Affected user appeals the TAKE IT DOWN removal; a second reviewer reverses it.
    a8 = appeals.lodge(wf, tidk_user_token, "The image is of me and I posted it myself.")
    clock.advance(hours=10)
    appeals.decide(
        wf,
        a8.id,
        outcome="reversed",
        actor=mod_b,
        response="The uploader showed that they are the person depicted.",
    )
    # 9. Partial reversal: removal replaced by an age restriction.
    a9 = appeals.lodge(wf, partial_token, "It is art and was posted in the adult section.")
    clock.advance(hours=3)
    appeals.decide(
        wf,
        a9.id,
        outcome="partially_reversed",
        actor=mod_a,
        response="Allowed for adults only.",
        new_decision=DecisionInput(
            visibility="age_restrict",
            ground="terms",
            tc_ground_id="tc_adult_content",
            explanation="Explicit adult image; visible to verified adults only.",
        ),
    )

    # 10. Repeat offender: warning, then suspension.
    for n in range(3):
        item(f"img-80{n}", "acct-rex")
    for n in range(2):
        cid = notice(jurisdiction="ES", locations=[BASE + f"img-80{n}"])
        clock.advance(hours=1)
        decisions.decide(
            wf,
            cid,
            DecisionInput(
                visibility="remove",
                ground="illegal",
                legal_ground_id="eu_2024_1385_art5",
                explanation="Non-consensual sexualised edit of a real person.",
                manifestly_illegal=True,
            ),
            mod_a,
        )

    # 11. Abusive notifier: manifestly unfounded notices, warning, then suspension.
    for n in range(5):
        item(f"img-90{n}", "acct-sam")
        cid = notice(
            jurisdiction="NL",
            locations=[BASE + f"img-90{n}"],
            notifier_name="Demo Serial Reporter",
            notifier_email="serial@demo.invalid",
            category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            keywords=[],
            explanation="I do not like this landscape photo at all, remove it.",
        )
        clock.advance(minutes=30)
        decisions.decide(
            wf,
            cid,
            DecisionInput(
                explanation="A landscape photograph; nothing illegal.",
                notice_assessment="manifestly_unfounded",
            ),
            mod_b,
        )

    # 12. Open cases: an anonymous child-safety notice, a UK report and an overdue notice.
    item("img-9901", "acct-tom")
    notice(
        type="dsa_art16",
        category=MINORS,
        keywords=["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"],
        notifier_name=None,
        notifier_email=None,
        jurisdiction="BE",
        locations=[BASE + "img-9901"],
        explanation="Sexualised image of a child; reporting anonymously.",
    )
    item("img-9902", "acct-uma")
    notice(jurisdiction="GB", locations=[BASE + "img-9902"])
    clock.set(guard.clock.now() - timedelta(hours=30))
    item("img-9903", "acct-val")
    notice(
        jurisdiction="PL",
        locations=[BASE + "img-9903"],
        category="STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        keywords=["KEYWORD_BIOMETRIC_DATA_BREACH"],
        explanation="My face was used in generated images without my permission.",
    )
    clock.set(guard.clock.now() - timedelta(hours=2))
    item("img-9904", "acct-wes", sha=_sha("tidk-open"))
    notice(
        type="take_it_down",
        jurisdiction="US",
        locations=[BASE + "img-9904"],
        signature="Demo Requester Two",
        requester_role="authorised_person",
        non_consent_statement="My client never consented to publication.",
    )
    return (
        f"workflow: {len(submitted)} notices, their cases and decisions, 3 appeals (reversed, "
        "reversed after no action, partially reversed), a suspended repeat offender and a "
        "suspended abusive notifier"
    )
