"""Stated ages in any language: "14 years old", "14yo", "age: 13", "she is fifteen",
"vierzehnjährige". An age under 18 is a minor cue; the unit and number words come from the
lexicon files, so adding a language adds its ages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bastion.detectors.text.lexicon import Hit, LanguageData, Lexicon
from bastion.detectors.text.normalize import Form, term_forms

ADULT_AGE = 18
# Tokens after a number that make it a measurement, not an age ("5 feet", "14 cm").
_MEASURES = frozenset(
    [
        "feet",
        "foot",
        "ft",
        "inch",
        "inches",
        "in",
        "cm",
        "mm",
        "m",
        "km",
        "kg",
        "g",
        "lb",
        "lbs",
        "kilo",
        "kilos",
        "percent",
        "%",
        "eur",
        "euro",
        "euros",
        "usd",
        "dollar",
        "dollars",
        "pound",
        "pounds",
        "minutes",
        "minute",
        "min",
        "hours",
        "hour",
        "h",
        "seconds",
        "sec",
        "mb",
        "gb",
        "px",
        "pixels",
        "storeys",
        "stories",
        "floors",
        "meter",
        "meters",
        "metre",
        "metres",
    ]
)


@dataclass(frozen=True, slots=True)
class StatedAge:
    age: int
    start: int
    end: int
    matched: str


class AgeReader:
    def __init__(self, languages: Sequence[LanguageData]) -> None:
        units: list[tuple[str, str, str, float]] = []
        before: list[tuple[str, str, str, float]] = []
        phrases: list[tuple[str, str, str, float]] = []
        numbers: dict[str, int] = {}
        for language in languages:
            units += [("age_unit", language.code, raw, 1.0) for raw in language.age_units]
            before += [("age_before", language.code, raw, 1.0) for raw in language.age_before]
            phrases += [
                (f"number_{value}", language.code, raw, 1.0)
                for raw, value in language.number_phrases
            ]
            numbers.update(language.number_words)
        self._units = Lexicon(units, ()) if units else None
        self._before = Lexicon(before, ()) if before else None
        self._phrases = Lexicon(phrases, ()) if phrases else None
        self._numbers: Mapping[str, int] = numbers
        # Number words as prefixes of compounds ("vierzehnjährige"), longest first.
        self._number_prefixes = sorted((w for w in numbers if len(w) >= 3), key=len, reverse=True)
        self._unit_suffixes = sorted(
            {
                words[0]
                for language in languages
                for raw in language.age_units
                if len(words := term_forms(raw.strip("*"))[0]) == 1 and len(words[0]) >= 3
            },
            key=len,
            reverse=True,
        )

    def _number(self, token: str) -> int | None:
        if token.isdigit() and len(token) <= 3:
            return int(token)
        return self._numbers.get(token)

    def _compound(self, token: str) -> int | None:
        for word in self._number_prefixes:
            if token.startswith(word):
                rest = token[len(word) :]
                if any(rest.startswith(unit) for unit in self._unit_suffixes):
                    return self._numbers[word]
        return None

    def _numbers_in(self, form: Form) -> list[tuple[int, int, int]]:
        """(value, start, end) for every number written as digits, a word or a phrase."""
        found = []
        for pos, token in enumerate(form.tokens):
            value = self._number(token)
            if value is not None:
                found.append((value, pos, pos + 1))
        if self._phrases is not None:
            for hit in self._phrases.match(form):
                found.append((int(hit.term.label.removeprefix("number_")), hit.start, hit.end))
        return found

    def read(self, form: Form) -> list[StatedAge]:
        tokens = form.tokens
        unit_hits: list[Hit] = self._units.match(form) if self._units else []
        before_hits: list[Hit] = self._before.match(form) if self._before else []
        unit_at = {h.start: h.end for h in unit_hits}
        before_end = {h.end: h.start for h in before_hits}
        ages: list[StatedAge] = []
        for pos, token in enumerate(tokens):
            compound = self._compound(token)
            if compound is not None:
                ages.append(StatedAge(compound, pos, pos + 1, token))
        for value, start, end in self._numbers_in(form):
            following = tokens[end] if end < len(tokens) else ""
            if following in _MEASURES:
                continue
            if end in unit_at:
                stop = unit_at[end]
                ages.append(StatedAge(value, start, stop, " ".join(tokens[start:stop])))
            elif start in before_end:
                first = before_end[start]
                ages.append(StatedAge(value, first, end, " ".join(tokens[first:end])))
        return ages
