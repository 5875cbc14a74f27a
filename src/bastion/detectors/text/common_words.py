"""Common words of the languages Bastion reads (wordfreq's lists, shipped in its wheel).

Typo matching, letter-run variants and split-word joining "correct" a word into a lexicon term.
That must never happen to a word that is ordinary in some language: Malay "tangga" (stairs) is
not a misspelt "tanga", Latvian "seši" (six) is not "seksi", Italian "colli" is not "coli".
Exact matching is unaffected: a common word that IS a term still matches.

wordfreq holds whole frequency tables in memory while it reads them (hundreds of MB), so the
folded word set is built once in a child process and cached as a small text file
(``$XDG_CACHE_HOME/bastion`` or ``~/.cache/bastion``); a serving process only reads that file.
"""

from __future__ import annotations

import gzip
import logging
import os
import subprocess
import sys
import tempfile
from functools import cache
from importlib import metadata
from pathlib import Path

from bastion.detectors.text.normalize import fold_accents
from bastion.errors import ConfigError

# wordfreq language codes (Croatian, Serbian and Bosnian are one list, "sh"; Norwegian "nb").
LANGUAGES = (
    *("en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "nb", "fi", "pl", "cs", "sk"),
    *("sl", "sh", "hu", "ro", "bg", "el", "lt", "lv", "tr", "ar", "ms", "id", "hi", "ca"),
    *("ru", "uk"),
)
WORDS_PER_LANGUAGE = 25_000


def cache_path() -> Path:
    """``$XDG_CACHE_HOME/bastion`` (or ``~/.cache/bastion``); the system temporary directory
    when that cannot be written (read-only homes in containers)."""
    name = f"common-words-{metadata.version('wordfreq')}-{WORDS_PER_LANGUAGE}.txt.gz"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bastion"
    try:
        base.mkdir(parents=True, exist_ok=True)
        if os.access(base, os.W_OK):
            return base / name
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / f"bastion-{name}"


def build(path: Path) -> None:
    """Write the folded common words to ``path`` (run in a child process)."""
    import wordfreq

    logging.getLogger("wordfreq").setLevel(logging.ERROR)
    words: set[str] = set()
    for language in LANGUAGES:
        try:
            listed = wordfreq.top_n_list(language, WORDS_PER_LANGUAGE)
        except LookupError:  # pragma: no cover - depends on the installed wordfreq data
            continue
        words.update(fold_accents(word.casefold()) for word in listed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as handle:
        handle.write(gzip.compress("\n".join(sorted(words)).encode("utf-8")))
    os.replace(handle.name, path)  # atomic: concurrent builders never see half a file


@cache
def common_words() -> frozenset[str]:
    path = cache_path()
    if not path.exists():
        code = "import sys, pathlib; from bastion.detectors.text.common_words import build; "
        code += "build(pathlib.Path(sys.argv[1]))"
        result = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise ConfigError(f"cannot build the common-word list: {result.stderr[-500:]}")
    try:
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        path.unlink(missing_ok=True)
        raise ConfigError(f"the common-word cache {path} was unreadable; it was removed") from exc
    return frozenset(text.split("\n"))
