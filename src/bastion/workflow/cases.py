"""Cases: notices and automated detections about one item, grouped; their clocks and priority.

An item is found by content id, URL or SHA-256 (a hash match groups a re-upload with the case
of the original). While an item has an open case, everything new about it joins that case.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection

from bastion.errors import Forbidden, InvalidInput
from bastion.policy.loader import sor_enums
from bastion.policy.model import new_id
from bastion.storage.workflow import cases as repo
from bastion.storage.workflow import items as item_repo
from bastion.workflow.clocks import Clock, detection_clock, priority
from bastion.workflow.model import CaseState, ItemState, check_case_transition
from bastion.workflow.records import Case, Deadline, Detection, Item
from bastion.workflow.service import Actor, Workflow

SHA256 = re.compile(r"^[0-9a-f]{64}$")
CONTENT_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,200}$")
STATUTORY = {"take_it_down", "india_it_rules", "uk_ncii"}


def is_child_safety(category: str, keywords: Sequence[str]) -> bool:
    """Cases about the protection of minors go to child-safety specialists, first."""
    return category == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"


# -- items --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemInput:
    """What a platform tells Bastion about a piece of content (never the content itself)."""

    content_id: str | None = None
    url: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    account_id: str | None = None
    account_contact: str | None = None
    account_language: str | None = None
    content_types: tuple[str, ...] = ("CONTENT_TYPE_IMAGE",)
    language: str | None = None
    hosted_at: datetime | None = None

    def validate(self) -> None:
        if not (self.content_id or self.url or self.sha256):
            raise InvalidInput("give content_id, url or sha256", field="content_id")
        if self.content_id is not None and not CONTENT_ID.match(self.content_id):
            raise InvalidInput("content_id: 1-200 letters, digits or . _ : -", field="content_id")
        if self.sha256 is not None and not SHA256.match(self.sha256):
            raise InvalidInput("sha256 must be 64 lower-case hex digits", field="sha256")
        if self.pdq is not None and not SHA256.match(self.pdq):
            raise InvalidInput("pdq must be 64 lower-case hex digits", field="pdq")
        if self.url is not None and not re.match(r"^https?://[^\s/]+", self.url):
            raise InvalidInput("url must be an http(s) URL", field="url")
        allowed = set(sor_enums()["CONTENT_TYPES"])
        bad = [c for c in self.content_types if c not in allowed]
        if bad or not self.content_types:
            raise InvalidInput(
                f"content_types must be CONTENT_TYPE_* values (got {bad or 'none'})",
                field="content_types",
            )


def find_item(conn: Connection, wf: Workflow, location: str) -> Item | None:
    """The known item at a reported location (URL or content id)."""
    if location.startswith(("http://", "https://")):
        found = item_repo.by_url(conn, location)
        if found is not None:
            return found
        pattern = wf.settings.content_url_pattern
        if pattern:
            match = re.search(pattern, location)
            if match and match.group("content_id"):
                return item_repo.by_content_id(conn, match.group("content_id"))
        return None
    return item_repo.by_content_id(conn, location)


def resolve_item(conn: Connection, wf: Workflow, given: ItemInput) -> Item:
    """Find the item (content id, then URL, then exact hash) or register it."""
    found = None
    if given.content_id:
        found = item_repo.by_content_id(conn, given.content_id)
    if found is None and given.url:
        found = find_item(conn, wf, given.url)
    if found is None and given.sha256 and not given.content_id:
        same = item_repo.by_sha256(conn, given.sha256)
        found = same[0] if same else None
    if found is not None:
        return found
    now = wf.clock.now()
    item = Item(
        id=new_id(),
        created_at=now,
        state=ItemState.VISIBLE,
        state_changed_at=now,
        content_id=given.content_id,
        url=given.url,
        sha256=given.sha256,
        pdq=given.pdq,
        account_id=given.account_id,
        account_contact=given.account_contact,
        account_language=given.account_language,
        content_types=tuple(dict.fromkeys(given.content_types)),
        language=given.language,
        hosted_at=given.hosted_at,
    )
    item_repo.add(conn, item)
    return item


def item_for_location(conn: Connection, wf: Workflow, location: str) -> Item:
    found = find_item(conn, wf, location)
    if found is not None:
        return found
    if location.startswith(("http://", "https://")):
        return resolve_item(conn, wf, ItemInput(url=location))
    return resolve_item(conn, wf, ItemInput(content_id=location))


# -- cases --------------------------------------------------------------------------------------


def case_for_item(
    conn: Connection, wf: Workflow, item: Item, *, category: str, keywords: tuple[str, ...]
) -> tuple[Case, bool]:
    """The item's open case, or a new one. Returns (case, created)."""
    existing = repo.open_for_item(conn, item.id)
    if existing is not None:
        return existing, False
    now = wf.clock.now()
    case = Case(
        id=new_id(),
        item_id=item.id,
        state=CaseState.OPEN,
        opened_at=now,
        updated_at=now,
        priority=priority(child_safety=False, trusted=False, statutory=False),
        category=category,
        keywords=keywords,
        child_safety=False,
        trusted_flagger=False,
    )
    repo.add(conn, case)
    return case, True


def absorb(
    conn: Connection,
    wf: Workflow,
    case: Case,
    *,
    category: str,
    keywords: tuple[str, ...],
    clocks: Sequence[Clock],
    notice_id: str | None,
    trusted: bool = False,
    child_safety: bool = False,
) -> Case:
    """Add a notice's or detection's category, clocks and priority signals to a case."""
    for clock in clocks:
        repo.add_deadline(
            conn,
            Deadline(
                id=new_id(),
                case_id=case.id,
                regime=clock.regime,
                starts_at=wf.clock.now(),
                due_at=clock.due_at,
                basis=clock.basis,
                notice_id=notice_id,
            ),
        )
    deadlines = repo.deadlines(conn, case.id)
    open_deadlines = [d for d in deadlines if d.met_at is None]
    due = min((d.due_at for d in open_deadlines), default=None)
    unspecified = case.category == "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"
    new_category = category if unspecified else case.category
    merged_keywords = tuple(dict.fromkeys((*case.keywords, *keywords)))
    child = case.child_safety or child_safety or is_child_safety(new_category, merged_keywords)
    trusted = case.trusted_flagger or trusted
    statutory = any(d.regime in STATUTORY for d in open_deadlines)
    changed = replace(
        case,
        category=new_category,
        keywords=merged_keywords,
        child_safety=child,
        trusted_flagger=trusted,
        due_at=due,
        priority=priority(child_safety=child, trusted=trusted, statutory=statutory),
        updated_at=wf.clock.now(),
    )
    repo.update_case(
        conn,
        case.id,
        category=changed.category,
        keywords=changed.keywords,
        child_safety=changed.child_safety,
        trusted_flagger=changed.trusted_flagger,
        due_at=changed.due_at,
        priority=changed.priority,
        updated_at=changed.updated_at,
    )
    return changed


# -- automated detections -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DetectionInput:
    item: ItemInput
    source: str
    category: str
    keywords: tuple[str, ...] = ()
    rule: str | None = None
    score: float | None = None
    guard_decision_id: str | None = None
    # Child-safety priority and reviewers regardless of the category (critical or escalated
    # guard decisions).
    child_safety: bool = False

    def validate(self) -> None:
        self.item.validate()
        if not re.match(r"^[a-z][a-z0-9_]{0,79}$", self.source):
            raise InvalidInput("source must be a lower_snake name", field="source")
        validate_category(self.category, self.keywords)
        if self.score is not None and not 0 <= self.score <= 1:
            raise InvalidInput("score must be between 0 and 1", field="score")


def validate_category(category: str, keywords: Sequence[str], field: str = "category") -> None:
    hierarchy = sor_enums()["CATEGORY_HIERARCHY_IR_2024_2835"]
    if category not in sor_enums()["STATEMENT_CATEGORIES"]:
        raise InvalidInput(f"unknown category {category!r}", field=field)
    allowed = {k["keyword"] for k in hierarchy.get(category, {}).get("keywords", [])}
    for keyword in keywords:
        if keyword not in allowed:
            raise InvalidInput(
                f"keyword {keyword!r} does not belong to {category}", field="keywords"
            )


def add_detection(wf: Workflow, given: DetectionInput, actor: Actor) -> tuple[Case, Detection]:
    """An automated detection about an item joins (or opens) the item's case."""
    given.validate()
    keywords = tuple(dict.fromkeys(given.keywords))
    with wf.db.begin() as conn:
        item = resolve_item(conn, wf, given.item)
        case, _ = case_for_item(conn, wf, item, category=given.category, keywords=keywords)
        detection = Detection(
            id=new_id(),
            case_id=case.id,
            detected_at=wf.clock.now(),
            source=given.source,
            category=given.category,
            keywords=keywords,
            rule=given.rule,
            score=given.score,
            guard_decision_id=given.guard_decision_id,
        )
        repo.add_detection(conn, detection)
        case = absorb(
            conn,
            wf,
            case,
            category=given.category,
            keywords=keywords,
            clocks=[detection_clock(wf.settings, wf.clock.now())],
            notice_id=None,
            child_safety=given.child_safety,
        )
        wf.audit(
            conn,
            actor,
            "detection.added",
            "case",
            case.id,
            {"detection": detection.id, "item": item.id, "source": given.source},
        )
    return case, detection


# -- review states ------------------------------------------------------------------------------


def assign(wf: Workflow, case_id: str, reviewer: Actor) -> Case:
    with wf.db.begin() as conn:
        case = repo.get(conn, case_id, lock=True)
        check_case_transition(case.state, CaseState.IN_REVIEW)
        check_reviewer_may_handle(case, reviewer)
        repo.update_case(
            conn,
            case.id,
            state=CaseState.IN_REVIEW,
            assignee=reviewer.id,
            updated_at=wf.clock.now(),
        )
        wf.audit(conn, reviewer, "case.assigned", "case", case.id)
        return repo.get(conn, case.id)


def release(wf: Workflow, case_id: str, reviewer: Actor) -> Case:
    with wf.db.begin() as conn:
        case = repo.get(conn, case_id, lock=True)
        check_case_transition(case.state, CaseState.OPEN)
        if case.assignee != reviewer.id and reviewer.role != "admin":
            raise Forbidden("only the assigned reviewer or an admin can release this case")
        repo.update_case(
            conn, case.id, state=CaseState.OPEN, assignee=None, updated_at=wf.clock.now()
        )
        wf.audit(conn, reviewer, "case.released", "case", case.id)
        return repo.get(conn, case.id)


def check_reviewer_may_handle(case: Case, reviewer: Actor) -> None:
    if case.child_safety and reviewer.role not in ("child_safety", "admin", "system"):
        raise Forbidden(
            "child-safety cases are reviewed by the child_safety role (or an admin)",
            field="case_id",
        )


def case_repo_open(conn: Connection, content_id: str) -> str:
    """The id of the open case about the item with ``content_id`` (demo and tests)."""
    found = item_repo.by_content_id(conn, content_id)
    case = repo.open_for_item(conn, found.id) if found else None
    if case is None:
        raise InvalidInput(f"no open case about {content_id!r}", field="content_id")
    return case.id
