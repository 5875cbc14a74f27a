"""The prompt screen: normalise, match every language's lexicon, read stated ages.

Emits one Finding per label with the strongest match as its score and every matched term as
evidence, each saying in which language, as which text, and after which normalisation steps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from bastion.content import Prompt
from bastion.detectors.base import Detector, DetectorConfig
from bastion.detectors.text.ages import ADULT_AGE, AgeReader
from bastion.detectors.text.lexicon import Hit, Lexicon, load_lexicon
from bastion.detectors.text.names import FULL_NAME_WEIGHT, full_names, load_names
from bastion.detectors.text.normalize import Form, normalize
from bastion.findings import Finding

# Lexicon list → finding label (finding labels are policy vocabulary; see docs/detectors.md).
LABEL_OF = {
    "sexual_explicit": "sexual_explicit",
    "sexual_suggestive": "sexual_suggestive",
    "swimwear": "swimwear",
    "minor": "minor_cue",
    "real_person": "real_person_cue",
    "female_target": "female_target",
    "public_figure": "public_figure",
    "sharing": "sharing_intent",
}
FUZZY_FACTOR = 0.8
AGE_SCORE = 0.95


class PromptLexiconConfig(DetectorConfig):
    extra_lexicon_dirs: list[Path] = Field(
        default_factory=list, description="Directories of extra lexicon YAML files."
    )
    fuzzy: bool = Field(default=True, description="Match one-edit misspellings of long words.")


class PromptLexiconDetector(Detector):
    name: ClassVar[str] = "prompt_lexicon"
    accepts: ClassVar[type] = Prompt
    labels: ClassVar[frozenset[str]] = frozenset(LABEL_OF.values())
    Config: ClassVar[type[DetectorConfig]] = PromptLexiconConfig
    inline: ClassVar[bool] = True

    def __init__(self, config: DetectorConfig | None = None) -> None:
        super().__init__(config)
        self._lexicon: Lexicon | None = None
        self._ages: AgeReader | None = None

    def warm_up(self) -> None:
        self._loaded()

    def _loaded(self) -> tuple[Lexicon, AgeReader]:
        if self._lexicon is None or self._ages is None:
            assert isinstance(self.config, PromptLexiconConfig)
            self._lexicon = load_lexicon(self.config.extra_lexicon_dirs)
            self._ages = AgeReader(self._lexicon.languages)
        return self._lexicon, self._ages

    def detect(self, item: Any, *, subject: str) -> Sequence[Finding]:
        if not isinstance(item, Prompt):
            raise TypeError(f"{self.name} reads prompts, got {type(item).__name__}")
        lexicon, ages = self._loaded()
        assert isinstance(self.config, PromptLexiconConfig)
        normalized = normalize(item.text)
        by_label: dict[str, list[tuple[float, dict[str, Any]]]] = defaultdict(list)
        for form in normalized.forms:
            fuzzy = self.config.fuzzy and form.name == "deobfuscated"
            for hit in _unmasked(lexicon.match(form, fuzzy=fuzzy)):
                score = hit.term.weight * (FUZZY_FACTOR if hit.fuzzy else 1.0)
                by_label[LABEL_OF[hit.term.label]].append((score, _evidence(hit, form)))
        for name in full_names(item.text, load_names().given_names):
            by_label["real_person_cue"].append(
                (
                    FULL_NAME_WEIGHT,
                    {"term": "<full name>", "matched": name, "form": "original", "steps": []},
                )
            )
        for age in ages.read(normalized.plain):
            if age.age < ADULT_AGE:
                by_label["minor_cue"].append(
                    (
                        AGE_SCORE,
                        {
                            "term": "<stated age>",
                            "age": age.age,
                            "matched": age.matched,
                            "form": "plain",
                            "steps": list(normalized.plain.steps),
                        },
                    )
                )
        return [_finding(self.name, label, entries, subject) for label, entries in by_label.items()]


def _unmasked(hits: list[Hit]) -> list[Hit]:
    """Drop matches that lie inside an allow-listed phrase ("nude lipstick", "strip mall")."""
    allowed = [(h.start, h.end) for h in hits if h.term.label == "allow"]
    return [
        h
        for h in hits
        if h.term.label != "allow" and not any(s <= h.start and h.end <= e for s, e in allowed)
    ]


def _evidence(hit: Hit, form: Form) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "term": hit.term.text,
        "language": hit.term.language,
        "matched": hit.matched,
        "form": hit.form,
        "steps": list(form.steps),
    }
    if hit.fuzzy:
        evidence["fuzzy"] = hit.fuzzy
    return evidence


def _finding(
    detector: str, label: str, entries: list[tuple[float, dict[str, Any]]], subject: str
) -> Finding:
    entries.sort(key=lambda e: e[0], reverse=True)
    unique: dict[tuple[str, str], dict[str, Any]] = {}
    for _, evidence in entries:
        unique.setdefault((evidence["term"], evidence["matched"]), evidence)
    terms = list(unique.values())
    parts = []
    for ev in terms[:5]:
        text = f"'{ev['matched']}'"
        if ev["term"] != ev["matched"]:
            text += f" (term '{ev['term']}'{', ' + ev['language'] if 'language' in ev else ''})"
        if ev.get("fuzzy"):
            text += f" as a misspelling of '{ev['fuzzy']}'"
        if ev["steps"]:
            text += f" after {', '.join(ev['steps'])}"
        parts.append(text)
    more = f" and {len(terms) - 5} more" if len(terms) > 5 else ""
    return Finding(
        detector=detector,
        label=label,
        score=entries[0][0],
        subject=subject,
        evidence={"terms": terms},
        explanation=f"{label}: matched {'; '.join(parts)}{more}",
    )
