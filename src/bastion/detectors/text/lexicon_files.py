"""Lexicon files: one YAML file per language (see lexicons/README.md), validated and compiled
into one :class:`~bastion.detectors.text.lexicon.Lexicon` per process.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bastion.detectors.text.lexicon import LanguageData, Lexicon
from bastion.detectors.text.normalize import term_forms
from bastion.errors import ConfigError

# Lists that may appear in a lexicon file. LABELS become findings; CONTEXT_LABELS are context
# the prompt detector combines (see prompt.py): nudity words count as explicit only when a
# person is mentioned, clothing + a reduction word is a sexualising edit, and plain swimwear
# (a swimsuit, not a bikini) is no sexualising cue where swimming is simply what happens (a
# swimming lesson, a swim team, a family day at the beach).
REQUIRED_LABELS = (
    "sexual_explicit",
    "sexual_suggestive",
    "swimwear",
    "minor",
    "real_person",
    "female_target",
    "public_figure",
    "sharing",
)
# "age_up": making a person look older or more mature, a sexualising cue only about a minor.
LABELS = (*REQUIRED_LABELS, "age_up")
CONTEXT_LABELS = ("nudity", "person", "clothing", "reduction", "swim_context", "plain_swimwear")
ALL_LABELS = LABELS + CONTEXT_LABELS
DEFAULT_WEIGHTS = {
    "sexual_explicit": 0.9,
    "sexual_suggestive": 0.8,
    "swimwear": 0.8,
    "minor": 0.9,
    "real_person": 0.8,
    "female_target": 0.8,
    "public_figure": 0.8,
    "sharing": 0.8,
    "age_up": 0.8,
    "nudity": 0.9,
    "person": 1.0,
    "clothing": 1.0,
    "reduction": 1.0,
    "swim_context": 1.0,
    "plain_swimwear": 1.0,
    "allow": 1.0,
}

WEAK_WEIGHT = 0.4
WEAK_ROLE_WEIGHT = 0.6


def _default_weight(label: str, raw: str) -> float:
    """The weight of an entry that does not set one.

    Two structural rules keep ordinary descriptions from looking like targeted abuse: a bare
    short word in ``real_person`` is a pronoun ("her", "sie", "lei"), and a single word in
    ``public_figure`` is a generic role ("actress", "prince"); both are weak cues. Phrases
    ("make her", "this photo", "the prime minister") and names keep the full weight.
    """
    words = raw.split()
    if label == "real_person" and len(words) == 1 and len(words[0].strip("*")) <= 4:
        return WEAK_WEIGHT
    if label == "public_figure" and len(words) == 1:
        return WEAK_ROLE_WEIGHT
    return DEFAULT_WEIGHTS[label]


def _entries(value: Any, where: str) -> Iterator[tuple[str, float | None]]:
    if value is None:
        return
    if not isinstance(value, list):
        raise ConfigError(f"{where} must be a list")
    for item in value:
        if isinstance(item, str):
            yield item, None
        elif isinstance(item, Mapping) and isinstance(item.get("term"), str):
            weight = item.get("weight")
            if not isinstance(weight, int | float) or not 0 < weight <= 1:
                raise ConfigError(f"{where}: weight of {item['term']!r} must be in (0, 1]")
            yield item["term"], float(weight)
        else:
            raise ConfigError(f"{where}: entries must be strings or {{term, weight}} mappings")


def _raw_terms(value: Any, where: str) -> tuple[str, ...]:
    return tuple(raw for raw, _ in _entries(value, where) if term_forms(raw.strip("*"))[0])


def parse_language(data: Any, where: str) -> tuple[LanguageData, list[tuple[str, str, str, float]]]:
    if not isinstance(data, Mapping) or not isinstance(data.get("language"), str):
        raise ConfigError(f"{where}: a lexicon needs 'language'")
    code = data["language"]
    terms_section = data.get("terms") or {}
    if not isinstance(terms_section, Mapping):
        raise ConfigError(f"{where}: 'terms' must be a mapping")
    unknown = sorted(set(terms_section) - set(ALL_LABELS))
    if unknown:
        raise ConfigError(f"{where}: unknown term list(s): {', '.join(unknown)}")
    terms: list[tuple[str, str, str, float]] = []
    for label in ALL_LABELS:
        for raw, weight in _entries(terms_section.get(label), f"{where}: terms.{label}"):
            terms.append(
                (label, code, raw, weight if weight is not None else _default_weight(label, raw))
            )
    for raw, weight in _entries(data.get("allow"), f"{where}: allow"):
        terms.append(("allow", code, raw, weight or 1.0))
    numbers = data.get("number_words") or {}
    if not isinstance(numbers, Mapping) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in numbers.values()
    ):
        raise ConfigError(f"{where}: number_words must map words to integers")
    number_words: dict[str, int] = {}
    number_phrases: list[tuple[str, int]] = []
    for word, number in numbers.items():
        tokens = term_forms(str(word))[0]
        if len(tokens) == 1:
            number_words[tokens[0]] = number
        elif tokens:
            number_phrases.append((str(word), number))
    language = LanguageData(
        code=code,
        name=str(data.get("name", code)),
        age_units=_raw_terms(data.get("age_units"), f"{where}: age_units"),
        age_before=_raw_terms(data.get("age_before"), f"{where}: age_before"),
        number_words=number_words,
        number_phrases=tuple(number_phrases),
    )
    return language, terms


def load_lexicon(extra_dirs: Sequence[Path] = ()) -> Lexicon:
    """Load the built-in lexicons plus any operator-supplied directories of YAML files.

    Cached per process: a Lexicon is immutable, and every Guard in a process shares it.
    """
    return _load_lexicon(tuple(Path(d).resolve() for d in extra_dirs))


@cache
def _load_lexicon(extra_dirs: tuple[Path, ...]) -> Lexicon:
    sources: list[tuple[str, str]] = []
    folder = resources.files("bastion.detectors.text").joinpath("lexicons")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            sources.append((f"lexicons/{entry.name}", entry.read_text("utf-8")))
    for directory in extra_dirs:
        for path in sorted(Path(directory).glob("*.yaml")):
            sources.append((str(path), path.read_text("utf-8")))
    languages: list[LanguageData] = []
    terms: list[tuple[str, str, str, float]] = []
    for where, text in sources:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{where}: invalid YAML: {exc}") from exc
        language, language_terms = parse_language(data, where)
        languages.append(language)
        terms.extend(language_terms)
    if not terms:
        raise ConfigError("no lexicon terms found")
    from bastion.detectors.text.names import PUBLIC_FIGURE_WEIGHT, load_names

    for name in load_names().public_figures:
        terms.append(("public_figure", "names", name, PUBLIC_FIGURE_WEIGHT))
    return Lexicon(terms, languages)
