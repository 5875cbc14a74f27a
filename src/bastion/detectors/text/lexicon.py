"""Multilingual lexicons compiled once into a token matcher (the files: lexicon_files.py).

Every language's terms are matched against every prompt: matching never depends on guessing
the language (code-switched prompts exist). Term syntax (see lexicons/README.md): words match
whole tokens; ``word*`` is a prefix, ``*word*`` an infix, ``..`` a gap of 0-3 words, ``#`` a
number from 1 to 13. An entry may be ``{term: ..., weight: 0.4}`` for a weaker signal.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from bastion.detectors.text.normalize import (
    Form,
    letter_variants,
    stretched_alternatives,
    term_forms,
)
from bastion.detectors.text.scripts import (
    latin_lookalike,
    mixed_script_alternatives,
    script_variants,
)
from bastion.errors import ConfigError

GAP_MAX = 3
# Lists whose words are never matched as misspellings (context, not signals).
_NOT_FUZZY = frozenset(
    {"allow", "person", "clothing", "reduction", "swim_context", "plain_swimwear"}
)
NUMBER_MAX = 13  # '#' in a term: a school grade or year number

# Token pattern kinds.
EXACT, PREFIX, INFIX, GAP, NUMBER = "exact", "prefix", "infix", "gap", "number"


@dataclass(frozen=True, slots=True)
class Term:
    label: str
    language: str
    text: str
    pattern: tuple[tuple[str, str], ...]
    weight: float


@dataclass(frozen=True, slots=True)
class Hit:
    term: Term
    start: int
    end: int  # exclusive
    matched: str
    form: str
    fuzzy: str | None = None  # the lexicon word a misspelt token was matched to


@dataclass
class _Index:
    exact: dict[str, list[Term]] = field(default_factory=lambda: defaultdict(list))
    # Phrases whose first two words are plain words ("make her …", "the photo"), by that
    # pair: common first words start hundreds of phrases, and the pair rules most out at once.
    pairs: dict[tuple[str, str], list[Term]] = field(default_factory=lambda: defaultdict(list))
    prefix: dict[str, list[Term]] = field(default_factory=lambda: defaultdict(list))
    prefix_lengths: set[int] = field(default_factory=set)
    infix: dict[str, list[Term]] = field(default_factory=lambda: defaultdict(list))
    infix_regex: re.Pattern[str] | None = None
    # Deletion neighbourhood of single-word exact terms, for one-edit misspellings.
    deletes: dict[str, list[tuple[str, Term]]] = field(default_factory=lambda: defaultdict(list))
    words: dict[str, list[Term]] = field(default_factory=lambda: defaultdict(list))


@dataclass(frozen=True, slots=True)
class LanguageData:
    code: str
    name: str
    age_units: tuple[str, ...]  # raw terms (term syntax applies)
    age_before: tuple[str, ...]
    number_words: Mapping[str, int]  # one normalised word -> number
    number_phrases: tuple[tuple[str, int], ...] = ()  # several words ("on dört") -> number


def _pattern(raw: str, form_index: int, *, label: str = "") -> tuple[tuple[str, str], ...]:
    """Compile one term into token patterns for the plain (0) or deobfuscated (1) form.

    An allow-listed phrase also covers inflections of its last word ("blue tit" covers
    "blue tits", "naked mole rat" covers "naked mole-rats").
    """
    out: list[tuple[str, str]] = []
    for word in raw.split():
        if word == "..":
            out.append((GAP, ""))
            continue
        if word == "#":
            out.append((NUMBER, ""))
            continue
        infix = word.startswith("*") and word.endswith("*") and len(word) > 2
        prefix = not infix and word.endswith("*")
        core = word.strip("*")
        tokens = term_forms(core)[form_index]
        if not tokens:
            continue
        for token in tokens[:-1]:
            out.append((EXACT, token))
        last = tokens[-1]
        if infix and len(tokens) == 1:
            out.append((INFIX, last))
        elif prefix or infix:
            out.append((PREFIX, last))
        else:
            out.append((EXACT, last))
    while out and out[0][0] == GAP:
        out.pop(0)
    while out and out[-1][0] == GAP:
        out.pop()
    if label == "allow" and out and out[-1][0] == EXACT and len(out[-1][1]) >= 3:
        out[-1] = (PREFIX, out[-1][1])
    return tuple(out)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Lexicon:
    """All languages' terms, indexed for both normalised forms."""

    FUZZY_MIN_LEN = 7  # one edit of any kind
    SHORT_FUZZY_MIN_LEN = 4  # two swapped letters ("nued"); a dropped inner letter from 5 ("nakd")

    def __init__(
        self, terms: Iterable[tuple[str, str, str, float]], languages: Sequence[LanguageData]
    ):
        self.languages = tuple(languages)
        self._indexes = (_Index(), _Index())
        count = 0
        for label, language, raw, weight in terms:
            count += 1
            for form_index, index in enumerate(self._indexes):
                pattern = _pattern(raw, form_index, label=label)
                if not pattern:
                    continue
                term = Term(label, language, raw, pattern, weight)
                kind, value = pattern[0]
                if kind == EXACT and len(pattern) > 1 and pattern[1][0] == EXACT:
                    index.pairs[(value, pattern[1][1])].append(term)
                elif kind == EXACT:
                    index.exact[value].append(term)
                    if (
                        form_index == 1
                        and len(pattern) == 1
                        and len(value) >= self.SHORT_FUZZY_MIN_LEN
                        and label
                        not in (
                            "allow",
                            "person",
                            "clothing",
                            "reduction",
                            "swim_context",
                            "plain_swimwear",
                        )
                    ):
                        index.words[value].append(term)
                        for deleted in _deletes(value):
                            index.deletes[deleted].append((value, term))
                elif kind == PREFIX:
                    if len(value) < 3:
                        raise ConfigError(f"lexicon {language}: prefix too short in {raw!r}")
                    index.prefix[value].append(term)
                    index.prefix_lengths.add(len(value))
                elif kind == INFIX:
                    if len(value) < 4:
                        raise ConfigError(f"lexicon {language}: infix too short in {raw!r}")
                    index.infix[value].append(term)
                else:
                    raise ConfigError(f"lexicon {language}: term {raw!r} cannot start with {kind}")
        for index in self._indexes:
            if index.infix:
                alternatives = sorted(index.infix, key=len, reverse=True)
                index.infix_regex = re.compile("|".join(map(re.escape, alternatives)))
        self.term_count = count

    def plain_exact_terms(self) -> Mapping[str, list[Term]]:
        """Terms indexed by their first word in the plain form (for baselines and tooling)."""
        return self._indexes[0].exact

    # -- matching -----------------------------------------------------------------------------

    def _first(self, index: _Index, token: str) -> Iterator[tuple[Term, str | None]]:
        for term in index.exact.get(token, ()):
            yield term, None
        for length in index.prefix_lengths:
            if length <= len(token):
                for term in index.prefix.get(token[:length], ()):
                    yield term, None
        if index.infix_regex is not None and len(token) >= 4:
            for found in set(index.infix_regex.findall(token)):
                for term in index.infix[found]:
                    yield term, None

    def _fuzzy(self, index: _Index, token: str) -> Iterator[tuple[Term, str]]:
        """Single-word terms one typo away. Typos rarely hit the first letters, so the first
        two must agree: that spares "deductive"/"seductive", "exotica"/"erotica", "beast"."""
        if len(token) < 4 or token in index.exact:
            return
        seen: set[tuple[str, str]] = set()

        def once(word: str, term: Term) -> bool:
            key = (word, term.label)
            if key in seen:
                return False
            seen.add(key)
            return True

        # A dropped inner letter ("nakd" for "naked"); never the last letter ("puss").
        for word, term in index.deletes.get(token, ()):
            if len(word) < 5 or word[:2] != token[:2] or word[:-1] == token:
                continue
            if once(word, term):
                yield term, word
        # Two neighbouring letters swapped ("nued" for "nude"), not the first one.
        for i in range(1, len(token) - 1):
            swapped = token[:i] + token[i + 1] + token[i] + token[i + 2 :]
            for term in index.words.get(swapped, ()):
                if once(swapped, term):
                    yield term, swapped
        if len(token) < self.FUZZY_MIN_LEN - 1:
            return
        # Any one edit for long words ("lingere", "seductiv", "undresed").
        for candidate in (token, *_deletes(token)):
            for word, term in index.deletes.get(candidate, ()):
                if len(word) < self.FUZZY_MIN_LEN or word[:2] != token[:2]:
                    continue
                if abs(len(word) - len(token)) <= 1 and once(word, term):
                    yield term, word

    @staticmethod
    def _token_ok(kind: str, value: str, token: str) -> bool:
        if kind == EXACT:
            return token == value
        if kind == PREFIX:
            return token.startswith(value)
        if kind == INFIX:
            return value in token
        if kind == NUMBER:
            return token.isdigit() and 1 <= int(token) <= NUMBER_MAX
        return False

    def _rest(self, pattern: Sequence[tuple[str, str]], tokens: Sequence[str], pos: int) -> int:
        """Match ``pattern`` from ``pos``; return the end position or -1."""
        if not pattern:
            return pos
        kind, value = pattern[0]
        if kind == GAP:
            for skip in range(GAP_MAX + 1):
                end = self._rest(pattern[1:], tokens, pos + skip)
                if end >= 0:
                    return end
            return -1
        if pos < len(tokens) and self._token_ok(kind, value, tokens[pos]):
            return self._rest(pattern[1:], tokens, pos + 1)
        return -1

    def match(
        self,
        form: Form,
        *,
        fuzzy: bool = False,
        rejoin: bool = False,
        common: frozenset[str] = frozenset(),
    ) -> list[Hit]:
        """Every term occurrence in ``form``.

        ``fuzzy`` also matches one-typo variants of single words; ``rejoin`` also tries two
        neighbouring tokens as one word when one is very short ("na ked", "l ingerie"): for
        prompts that show signs of obfuscation only, since ordinary text has "pen is".
        In the deobfuscated form, stretched letters ("naaaked", "zieh sie auuus") are tried
        once and twice. A token in ``common`` (an ordinary word of some language) is taken as
        written: never corrected by typo matching, letter variants or joining.
        """
        index = self._indexes[0 if form.name == "plain" else 1]
        hits = self._match_tokens(
            index, form.tokens, form.name, fuzzy=fuzzy, rejoin=rejoin, common=common
        )
        alternatives = (
            stretched_alternatives(form.tokens)
            if form.name == "deobfuscated"
            else mixed_script_alternatives(form.tokens)
        )
        if alternatives:
            for alternative in alternatives:
                hits += [
                    replace(hit, matched=" ".join(form.tokens[hit.start : hit.end]))
                    for hit in self._match_tokens(index, alternative, form.name)
                    if len(hit.term.pattern) > 1
                ]
        return hits

    def _match_tokens(
        self,
        index: _Index,
        tokens: Sequence[str],
        form_name: str,
        *,
        fuzzy: bool = False,
        rejoin: bool = False,
        common: frozenset[str] = frozenset(),
    ) -> list[Hit]:
        hits: list[Hit] = []
        for pos, token in enumerate(tokens):
            if pos + 1 < len(tokens):
                for term in index.pairs.get((token, tokens[pos + 1]), ()):
                    end = self._rest(term.pattern[2:], tokens, pos + 2)
                    if end >= 0:
                        hits.append(Hit(term, pos, end, " ".join(tokens[pos:end]), form_name))
            for term, _ in self._first(index, token):
                end = self._rest(term.pattern[1:], tokens, pos + 1)
                if end >= 0:
                    hits.append(Hit(term, pos, end, " ".join(tokens[pos:end]), form_name))
            if token in common:
                # An ordinary word somewhere: no corrections, except into nudity words, which
                # only count next to a person ("mach sie nakt": Latvian "nākt" is "to come").
                if fuzzy:
                    for term, word in self._fuzzy(index, token):
                        if term.label == "nudity":
                            hits.append(Hit(term, pos, pos + 1, token, form_name, fuzzy=word))
                continue
            if form_name == "plain":
                for variant in script_variants(token):
                    for term, _ in self._first(index, variant):
                        if len(term.pattern) == 1:
                            hits.append(Hit(term, pos, pos + 1, token, form_name, fuzzy=variant))
            if form_name == "deobfuscated":
                # A whole word in look-alike letters, unless it is a real word ("пие").
                lookalike = latin_lookalike(token)
                if lookalike is not None:
                    for term, _ in self._first(index, lookalike):
                        if len(term.pattern) == 1:
                            hits.append(Hit(term, pos, pos + 1, token, form_name, fuzzy=lookalike))
                for variant in letter_variants(token):
                    for term, _ in self._first(index, variant):
                        if len(term.pattern) == 1:
                            hits.append(Hit(term, pos, pos + 1, token, form_name))
            if fuzzy:
                for term, word in self._fuzzy(index, token):
                    hits.append(Hit(term, pos, pos + 1, token, form_name, fuzzy=word))
            if rejoin and pos + 1 < len(tokens) and tokens[pos + 1] not in common:
                joined = token + tokens[pos + 1]
                if len(joined) >= 5 and min(len(token), len(tokens[pos + 1])) <= 3:
                    for term in index.words.get(joined, ()):
                        hits.append(Hit(term, pos, pos + 2, joined, form_name, fuzzy=joined))
        return hits
