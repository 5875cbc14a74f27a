"""Personal-data guard for text that leaves for the Transparency Database (DSA Art. 24(5)).

Two tools: :func:`find_personal_data` reports what looks like personal data (e-mail addresses,
URLs, @handles, phone numbers, IP addresses, IBANs, titled names), and :func:`scrub` replaces
those and any *known* personal values of the case (the notifier's name and e-mail, account and
content ids, reported URLs) with ``[redacted]``. Statements are scrubbed when rendered and
validated (no finding allowed) before they are stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"

_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE),
    "url": re.compile(r"(?i)\b(?:https?://|www\.)\S+"),
    "handle": re.compile(r"(?<![\w@.])@[A-Za-z0-9_.]{2,}"),
    "ipv4": re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"),
    "ipv6": re.compile(r"(?i)\b(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{0,4}\b"),
    "iban": re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b"),
    "titled_name": re.compile(
        r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Herr|Frau|Madame|Monsieur|Mme|Sr|Sra)\.?\s+"
        r"[A-Z][\w'-]+"
    ),
}
# Runs of digits and separators with at least 8 digits: phone numbers, account numbers.
_DIGIT_RUN = re.compile(r"\+?\d[\d ().-]{6,}\d")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _digit_runs(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _DIGIT_RUN.finditer(text):
        value = match.group().strip()
        if sum(c.isdigit() for c in value) >= 8 and not _ISO_DATE.match(value):
            spans.append(match.span())
    return spans


def find_personal_data(text: str) -> list[str]:
    """The kinds of personal data found in ``text`` (empty when it looks clean)."""
    kinds = [kind for kind, pattern in _PATTERNS.items() if pattern.search(text)]
    if _digit_runs(text):
        kinds.append("number")
    return kinds


def scrub(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with personal data and the case's known personal values replaced."""
    values = sorted({v.strip() for v in known if v and len(v.strip()) >= 3}, key=len, reverse=True)
    for value in values:
        text = re.sub(rf"(?i)(?<!\w){re.escape(value)}(?!\w)", REDACTED, text)
        # Names also appear in parts ("Jane" for "Jane Doe").
        if " " in value and "@" not in value and "/" not in value:
            for part in value.split():
                if len(part) >= 3:
                    text = re.sub(rf"(?i)(?<!\w){re.escape(part)}(?!\w)", REDACTED, text)
    for pattern in _PATTERNS.values():
        text = pattern.sub(REDACTED, text)
    for start, end in reversed(_digit_runs(text)):
        text = text[:start] + REDACTED + text[end:]
    return text
