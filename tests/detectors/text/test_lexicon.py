"""Lexicon files: every required language present and valid; the term syntax works."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from bastion.detectors.text.lexicon import Lexicon
from bastion.detectors.text.lexicon_files import REQUIRED_LABELS, load_lexicon, parse_language
from bastion.detectors.text.normalize import normalize
from bastion.errors import ConfigError

REQUIRED = sorted(
    [
        "bg",
        "cs",
        "da",
        "de",
        "el",
        "en",
        "es",
        "et",
        "fi",
        "fr",
        "ga",
        "hr",
        "hu",
        "it",
        "lt",
        "lv",
        "mt",
        "nl",
        "pl",
        "pt",
        "ro",
        "sk",
        "sl",
        "sv",
        "tr",
        "ar",
        "ms",
        "hi",
        "no",
        "ru",
        "ja",
        "zh",
    ]
)
FOLDER = resources.files("bastion.detectors.text").joinpath("lexicons")


def test_every_required_language_has_a_lexicon() -> None:
    present = sorted(
        p.name.removesuffix(".yaml") for p in FOLDER.iterdir() if p.name.endswith(".yaml")
    )
    assert [code for code in REQUIRED if code not in present] == []


@pytest.mark.parametrize("code", REQUIRED)
def test_lexicon_file_is_complete(code: str) -> None:
    resource = FOLDER.joinpath(f"{code}.yaml")
    if not resource.is_file():
        pytest.fail(f"{code}.yaml is missing")
    data = yaml.safe_load(resource.read_text("utf-8"))
    language, terms = parse_language(data, f"{code}.yaml")
    assert language.code == code
    labels = {label for label, *_ in terms}
    assert set(REQUIRED_LABELS) <= labels, f"{code}: missing lists {set(REQUIRED_LABELS) - labels}"
    assert "allow" in labels
    numbers = set(language.number_words.values()) | {v for _, v in language.number_phrases}
    assert set(range(1, 18)) <= numbers, f"{code}: number words 1..17"
    assert language.age_units, f"{code}: no age units"


def test_builtin_lexicon_loads_once() -> None:
    assert load_lexicon() is load_lexicon()
    assert load_lexicon().term_count > 1000


def lexicon(*terms: tuple[str, str]) -> Lexicon:
    return Lexicon([(label, "xx", raw, 0.9) for label, raw in terms], ())


def matches(lex: Lexicon, text: str) -> set[str]:
    normalized = normalize(text)
    found = set()
    for form in normalized.forms:
        found |= {hit.term.text for hit in lex.match(form, fuzzy=form.name == "deobfuscated")}
    return found


def test_term_syntax() -> None:
    lex = lexicon(
        ("sexual_explicit", "nackt*"),
        ("sexual_explicit", "*alasti*"),
        ("sexual_explicit", "remove .. clothes"),
        ("minor", "grade #"),
        ("sexual_suggestive", "see-through"),
        ("sexual_suggestive", "lingerie"),
    )
    assert matches(lex, "eine nackte Frau") == {"nackt*"}
    assert matches(lex, "täysalastiksi") == {"*alasti*"}
    assert matches(lex, "remove all of her clothes") == {"remove .. clothes"}
    assert matches(lex, "remove the hat, keep the clothes") == set()  # gap is at most 3 words
    assert matches(lex, "a girl in grade 7") == {"grade #"}
    assert matches(lex, "grade 40") == set()
    assert matches(lex, "see through blouse") == {"see-through"}
    assert matches(lex, "make it lingere") == {"lingerie"}  # one-edit misspelling


def test_fuzzy_matching_spares_look_alikes() -> None:
    lex = lexicon(("sexual_suggestive", "seductive"), ("sexual_suggestive", "erotica"))
    assert matches(lex, "a deductive reasoning poster") == set()
    assert matches(lex, "exotica music album cover") == set()
    assert matches(lex, "a seductiv pose") == {"seductive"}


@pytest.mark.parametrize(
    "data",
    [
        {"terms": {}},
        {"language": "xx", "terms": {"sexy": ["x"]}},
        {"language": "xx", "terms": {"minor": "child"}},
        {"language": "xx", "terms": {"minor": [{"term": "kid", "weight": 3}]}},
        {"language": "xx", "terms": {"minor": [42]}},
        {"language": "xx", "number_words": {"one": "1"}},
    ],
)
def test_bad_lexicon_files_are_config_errors(data: object) -> None:
    with pytest.raises(ConfigError):
        parse_language(data, "bad.yaml")


def test_short_prefix_is_refused() -> None:
    with pytest.raises(ConfigError, match="prefix too short"):
        lexicon(("sexual_explicit", "se*"))
