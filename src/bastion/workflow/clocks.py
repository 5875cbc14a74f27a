"""Deadlines of every regime that applies to a notice or detection, and case priority.

Each regime is a small rule: does it apply to this notice, and how long does it give? The hours
come from Settings, so an operator can tighten them (never loosen a statutory maximum).
See spec/regulation.md §8.1 for the sources.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from bastion.settings import Settings
from bastion.workflow.model import NoticeType

# SoR keywords that mark intimate-image abuse (the India and UK NCII clocks).
INTIMATE_KEYWORDS = frozenset(
    {
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
    }
)
# Directive 2011/93/EU Arts 3-7 offences: notices about them may be anonymous (DSA 16(2)(c)).
CHILD_SEXUAL_ABUSE_KEYWORDS = frozenset(
    {
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
        "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
    }
)
EU_EEA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IS",
        "IT",
        "LI",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "NO",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)


class Regime:
    TAKE_IT_DOWN = "take_it_down"
    INDIA_IT_RULES = "india_it_rules"
    UK_NCII = "uk_ncii"
    DSA = "dsa"
    INTERNAL = "internal"


@dataclass(frozen=True, slots=True)
class Clock:
    regime: str
    due_at: datetime
    basis: str


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    """What the clocks look at: enough of a notice to decide which regimes apply."""

    type: NoticeType
    received_at: datetime
    category: str
    keywords: tuple[str, ...]
    jurisdiction: str
    child_sexual_abuse: bool = False


def is_intimate(category: str, keywords: tuple[str, ...]) -> bool:
    return bool(INTIMATE_KEYWORDS.intersection(keywords))


def notice_clocks(settings: Settings, notice: NoticeFacts) -> list[Clock]:
    """Every deadline this notice starts, earliest first."""
    start = notice.received_at
    clocks: list[Clock] = []
    intimate = is_intimate(notice.category, notice.keywords) or (
        notice.type is NoticeType.TAKE_IT_DOWN
    )
    if notice.type is NoticeType.TAKE_IT_DOWN:
        clocks.append(
            Clock(
                Regime.TAKE_IT_DOWN,
                start + timedelta(hours=settings.take_it_down_hours),
                "TAKE IT DOWN Act §3(a)(3): remove the depiction and known identical copies "
                f"within {settings.take_it_down_hours} hours of a valid request",
            )
        )
    if notice.jurisdiction == "IN" and intimate:
        clocks.append(
            Clock(
                Regime.INDIA_IT_RULES,
                start + timedelta(hours=settings.india_ncii_hours),
                "IT Rules 2021 r.3(2)(b): remove or disable intimate or morphed images within "
                f"{settings.india_ncii_hours} hours of the complaint",
            )
        )
    if notice.jurisdiction == "GB" and intimate and settings.uk_ncii_hours is not None:
        clocks.append(
            Clock(
                Regime.UK_NCII,
                start + timedelta(hours=settings.uk_ncii_hours),
                f"UK: remove non-consensual intimate images within {settings.uk_ncii_hours} "
                "hours of being flagged (Crime and Policing Bill amendment)",
            )
        )
    clocks.append(
        Clock(
            Regime.DSA,
            start + timedelta(hours=settings.dsa_target_hours),
            "DSA Art. 16(6): decide without undue delay (internal target "
            f"{settings.dsa_target_hours} h)",
        )
    )
    return sorted(clocks, key=lambda c: c.due_at)


def detection_clock(settings: Settings, detected_at: datetime) -> Clock:
    return Clock(
        Regime.INTERNAL,
        detected_at + timedelta(hours=settings.dsa_target_hours),
        f"internal target for reviewing automated detections ({settings.dsa_target_hours} h)",
    )


# -- priority -----------------------------------------------------------------------------------

PRIORITY_CHILD_SAFETY = 0
PRIORITY_TRUSTED = 1  # trusted flaggers and authority orders
PRIORITY_STATUTORY = 2  # a statutory clock (TAKE IT DOWN, India, UK) runs
PRIORITY_NORMAL = 3


def priority(*, child_safety: bool, trusted: bool, statutory: bool) -> int:
    """Lower is sooner. Child safety first, trusted flaggers next, then by deadline (the
    queue orders equal priorities by their earliest open deadline)."""
    if child_safety:
        return PRIORITY_CHILD_SAFETY
    if trusted:
        return PRIORITY_TRUSTED
    if statutory:
        return PRIORITY_STATUTORY
    return PRIORITY_NORMAL


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months later, clamped to the month's last day (31 Aug + 6 months = 28 Feb)."""
    month_index = moment.month - 1 + months
    year = moment.year + month_index // 12
    month = month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
