"""Banks, entries and matches: the frozen records the bank service and its adapters share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from bastion.errors import InvalidInput
from bastion.hashing.signals import PDQ_MATCH_DISTANCE, Hash, SignalType


class BankKind(StrEnum):
    """What a bank holds. Policy rules read the kind from hash-match findings."""

    CSAM = "csam"
    NCII = "ncii"
    BLOCKED_GENERATIONS = "blocked_generations"
    REMOVED_CONTENT = "removed_content"
    TERRORISM = "terrorism"
    FALSE_POSITIVES = "false_positives"
    OTHER = "other"


# The two stay-down banks, created on first use.
BLOCKED_GENERATIONS = "blocked_generations"
REMOVED_CONTENT = "removed_content"

_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")


def check_bank_name(name: str) -> str:
    """Bank names are storage keys: lower_snake (HMA's UPPER_SNAKE names are lowered)."""
    if not isinstance(name, str):
        raise InvalidInput("bank name must be a string", field="name")
    lowered = name.strip().lower()
    if not _NAME.match(lowered):
        raise InvalidInput(
            f"bank name {name!r} must be 1-64 characters of a-z, 0-9 and _", field="name"
        )
    return lowered


def check_distance(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 31:
        raise InvalidInput(
            f"match distance must be an integer from 0 to 31, got {value!r}", field="match_distance"
        )
    return value


@dataclass(frozen=True, slots=True)
class Bank:
    id: int
    name: str
    kind: BankKind
    match_distance: int = PDQ_MATCH_DISTANCE
    enabled: bool = True
    negative: bool = False
    description: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "match_distance": self.match_distance,
            "enabled": self.enabled,
            "negative": self.negative,
            "description": self.description,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


@dataclass(frozen=True, slots=True)
class EntryInput:
    """One hash to add to a bank, with its metadata (what an import row or API call gives)."""

    hash: str
    signal_type: SignalType = SignalType.PDQ
    quality: int | None = None
    source: str = "manual"
    labels: tuple[str, ...] = ()
    case_id: str | None = None
    decision_id: str | None = None
    note: str | None = None
    enabled: bool = True
    variants: tuple[tuple[str, str], ...] = ()  # (variant name, hex) — crops etc.


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    bank: str
    signal_type: SignalType
    hash: str
    quality: int | None
    source: str
    labels: tuple[str, ...]
    added_at: datetime
    added_by: str
    case_id: str | None = None
    decision_id: str | None = None
    note: str | None = None
    enabled: bool = True
    disabled_at: datetime | None = None
    variants: tuple[tuple[str, str], ...] = ()

    def metadata(self) -> dict[str, Any]:
        """What every match carries about the entry it matched."""
        return {
            "source": self.source,
            "labels": list(self.labels),
            "added_at": self.added_at.isoformat(),
            "added_by": self.added_by,
            "case_id": self.case_id,
            "decision_id": self.decision_id,
            "note": self.note,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "bank": self.bank,
            "signal_type": self.signal_type.value,
            "hash": self.hash,
            "quality": self.quality,
            "enabled": self.enabled,
            "disabled_at": self.disabled_at.isoformat() if self.disabled_at else None,
            "variants": [{"variant": v, "hash": h} for v, h in self.variants],
            **self.metadata(),
        }


@dataclass(frozen=True, slots=True)
class Match:
    """A bank entry within its bank's match distance of one of the query's hashes."""

    bank: Bank
    entry: Entry
    distance: int
    query_variant: str = "original"
    suppressed_by: int | None = None  # entry id of the negative-bank entry that suppressed it
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "bank": self.bank.name,
            "bank_kind": self.bank.kind.value,
            "distance": self.distance,
            "entry_id": self.entry.id,
            "hash": self.entry.hash,
            "query_variant": self.query_variant,
            **self.entry.metadata(),
        }
        if self.suppressed_by is not None:
            out["suppressed_by"] = self.suppressed_by
        return {**out, **self.extra}


@dataclass(frozen=True, slots=True)
class QueryHash:
    """One hash to look up, named by the variant of the content it came from."""

    hash: Hash
    variant: str = "original"


@dataclass(frozen=True, slots=True)
class Lookup:
    """The answer to a lookup: matches, matches a negative bank suppressed, and what was asked."""

    matches: tuple[Match, ...]
    suppressed: tuple[Match, ...]
    hash: str | None
    quality: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "hash": self.hash,
            "quality": self.quality,
            "matches": [m.to_dict() for m in self.matches],
            "suppressed": [m.to_dict() for m in self.suppressed],
        }


def check_actor(added_by: str) -> str:
    actor = (added_by or "").strip()
    if not actor or len(actor) > 200:
        raise InvalidInput("added_by must be 1-200 characters", field="added_by")
    return actor


def check_entry_input(item: EntryInput) -> EntryInput:
    parsed = Hash.parse(item.hash, item.signal_type)
    if item.quality is not None and not 0 <= item.quality <= 100:
        raise InvalidInput(f"quality must be 0-100, got {item.quality}", field="quality")
    for name, value in (("source", item.source), ("case_id", item.case_id), ("note", item.note)):
        limit = 500 if name == "note" else (64 if name == "case_id" else 200)
        if value is not None and len(value) > limit:
            raise InvalidInput(f"{name} is longer than {limit} characters", field=name)
    labels = tuple(str(label).strip() for label in item.labels if str(label).strip())
    variants = tuple((v, Hash.parse(h, item.signal_type).hex) for v, h in item.variants)
    return replace(
        item,
        hash=parsed.hex,
        labels=labels,
        variants=variants,
        signal_type=SignalType(item.signal_type),
    )


def stay_down_bank(name: str, kind: BankKind) -> Bank:
    return Bank(
        id=0,
        name=name,
        kind=kind,
        description=f"stay-down bank filled automatically ({kind.value})",
    )


def suppress(positive: list[Match], negative: list[Match]) -> tuple[list[Match], list[Match]]:
    """A known false positive at least as close as a listed hash suppresses that match."""
    if not negative:
        return positive, []
    closest = min(negative, key=lambda m: m.distance)
    kept, suppressed = [], []
    for match in positive:
        if closest.distance <= match.distance:
            suppressed.append(replace(match, suppressed_by=closest.entry.id))
        else:
            kept.append(match)
    return kept, suppressed
