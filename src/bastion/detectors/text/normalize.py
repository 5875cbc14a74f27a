"""Text normalisation that defeats obfuscation, in two forms.

``plain``: NFKC, invisible characters removed, casefolded, accents folded, punctuation as word
breaks, digits split from letters. Matches ordinary text in every script, keeps numbers.

``deobfuscated``: ``plain`` plus look-alike letters mapped to Latin, leetspeak undone,
spaced-out letters and punctuation inside words joined, and repeated letters squeezed.

Lexicon terms go through the same functions, so both sides always agree. Every step that
changed the text is recorded, so a match can say "after confusables, leetspeak".
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bastion.detectors.text.scripts import CONFUSABLES

# Zero-width, joiners, bidi controls, soft hyphen, variation selectors, tag characters, fillers.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u0640\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]"
)

# Leetspeak, applied only inside words that also contain letters (pure numbers stay numbers).
_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "9": "g",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
        "€": "e",
        "+": "t",
        "£": "l",
    }
)
_LEET_CHARS = frozenset("01345789@$!|€+£")
# A word for leetspeak: word characters, and symbols that are followed by a word character
# ("n!ce", "$exy"), so that "naked!" keeps its exclamation mark as punctuation.
_LEET_WORD = re.compile(r"(?:[^\W_]|[@$!|€+£](?=[^\W_]))+")
_HAS_LETTER = re.compile(r"[^\W\d_]")

# Punctuation between letters ("n.a.k.e.d", "na-ked", "nak*ed") and spaced single letters.
_INNER_PUNCT = re.compile(r"(?<=[^\W\d_])[.\-_*'’`·•~^:,/\\]+(?=[^\W\d_])")
# Chinese characters, and Japanese kana (hiragana, katakana with its long-vowel mark).
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HIRAGANA = "\u3040-\u309f"
_KATAKANA = "\u30a0-\u30ff"
# A letter, digit or leetspeak symbol; never a CJK character, which is a word of its own.
_CHAR = rf"(?:(?![{_HAN}{_HIRAGANA}{_KATAKANA}])[^\W_]|[@$!|€+£])"
# Three or more single characters separated by anything that is not a word character.
_SPACED = re.compile(rf"(?<![^\W_])(?:{_CHAR}(?:[^\w@$!|€+£]|_)+){{2,}}{_CHAR}(?![^\W_])")
_SEPARATORS = re.compile(r"(?:[^\w@$!|€+£]|_)+")
_REPEAT = re.compile(r"([^\W\d_])\1+")  # runs of a repeated letter (numbers keep digits)
_STRETCHED = re.compile(r"([^\W\d_])\1\1")  # three or more: "naaaked", "sexxxy"
_LONG_RUN = re.compile(r"([^\W\d_])\1{2,}")
_DIGIT_LETTER = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)")


def _mark_class() -> str:
    """Combining marks (categories Mn, Mc, Me) of the Basic Multilingual Plane as a regex
    class body. Python's ``\\w`` leaves out vowel signs, so Devanagari words would fall
    apart ("नंगी" → "न", "ग") without them."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x300, 0x10000):
        if unicodedata.category(chr(code)).startswith("M"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)


# A word: letters and digits with their combining marks (never starting with a mark).
_MARKS = _mark_class()
_WORD = re.compile(rf"[^\W_](?:[^\W_]|[{_MARKS}])*")


@dataclass(frozen=True, slots=True)
class Form:
    """One normalised form: its tokens, and the steps that changed the text to get there."""

    name: str
    tokens: tuple[str, ...]
    steps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Normalized:
    plain: Form
    deobfuscated: Form

    @property
    def forms(self) -> tuple[Form, Form]:
        return (self.plain, self.deobfuscated)


# Kana voicing marks are letters, not accents: ビ is not ヒ.
_KANA_VOICING = frozenset("\u3099\u309a")


def fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    if decomposed.isascii():
        return decomposed
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c) or c in _KANA_VOICING)
    return unicodedata.normalize("NFC", stripped)


def _base(text: str) -> tuple[str, list[str]]:
    steps: list[str] = []
    out = unicodedata.normalize("NFKC", text)
    if out != text:
        steps.append("unicode_compatibility")
    cleaned = _INVISIBLE.sub("", out)
    if cleaned != out:
        steps.append("invisible_characters")
    out = fold_accents(cleaned.casefold())
    return out, steps


def _leet_word(match: re.Match[str]) -> str:
    word = match.group()
    if _HAS_LETTER.search(word) and any(c in _LEET_CHARS for c in word):
        return word.translate(_LEET)
    return word


# A word with at least one ASCII letter: only such words get look-alikes mapped to Latin, so
# "nаkеd" (Cyrillic а, е) reads "naked" while Bulgarian "пие" stays Bulgarian, not "nue".
_MIXED_WORD = re.compile(r"[^\W_]*[a-z][^\W_]*")


def _unconfuse(match: re.Match[str]) -> str:
    return match.group().translate(CONFUSABLES)


def _join_spaced(match: re.Match[str]) -> str:
    """Join spaced-out letters. A separator other than the usual one in the run is a word
    break: "S c a r l e t t  J o h a n s s o n" and "o g-o-a-l-ă" keep their words."""
    run = match.group()
    if not _HAS_LETTER.search(run):  # "1 4" stays two numbers
        return run
    pieces = _SEPARATORS.split(run)
    separators = _SEPARATORS.findall(run)
    usual = Counter(separators).most_common(1)[0][0]
    words, current = [], pieces[0]
    for separator, piece in zip(separators, pieces[1:], strict=True):
        if separator == usual:
            current += piece
        else:
            words.append(current)
            current = piece
    words.append(current)
    return " ".join(words)


# Chinese and Japanese are written without spaces. Every Han character is a token, and so is
# every run of one kana script ("女の子にビキニを" → 女 の 子 に ビキニ を), so that lexicon
# terms in those scripts are phrases of such tokens ("比基尼" → 比 基 尼), matched like any other.
_CJK_WORD = re.compile(rf"[{_HAN}]|[{_HIRAGANA}]+|[{_KATAKANA}]+")


def _split_cjk(text: str) -> str:
    if text.isascii():
        return text
    return _CJK_WORD.sub(lambda m: f" {m.group()} ", text)


def _plain_tokens(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(_DIGIT_LETTER.sub(" ", _split_cjk(text))))


# Repeated letters are not squeezed here (that would turn "teen" into "ten"): the matcher
# tries each run of a repeated letter once and twice ("naaaked", "sexxy" → "naked", "sexy").
_DEOBFUSCATION: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("confusables", lambda s: _MIXED_WORD.sub(_unconfuse, s)),
    ("letter_spacing", lambda s: _SPACED.sub(_join_spaced, s)),
    ("leetspeak", lambda s: _LEET_WORD.sub(_leet_word, s)),
    ("punctuation_in_words", lambda s: _INNER_PUNCT.sub("", s)),
)
_MAX_ROUNDS = 4


def _deobfuscate(text: str, steps: list[str]) -> tuple[str, ...]:
    current = _split_cjk(text)
    for name, transform in _DEOBFUSCATION:
        changed = transform(current)
        if changed != current:
            if name not in steps:
                steps.append(name)
            current = changed
    # Accents can come back through confusable mapping (e.g. "ё"); fold once more.
    return tuple(_WORD.findall(_split_cjk(fold_accents(current))))


def letter_variants(token: str, limit: int = 8) -> list[str]:
    """The token with each run of a repeated letter written once or twice (not the token
    itself): "naaaked" → ["naked", "naaked"]; "sexxy" → ["sexy"]."""
    runs = list(_REPEAT.finditer(token))
    if not runs:
        return []
    variants = [""]
    last = 0
    for run in runs[:3]:
        head = token[last : run.start()]
        letter = run.group(1)
        options = [letter, letter * 2]
        variants = [v + head + o for v in variants for o in options]
        last = run.end()
    tail = token[last:]
    return [v + tail for v in variants if v + tail != token][:limit]


def stretched_alternatives(tokens: Sequence[str]) -> list[tuple[str, ...]]:
    """For words with a letter written three or more times ("auuus", "gooolom"), the token
    sequence with such runs written once, and written twice."""
    if not any(_STRETCHED.search(t) for t in tokens):
        return []
    once = tuple(_LONG_RUN.sub(r"\1", t) for t in tokens)
    twice = tuple(_LONG_RUN.sub(r"\1\1", t) for t in tokens)
    return [once, twice]


def normalize(text: str) -> Normalized:
    base, steps = _base(text)
    plain = Form("plain", _plain_tokens(base), tuple(steps))
    deob_steps = list(steps)
    if _STRETCHED.search(base):
        deob_steps.append("repeated_letters")
    tokens = _deobfuscate(base, deob_steps)
    # The deobfuscated form is a fixed point: deobfuscating its words again changes nothing.
    # Rare inputs (single letters split by symbols the tokenizer drops) need a second round.
    for _ in range(_MAX_ROUNDS):
        again = _deobfuscate(" ".join(tokens), deob_steps)
        if again == tokens:
            break
        tokens = again
    return Normalized(plain, Form("deobfuscated", tokens, tuple(deob_steps)))


@lru_cache(maxsize=65536)
def term_forms(term: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Normalise a lexicon token sequence the same way as text: (plain, deobfuscated)."""
    normalized = normalize(term)
    return normalized.plain.tokens, normalized.deobfuscated.tokens


def canonical(text: str) -> str:
    """The deobfuscated form as one string: idempotent (``canonical(canonical(x)) == x``)."""
    return " ".join(normalize(text).deobfuscated.tokens)
