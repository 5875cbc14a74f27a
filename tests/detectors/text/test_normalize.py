"""The normaliser undoes obfuscation, never crashes and is idempotent."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.detectors.text.normalize import canonical, letter_variants, normalize


@pytest.mark.parametrize(
    ("text", "expected", "step"),
    [
        ("n a k e d", "naked", "letter_spacing"),
        ("n.a.k.e.d", "naked", "letter_spacing"),
        ("n-a-k-e-d", "naked", "letter_spacing"),
        ("n4k3d", "naked", "leetspeak"),
        ("n 4 k 3 d", "naked", "leetspeak"),
        ("$exy", "sexy", "leetspeak"),
        ("l1ng3r1e", "lingerie", "leetspeak"),
        ("nаkеd", "naked", "confusables"),  # Cyrillic а, е
        ("ναked", "vaked", "confusables"),  # Greek ν looks like v: mapped as seen
        ("na\u200bked", "naked", "invisible_characters"),
        ("na\u00adked", "naked", "invisible_characters"),
        ("na\u2060ked", "naked", "invisible_characters"),
        ("ｎａｋｅｄ", "naked", "unicode_compatibility"),
        ("𝐧𝐚𝐤𝐞𝐝", "naked", "unicode_compatibility"),
        ("naaaaked", "naaaaked", "repeated_letters"),
        ("na.ked", "naked", "punctuation_in_words"),
        ("nak*ed", "naked", "punctuation_in_words"),
        ("NACKTE", "nackte", None),
        ("déshabillée", "deshabillee", None),
    ],
)
def test_obfuscations_are_undone(text: str, expected: str, step: str | None) -> None:
    normalized = normalize(text)
    assert expected in normalized.deobfuscated.tokens
    if step:
        assert step in normalized.deobfuscated.steps


def test_numbers_survive_in_the_plain_form() -> None:
    normalized = normalize("she is 14yo")
    assert normalized.plain.tokens == ("she", "is", "14", "yo")


def test_punctuation_after_a_word_is_not_leetspeak() -> None:
    assert normalize("wow!").deobfuscated.tokens == ("wow",)
    assert normalize("price 15$").plain.tokens == ("price", "15")


def test_scripts_other_than_latin_are_kept_in_the_plain_form() -> None:
    assert normalize("голая девушка").plain.tokens == ("голая", "девушка")
    assert normalize("عارية").plain.tokens == ("عارية",)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_never_crashes_and_is_idempotent(text: str) -> None:
    once = canonical(text)
    assert canonical(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=100))
def test_forms_are_tokens_of_word_characters(text: str) -> None:
    normalized = normalize(text)
    for form in normalized.forms:
        assert all(token and not any(c.isspace() for c in token) for token in form.tokens)


def test_repeated_letters_are_tried_once_and_twice() -> None:
    assert "naked" in letter_variants("naaaaked")
    assert "teen" in letter_variants("teeeen")
    assert "boobs" in letter_variants("booooobs")
    assert letter_variants("naked") == []
    # Ordinary double letters stay as written in the form itself ("teen" is not "ten").
    assert normalize("teen tennis").deobfuscated.tokens == ("teen", "tennis")
