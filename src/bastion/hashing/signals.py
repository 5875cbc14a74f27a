"""Signal types and hash values: PDQ (matched by distance) and SHA-256 (exact identity, for
stay-down); the shape leaves room for vPDQ (video) later.

A ``SignalType`` names a kind of hash (a storage key: ``pdq``) and knows its width and how to
parse and format it. A ``Hash`` is one value of a signal type; a video signal (vPDQ) will be a
sequence of per-frame ``Hash`` values with timestamps under its own signal type, matched
through the same index. ``Hash`` values are immutable and compare by value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from bastion.errors import InvalidInput


class SignalType(StrEnum):
    """Kinds of hash Bastion stores. Names are storage keys and match python-threatexchange."""

    PDQ = "pdq"
    # The exact bytes: stay-down keeps removed content's SHA-256 beside its PDQ hash. Looked up
    # by equality, never put into the Hamming index.
    SHA256 = "sha256"

    @property
    def bits(self) -> int:
        return _BITS[self]


_BITS = {SignalType.PDQ: 256, SignalType.SHA256: 256}
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")

# PDQ facts from the reference implementation's documentation.
PDQ_MATCH_DISTANCE = 31  # the usual "confident match" Hamming distance
PDQ_MIN_QUALITY = 50  # hashes of quality below this are unreliable (flat or tiny images)


@dataclass(frozen=True, slots=True)
class Hash:
    """One hash value: 256 bits for PDQ, kept as 32 big-endian bytes (the hex order)."""

    signal_type: SignalType
    value: bytes

    def __post_init__(self) -> None:
        if len(self.value) * 8 != self.signal_type.bits:
            raise InvalidInput(
                f"a {self.signal_type.value} hash has {self.signal_type.bits} bits, "
                f"got {len(self.value) * 8}",
                field="hash",
            )

    @classmethod
    def parse(cls, text: object, signal_type: SignalType | str = SignalType.PDQ) -> Hash:
        """Parse a hex hash (the format HMA, python-threatexchange, NCMEC and StopNCII use)."""
        try:
            kind = SignalType(signal_type)
        except ValueError:
            raise InvalidInput(
                f"unknown signal type {signal_type!r}; known: "
                f"{', '.join(s.value for s in SignalType)}",
                field="signal_type",
            ) from None
        if not isinstance(text, str) or not _HEX64.match(text.strip()):
            shown = repr(text)[:80]
            raise InvalidInput(
                f"a {kind.value} hash is 64 hexadecimal characters, got {shown}", field="hash"
            )
        return cls(kind, bytes.fromhex(text.strip()))

    @classmethod
    def from_bits(cls, bits: np.ndarray, signal_type: SignalType = SignalType.PDQ) -> Hash:
        """From a boolean vector whose first element is the most significant bit."""
        return cls(signal_type, np.packbits(np.asarray(bits, dtype=bool)).tobytes())

    @property
    def hex(self) -> str:
        return self.value.hex()

    def distance(self, other: Hash) -> int:
        if other.signal_type is not self.signal_type:
            raise InvalidInput("cannot compare hashes of different signal types")
        a = int.from_bytes(self.value, "big")
        b = int.from_bytes(other.value, "big")
        return (a ^ b).bit_count()

    def __str__(self) -> str:
        return self.hex
