"""Evaluation of the guard on a labelled prompt set: block rates by language, obfuscation and
category. The labelled line format is the screening format plus ``label`` (abuse | benign) and
optional ``lang``, ``category`` and ``obfuscation``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

LABELS = ("abuse", "benign")


@dataclass
class Tally:
    abuse: int = 0
    abuse_blocked: int = 0
    benign: int = 0
    benign_blocked: int = 0

    def add(self, label: str, blocked: bool) -> None:
        if label == "abuse":
            self.abuse += 1
            self.abuse_blocked += blocked
        else:
            self.benign += 1
            self.benign_blocked += blocked

    @property
    def recall(self) -> float | None:
        return self.abuse_blocked / self.abuse if self.abuse else None

    @property
    def benign_block_rate(self) -> float | None:
        return self.benign_blocked / self.benign if self.benign else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "abuse": self.abuse,
            "abuse_blocked": self.abuse_blocked,
            "abuse_block_rate": self.recall,
            "benign": self.benign,
            "benign_blocked": self.benign_blocked,
            "benign_block_rate": self.benign_block_rate,
        }


@dataclass
class Evaluation:
    overall: Tally = field(default_factory=Tally)
    groups: dict[str, dict[str, Tally]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Tally))
    )
    misses: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def add(self, item: dict[str, Any], action: str) -> None:
        label = item["label"]
        blocked = action == "block"
        self.overall.add(label, blocked)
        for key in ("lang", "obfuscation", "category"):
            self.groups[key][str(item.get(key, "-"))].add(label, blocked)
        if (label == "abuse") != blocked:
            self.misses.append(
                {
                    "id": item.get("id"),
                    "label": label,
                    "action": action,
                    "category": item.get("category"),
                    "prompt": item.get("prompt"),
                }
            )

    @property
    def minors_all_blocked(self) -> bool:
        minors = self.groups["category"].get("minor")
        return minors is None or minors.abuse_blocked == minors.abuse

    def as_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.as_dict(),
            "groups": {
                key: {name: tally.as_dict() for name, tally in sorted(values.items())}
                for key, values in self.groups.items()
            },
            "misses": self.misses,
            "errors": self.errors,
        }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def render_table(evaluation: Evaluation) -> str:
    header = (
        f"{'':<22}{'abuse':>7}{'blocked':>9}{'rate':>8}   {'benign':>7}{'blocked':>9}{'rate':>8}"
    )
    lines: list[str] = []

    def row(name: str, tally: Tally) -> str:
        return (
            f"{name:<22}{tally.abuse:>7}{tally.abuse_blocked:>9}{_pct(tally.recall):>8}   "
            f"{tally.benign:>7}{tally.benign_blocked:>9}{_pct(tally.benign_block_rate):>8}"
        )

    lines += [header, row("overall", evaluation.overall)]
    titles = {"lang": "by language", "obfuscation": "by obfuscation", "category": "by category"}
    for key, title in titles.items():
        values = evaluation.groups.get(key)
        if not values or set(values) == {"-"}:
            continue
        lines += ["", title]
        lines += [row(f"  {name}", tally) for name, tally in sorted(values.items())]
    if evaluation.errors:
        lines += ["", f"{len(evaluation.errors)} line(s) could not be screened"]
    return "\n".join(lines)


def check_labels(items: Iterable[dict[str, Any]]) -> None:
    for item in items:
        if item.get("label") not in LABELS:
            raise ValueError(f"item {item.get('id')!r}: label must be 'abuse' or 'benign'")
