"""Frozen inputs. A ``Prompt`` is validated text; bad input is a typed error, never a crash."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from bastion.errors import InputTooLarge, InvalidInput

if TYPE_CHECKING:
    from bastion.decode import Decoded, ImageLimits

T = TypeVar("T")

# Control characters (Unicode category Cc) other than tab, newline and carriage return, and
# lone surrogates (which can arrive through JSON escapes), never belong in a prompt.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Prompt:
    text: str

    @classmethod
    def parse(cls, value: object, *, max_chars: int) -> Prompt:
        """Validate untrusted input and return a Prompt, or raise a typed error."""
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInput(
                    f"prompt is not valid UTF-8 (byte {exc.start})", field="prompt"
                ) from exc
        if not isinstance(value, str):
            raise InvalidInput(
                f"prompt must be a string, got {type(value).__name__}", field="prompt"
            )
        if len(value) > max_chars:
            raise InputTooLarge(
                f"prompt has {len(value)} characters; the limit is {max_chars}", field="prompt"
            )
        if not value.strip():
            raise InvalidInput("prompt is empty", field="prompt")
        bad = _FORBIDDEN.search(value)
        if bad is not None:
            kind = (
                "a lone surrogate" if "\ud800" <= bad.group() <= "\udfff" else "control character"
            )
            raise InvalidInput(
                f"prompt contains {kind} U+{ord(bad.group()):04X} at position {bad.start()}",
                field="prompt",
            )
        return cls(value)


# Magic numbers of the image formats Bastion accepts, for a cheap first check.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"ftypheic", 4, "image/heic"),
    (b"ftypheix", 4, "image/heic"),
    (b"ftypmif1", 4, "image/heif"),
    (b"ftypavif", 4, "image/avif"),
    (b"ftypavis", 4, "image/avif"),
    (b"BM", 0, "image/bmp"),
    (b"II*\x00", 0, "image/tiff"),
    (b"MM\x00*", 0, "image/tiff"),
)


def sniff_media_type(data: bytes) -> str | None:
    for magic, offset, media_type in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            if media_type == "image/webp" and data[:4] != b"RIFF":
                continue
            return media_type
    return None


@dataclass(frozen=True, slots=True)
class Image:
    """Image bytes as received: size-checked and sniffed, hashed, decoded lazily and safely.

    :meth:`decoded` decodes once within ``limits`` (see :mod:`bastion.decode`) and keeps the
    result; :meth:`cached` keeps anything derived from it (model inputs, detections), so one
    preprocessing pass per image is shared by every detector, also across threads.
    """

    data: bytes
    media_type: str
    sha256: str
    limits: ImageLimits | None = field(default=None, compare=False, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _locks: dict[str, threading.Lock] = field(default_factory=dict, compare=False, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @classmethod
    def from_bytes(cls, data: bytes, *, max_bytes: int, limits: ImageLimits | None = None) -> Image:
        if not data:
            raise InvalidInput("image is empty", field="image")
        if len(data) > max_bytes:
            raise InputTooLarge(
                f"image has {len(data)} bytes; the limit is {max_bytes}", field="image"
            )
        media_type = sniff_media_type(data)
        if media_type is None:
            raise InvalidInput(
                "image format not recognised (not JPEG/PNG/GIF/WebP/HEIC/AVIF)", field="image"
            )
        return cls(
            data=data,
            media_type=media_type,
            sha256=hashlib.sha256(data).hexdigest(),
            limits=limits,
        )

    def decoded(self) -> Decoded:
        """The first frame as RGB within the limits; raises InvalidInput (once per call)."""
        from bastion.decode import ImageLimits, decode

        limits = self.limits or ImageLimits()
        return self.cached("decoded", lambda: decode(self.data, self.media_type, limits))

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per image and key; concurrent callers wait for the first."""
        with self._guard:
            if key in self._cache:
                return self._cache[key]  # type: ignore[no-any-return]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._cache:
                    return self._cache[key]  # type: ignore[no-any-return]
            value = compute()
            with self._guard:
                self._cache[key] = value
            return value
