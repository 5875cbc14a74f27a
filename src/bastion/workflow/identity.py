"""Who a notifier is, for repeat-abuse measures: one canonical form per mailbox.

A suspended notifier must not come straight back as ``name+2@…``, ``Name@…`` or, at Gmail,
``n.a.m.e@…``. :func:`canonical_email` maps every spelling that reaches the same mailbox to
one string; only its keyed hash (``Workflow.ref``) is stored beside the notice.
"""

from __future__ import annotations

import contextlib
import unicodedata

# Providers where dots in the local part do not matter, and their aliases.
DOTLESS = frozenset({"gmail.com"})
ALIASES = {"googlemail.com": "gmail.com"}


def canonical_email(address: str) -> str:
    """The mailbox an address reaches: case-folded (NFKC), the domain in IDNA form without a
    trailing dot, the ``+tag`` sub-address dropped, and dots dropped where the provider
    ignores them. Not an address validator: anything without ``@`` is only case-folded."""
    text = unicodedata.normalize("NFKC", address).strip().casefold()
    local, at, domain = text.rpartition("@")
    if not at or not local:
        return text
    domain = domain.rstrip(".")
    with contextlib.suppress(UnicodeError):  # else kept as typed; still its own domain
        domain = domain.encode("idna").decode("ascii")
    domain = ALIASES.get(domain, domain)
    local = local.split("+", 1)[0] or local
    if domain in DOTLESS:
        local = local.replace(".", "") or local
    return f"{local}@{domain}"
