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
from bastion.detectors.text.common_words import common_words
from bastion.detectors.text.lexicon import Hit, Lexicon
from bastion.detectors.text.lexicon_files import load_lexicon
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
    "age_up": "age_up",
}
FUZZY_FACTOR = 0.8
AGE_SCORE = 0.95
NO_PERSON_SCORE = 0.35  # below every default rule's threshold for explicit content
CLOTHING_REDUCTION_SCORE = 0.7
CLOTHING_WINDOW = 5  # words allowed between the garment and the reduction
PERSON_WINDOW = 10  # words allowed between a nudity word and the person it is about
# Plain swimwear where swimming is simply what happens: on record, below every rule's threshold
# for a prompt alone (default.yaml still reads it with an input photo of an apparent minor).
PLAIN_SWIMWEAR_SCORE = 0.3
# Lists whose match means a person is mentioned (so nudity words are about a person).
PERSON_LABELS = frozenset({"person", "female_target", "minor", "real_person", "public_figure"})
# Normalisation steps that only deliberate obfuscation produces.
OBFUSCATION_STEPS = frozenset(
    {"invisible_characters", "confusables", "letter_spacing", "leetspeak", "unicode_compatibility"}
)


class PromptLexiconConfig(DetectorConfig):
    extra_lexicon_dirs: list[Path] = Field(
        default_factory=list, description="Directories of extra lexicon YAML files."
    )
    fuzzy: bool = Field(default=True, description="Match one-edit misspellings of long words.")
    common_words: bool = Field(
        default=True,
        description="Never correct an ordinary word of any language into a lexicon term "
        "(wordfreq's common-word lists).",
    )


class PromptLexiconDetector(Detector):
    name: ClassVar[str] = "prompt_lexicon"
    accepts: ClassVar[type] = Prompt
    labels: ClassVar[frozenset[str]] = frozenset(LABEL_OF.values())
    Config: ClassVar[type[DetectorConfig]] = PromptLexiconConfig
    inline: ClassVar[bool] = True

    def __init__(self, config: DetectorConfig | None = None) -> None:
        super().__init__(config)
        self._lexicon: Lexicon | None = None
        self._common: frozenset[str] = frozenset()
        self._ages: AgeReader | None = None

    def warm_up(self) -> None:
        self._loaded()

    def _loaded(self) -> tuple[Lexicon, AgeReader]:
        if self._lexicon is None or self._ages is None:
            self._common = common_words() if self._config.common_words else frozenset()
            self._lexicon = load_lexicon(self._config.extra_lexicon_dirs)
            self._ages = AgeReader(self._lexicon.languages)
        return self._lexicon, self._ages

    def detect(self, item: Any, *, subject: str) -> Sequence[Finding]:
        if not isinstance(item, Prompt):
            raise TypeError(f"{self.name} reads prompts, got {type(item).__name__}")
        lexicon, ages = self._loaded()
        normalized = normalize(item.text)
        obfuscated = bool(OBFUSCATION_STEPS & set(normalized.deobfuscated.steps))
        entries: dict[str, list[Entry]] = defaultdict(list)
        nudity: list[tuple[Entry, str, int, int]] = []  # with the form and span of the match
        people: dict[str, list[tuple[int, int]]] = defaultdict(list)
        swimwear: list[tuple[Entry, bool]] = []  # with whether it is plain swimwear
        swimming = False  # a swimming lesson, a swim team, a family day at the beach
        person = False  # a person named or aged anywhere in the prompt
        masked: frozenset[str] = frozenset()
        for form in normalized.forms:
            deobfuscated = form.name == "deobfuscated"
            raw_hits = lexicon.match(
                form,
                fuzzy=self._config.fuzzy and deobfuscated,
                rejoin=deobfuscated and obfuscated,
                common=self._common,
            )
            hits = _unmasked(raw_hits, masked if deobfuscated else frozenset())
            if not deobfuscated:
                masked = _masked_words(raw_hits)
            plain = [(h.start, h.end) for h in hits if h.term.label == "plain_swimwear"]
            swimming = swimming or any(h.term.label == "swim_context" for h in hits)
            for hit in hits:
                label = hit.term.label
                if label in PERSON_LABELS:
                    people[form.name].append((hit.start, hit.end))
                score = hit.term.weight * (FUZZY_FACTOR if hit.fuzzy else 1.0)
                if label == "nudity":
                    nudity.append(((score, _evidence(hit, form)), form.name, hit.start, hit.end))
                elif label == "swimwear":
                    ordinary = any(s <= hit.start and hit.end <= e for s, e in plain)
                    swimwear.append(((score, _evidence(hit, form)), ordinary))
                elif label in LABEL_OF:
                    entries[LABEL_OF[label]].append((score, _evidence(hit, form)))
            entries["sexual_suggestive"] += _clothing_reduced(hits, form)
        for name in full_names(item.text, load_names().given_names):
            person = True
            entries["real_person_cue"].append(
                (FULL_NAME_WEIGHT, {"term": "<full name>", "matched": name, "form": "original"})
            )
        stated = ages.read(normalized.plain) + ages.read(normalized.deobfuscated)
        for age in {(a.age, a.matched): a for a in stated}.values():
            if age.age < ADULT_AGE:
                person = True
                evidence = {"term": "<stated age>", "age": age.age, "matched": age.matched}
                entries["minor_cue"].append((AGE_SCORE, {**evidence, "form": "plain"}))
        # Nudity words ("naked", "bare", "desnudo") are explicit about people; about trees,
        # mountains, snails or salads they are not. Without a person near them (or a named or
        # aged one anywhere) they stay on record as a weak signal below every rule's threshold.
        for (score, evidence), form_name, start, end in nudity:
            near = any(
                max(start, p_start) - min(end, p_end) <= PERSON_WINDOW
                for p_start, p_end in people[form_name]
            )
            if not (person or near):
                score = min(score, NO_PERSON_SCORE)
                evidence = {**evidence, "no_person_mentioned": True}
            entries["sexual_explicit"].append((score, evidence))
        entries["swimwear"] += _swimwear(swimwear, swimming, entries)
        return [
            _finding(self.name, label, found, subject) for label, found in entries.items() if found
        ]

    @property
    def _config(self) -> PromptLexiconConfig:
        config = self.config
        if not isinstance(config, PromptLexiconConfig):  # pragma: no cover - set in __init__
            raise TypeError("prompt_lexicon needs a PromptLexiconConfig")
        return config


Entry = tuple[float, dict[str, Any]]


def _swimwear(
    found: list[tuple[Entry, bool]], swimming: bool, entries: dict[str, list[Entry]]
) -> list[Entry]:
    """Swimwear is a sexualising cue, except plain swimwear ("swimsuit", "swimming trunks")
    where swimming is simply what happens ("swimming lesson", "swim team", "a family day at
    the beach"): children at a swimming lesson are ordinary. A bikini, or any other
    sexualising cue in the prompt, keeps every swimwear word at its full weight."""
    sexualised = any(
        score >= PLAIN_SWIMWEAR_SCORE
        for label in ("sexual_explicit", "sexual_suggestive", "age_up")
        for score, _ in entries.get(label, ())
    )
    if not swimming or sexualised or not all(ordinary for _, ordinary in found):
        return [entry for entry, _ in found]
    return [
        (min(score, PLAIN_SWIMWEAR_SCORE), {**evidence, "swim_context": True})
        for (score, evidence), _ in found
    ]


def _clothing_reduced(hits: list[Hit], form: Form) -> list[Entry]:
    """A garment next to a reduction ("make the outfit smaller", "her shirt off",
    "without her dress") is a sexualising edit even when no sexual word is used."""
    clothing = [h for h in hits if h.term.label == "clothing"]
    reductions = [h for h in hits if h.term.label == "reduction"]
    found: list[Entry] = []
    for garment in clothing:
        for reduction in reductions:
            gap = max(garment.start, reduction.start) - min(garment.end, reduction.end)
            if gap <= CLOTHING_WINDOW:
                start, end = min(garment.start, reduction.start), max(garment.end, reduction.end)
                matched = " ".join(form.tokens[start:end])
                evidence = {
                    "term": f"{garment.term.text} + {reduction.term.text}",
                    "language": garment.term.language,
                    "matched": matched,
                    "form": form.name,
                    "steps": list(form.steps),
                }
                found.append((CLOTHING_REDUCTION_SCORE, evidence))
    return found


def _unmasked(hits: list[Hit], masked_elsewhere: frozenset[str] = frozenset()) -> list[Hit]:
    """Drop matches that lie inside an allow-listed phrase ("nude lipstick", "strip mall"),
    and matches of words that the plain form found only inside allowed phrases (so
    "naked mole-rats" stays allowed when the deobfuscated form reads "molerats")."""
    allowed = [(h.start, h.end) for h in hits if h.term.label == "allow"]
    return [
        h
        for h in hits
        if h.term.label != "allow"
        and not any(s <= h.start and h.end <= e for s, e in allowed)
        and h.matched not in masked_elsewhere
    ]


def _masked_words(hits: list[Hit]) -> frozenset[str]:
    """Matched texts that occur only inside allowed phrases in this form."""
    kept = _unmasked(hits)
    all_matched = {h.matched for h in hits if h.term.label != "allow"}
    return frozenset(all_matched - {h.matched for h in kept})


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
        if ev.get("steps"):
            text += f" after {', '.join(ev['steps'])}"
        if ev.get("no_person_mentioned"):
            text += " (no person mentioned)"
        if ev.get("swim_context"):
            text += " (plain swimwear where swimming is what happens)"
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
