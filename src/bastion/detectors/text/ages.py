"""Stated ages in any language: "14 years old", "14yo", "age: 13", "she is fifteen",
"vierzehnjährige". An age under 18 is a minor cue; the unit and number words come from the
lexicon files, so adding a language adds its ages.
"""

from __future__ import annotations

from collections.abc import Sequence
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


# "ten years ago", "vor 10 Jahren", "hace 10 años", "il y a 10 ans": a time, not an age.
_AGO_AFTER = frozenset(
    {
        *("ago", "earlier", "before", "back", "önce", "evvel", "sitten", "tagasi", "geleden"),
        *("siden", "sedan", "temu", "fa", "atras", "nazad", "назад", "πριν", "ezelott"),
        *("pries", "atpakal", "lalu", "pehle", "pahle"),
    }
)
_AGO_BEFORE = frozenset(["vor", "hace", "pred", "prije", "przed", "قبل"])


@dataclass(frozen=True, slots=True)
class StatedAge:
    age: int
    start: int
    end: int
    matched: str


class AgeReader:
    """Reads stated ages. A number word and its unit must come from the same language
    (Turkish "dört" is German "dort"; Spanish "dos" + Turkish "yaş" is Turkish "dosya");
    digits go with any language."""

    def __init__(self, languages: Sequence[LanguageData]) -> None:
        units: list[tuple[str, str, str, float]] = []
        before: list[tuple[str, str, str, float]] = []
        phrases: list[tuple[str, str, str, float]] = []
        self._numbers: dict[str, list[tuple[str, int]]] = {}
        self._compounds: list[tuple[str, str, int, tuple[str, ...]]] = []
        for language in languages:
            units += [("age_unit", language.code, raw, 1.0) for raw in language.age_units]
            before += [("age_before", language.code, raw, 1.0) for raw in language.age_before]
            phrases += [
                (f"number_{value}", language.code, raw, 1.0)
                for raw, value in language.number_phrases
            ]
            for word, value in language.number_words.items():
                self._numbers.setdefault(word, []).append((language.code, value))
            suffixes = tuple(
                sorted(
                    {
                        words[0]
                        for raw in language.age_units
                        if len(words := term_forms(raw.strip("*"))[0]) == 1 and len(words[0]) >= 3
                    },
                    key=len,
                    reverse=True,
                )
            )
            # Number words as prefixes of compounds ("vierzehnjährige"), longest first.
            for word, value in language.number_words.items():
                if len(word) >= 3 and suffixes:
                    self._compounds.append((word, language.code, value, suffixes))
        self._compounds.sort(key=lambda c: len(c[0]), reverse=True)
        # Indexed by their first three letters: a token only tries the number words it could
        # start with (hundreds of number words, every token of every prompt).
        self._compounds_by_head: dict[str, list[tuple[str, str, int, tuple[str, ...]]]] = {}
        for compound in self._compounds:
            self._compounds_by_head.setdefault(compound[0][:3], []).append(compound)
        self._units = Lexicon(units, ()) if units else None
        self._before = Lexicon(before, ()) if before else None
        self._phrases = Lexicon(phrases, ()) if phrases else None

    def _compound(self, token: str) -> int | None:
        for word, _, value, suffixes in self._compounds_by_head.get(token[:3], ()):
            if token.startswith(word) and any(token[len(word) :].startswith(s) for s in suffixes):
                return value
        return None

    def _numbers_in(self, form: Form) -> list[tuple[int, int, int, str | None]]:
        """(value, start, end, language or None for digits) for every written number."""
        found: list[tuple[int, int, int, str | None]] = []
        for pos, token in enumerate(form.tokens):
            if token.isdigit() and len(token) <= 3:
                found.append((int(token), pos, pos + 1, None))
            for language, value in self._numbers.get(token, ()):
                found.append((value, pos, pos + 1, language))
        if self._phrases is not None:
            for hit in self._phrases.match(form):
                value = int(hit.term.label.removeprefix("number_"))
                found.append((value, hit.start, hit.end, hit.term.language))
        return found

    def read(self, form: Form) -> list[StatedAge]:
        tokens = form.tokens
        units: dict[int, list[Hit]] = {}
        for hit in self._units.match(form) if self._units else []:
            units.setdefault(hit.start, []).append(hit)
        befores: dict[int, list[Hit]] = {}
        for hit in self._before.match(form) if self._before else []:
            befores.setdefault(hit.end, []).append(hit)
        ages: list[StatedAge] = []
        for pos, token in enumerate(tokens):
            compound = self._compound(token)
            if compound is not None:
                ages.append(StatedAge(compound, pos, pos + 1, token))
        for value, start, end, language in self._numbers_in(form):
            following = tokens[end] if end < len(tokens) else ""
            if following in _MEASURES:
                continue
            if (start > 0 and tokens[start - 1] in _AGO_BEFORE) or tokens[
                max(0, start - 3) : start
            ] == ("il", "y", "a"):
                continue
            unit = _same_language(units.get(end, ()), language)
            if unit is not None:
                if _AGO_AFTER.intersection(tokens[unit.end : unit.end + 2]):
                    continue
                ages.append(StatedAge(value, start, unit.end, " ".join(tokens[start : unit.end])))
                continue
            lead = _same_language(befores.get(start, ()), language)
            if lead is not None:
                ages.append(StatedAge(value, lead.start, end, " ".join(tokens[lead.start : end])))
        return ages


def _same_language(hits: Sequence[Hit], language: str | None) -> Hit | None:
    for hit in hits:
        if language is None or hit.term.language == language:
            return hit
    return None
