"""Look-alike letters across scripts: Cyrillic, Greek, Armenian, IPA and small capitals that
pass for Latin letters, and Latin letters that pass for Greek or Cyrillic ones.

The normaliser maps look-alikes to Latin inside words that also contain Latin letters; the
matcher uses the functions here for words written wholly in look-alikes and for words that
mix scripts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Letters from other scripts (and IPA/small capitals) that look like Latin letters.
CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "з": "3",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "ь": "b",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "һ": "h",
        "ӏ": "l",
        "п": "n",
        "г": "r",
        "и": "u",
        # Greek
        "α": "a",
        "β": "b",
        "γ": "y",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ω": "w",
        "μ": "u",
        "ϲ": "c",
        "ς": "s",
        "ζ": "z",
        # Armenian, IPA, small capitals and other Latin look-alikes
        "ո": "n",
        "ս": "u",
        "օ": "o",
        "ɑ": "a",
        "ɡ": "g",
        "ɩ": "i",
        "ɪ": "i",
        "ʏ": "y",
        "ᴀ": "a",
        "ʙ": "b",
        "ᴄ": "c",
        "ᴅ": "d",
        "ᴇ": "e",
        "ғ": "f",
        "ʜ": "h",
        "ᴊ": "j",
        "ᴋ": "k",
        "ʟ": "l",
        "ᴍ": "m",
        "ɴ": "n",
        "ᴏ": "o",
        "ᴘ": "p",
        "ʀ": "r",
        "ꜱ": "s",
        "ᴛ": "t",
        "ᴜ": "u",
        "ᴠ": "v",
        "ᴡ": "w",
        "ᴢ": "z",
        "ı": "i",
        "ȷ": "j",
        "ß": "ss",
    }
)

# Latin letters that pass for Greek or Cyrillic ones, for words that mix the scripts
# ("γyμvή" written with Latin y and v is "γυμνή").
_TO_GREEK = str.maketrans(
    {
        "a": "α",
        "b": "β",
        "e": "ε",
        "h": "η",
        "i": "ι",
        "k": "κ",
        "n": "η",
        "o": "ο",
        "p": "ρ",
        "t": "τ",
        "u": "υ",
        "v": "ν",
        "x": "χ",
        "y": "υ",
        "w": "ω",
        "z": "ζ",
    }
)
_TO_CYRILLIC = str.maketrans(
    {
        "a": "а",
        "b": "в",
        "c": "с",
        "e": "е",
        "h": "н",
        "k": "к",
        "m": "м",
        "o": "о",
        "p": "р",
        "t": "т",
        "x": "х",
        "y": "у",
        "i": "і",
        "3": "з",
        "r": "г",
        "n": "п",
        "u": "и",
    }
)
_LATIN = re.compile(r"[a-z]")
_GREEK = re.compile(r"[\u0370-\u03ff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def latin_lookalike(token: str) -> str | None:
    """A word written wholly in look-alike letters ("ѕеху") read as Latin, if it reads so."""
    if _LATIN.search(token):
        return None
    mapped = token.translate(CONFUSABLES)
    return mapped if mapped != token and mapped.isascii() else None


def script_variants(token: str) -> list[str]:
    """A word mixing Latin with Greek or Cyrillic letters, written wholly in the other script."""
    if not _LATIN.search(token):
        return []
    variants = []
    if _GREEK.search(token):
        variants.append(token.translate(_TO_GREEK))
    if _CYRILLIC.search(token):
        variants.append(token.translate(_TO_CYRILLIC))
    return variants


def mixed_script_alternatives(tokens: Sequence[str]) -> list[tuple[str, ...]]:
    """The token sequence with every mixed-script word written in its other script, for
    phrases ("cъблeчи я": Latin c and e inside a Bulgarian word)."""
    if not any(script_variants(t) for t in tokens):
        return []
    return [tuple((script_variants(t) or [t])[0] for t in tokens)]
