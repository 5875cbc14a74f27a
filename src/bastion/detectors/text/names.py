"""Named people: well-known public figures (matched like lexicon terms) and full names of
private individuals ("Anna Kowalski": a known given name, capitalised, followed by a
capitalised surname), which are real-person cues.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from bastion.detectors.text.normalize import fold_accents
from bastion.errors import ConfigError

PUBLIC_FIGURE_WEIGHT = 0.9
FULL_NAME_WEIGHT = 0.7
# Every pair of adjacent words (overlapping: "Make Anna Kowalski" yields both pairs).
_CAPITALISED_PAIR = re.compile(r"(?<![\w])(?=([^\W\d_][\w'’-]*)\s+([^\W\d_][\w'’-]*))")


@dataclass(frozen=True, slots=True)
class NameLists:
    public_figures: tuple[str, ...]
    given_names: frozenset[str]


def _fold(word: str) -> str:
    return fold_accents(unicodedata.normalize("NFKC", word).casefold())


@cache
def load_names() -> NameLists:
    folder = resources.files("bastion.detectors.text").joinpath("names")
    resource = folder.joinpath("names.yaml")
    if not resource.is_file():
        return NameLists((), frozenset())
    try:
        data: Any = yaml.safe_load(resource.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"names/names.yaml: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError("names/names.yaml must be a mapping")

    def strings(key: str) -> list[str]:
        value = data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"names/names.yaml: {key} must be a list of strings")
        return value

    figures = tuple(strings("public_figures") + strings("single_names"))
    given = frozenset(_fold(name) for name in strings("given_names"))
    return NameLists(figures, given)


def full_names(text: str, given_names: frozenset[str]) -> Iterator[str]:
    """Capitalised given name + capitalised surname, as written in the original prompt."""
    for match in _CAPITALISED_PAIR.finditer(text):
        first, last = match.group(1), match.group(2)
        capitalised = first[0].isupper() and last[0].isupper() and not last.isupper()
        if capitalised and len(last) > 1 and _fold(first) in given_names:
            yield f"{first} {last}"
