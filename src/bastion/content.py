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
    from bastion.decode import Header, ImageLimits
    from bastion.decode_views import Decoded, Luma

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

    Decoding goes through the one intake (:mod:`bastion.decode`) within ``limits``, once per
    request: :meth:`prepare` makes every view a check needs in one pass (analysis RGB for the
    models, luma for PDQ) and keeps them; :meth:`decoded` and :meth:`luma` read them (decoding
    on first use if nothing was prepared). An animated image has one view per screened frame:
    :meth:`frames` returns an ``Image`` per frame (the image itself for a still). :meth:`cached`
    keeps anything derived from a view (model inputs, detections), so one preprocessing pass
    per frame is shared by every detector, also across threads.
    """

    data: bytes
    media_type: str
    sha256: str
    limits: ImageLimits | None = field(default=None, compare=False, repr=False)
    frame: int = field(default=0, compare=False)  # which frame this view stands for
    _root: Image | None = field(default=None, compare=False, repr=False)
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

    def with_limits(self, limits: ImageLimits) -> Image:
        """This image under ``limits`` (itself when it already has limits)."""
        if self.limits is not None:
            return self
        return Image(self.data, self.media_type, self.sha256, limits)

    def prepare(self, *, rgb: bool = True, luma: bool = True) -> Image:
        """Decode the views not made yet (of every screened frame) in one pass; typed errors."""
        root = self._root or self
        from bastion.decode import ImageLimits
        from bastion.decode_views import decode_views

        with root._lock("views"):
            missing = [k for k, w in ((_RGB, rgb), (_LUMA, luma)) if w and k not in root._cache]
            if not missing:
                return self
            views = decode_views(
                root.data,
                root.media_type,
                root.limits or ImageLimits(),
                rgb=_RGB in missing,
                luma=_LUMA in missing,
            )
            frames = root._cache.get(_FRAMES) or tuple(
                root if f.index == 0 else root._frame(f.index) for f in views.frames
            )
            for view, image in zip(views.frames, frames, strict=True):
                with image._guard:
                    if view.rgb is not None:
                        image._cache[_RGB] = view.rgb
                    if view.luma is not None:
                        image._cache[_LUMA] = view.luma
            with root._guard:
                root._cache[_FRAMES] = frames
                root._cache.setdefault(_HEADER, views.header)
        return self

    def decoded(self) -> Decoded:
        """This frame as analysis RGB within the limits; raises InvalidInput."""
        return self._view(_RGB, rgb=True, luma=False)  # type: ignore[no-any-return]

    def luma(self) -> Luma:
        """This frame's PDQ luma (no EXIF turn; reduced where PDQ allows); raises InvalidInput."""
        return self._view(_LUMA, rgb=False, luma=True)  # type: ignore[no-any-return]

    def frames(self) -> tuple[Image, ...]:
        """One image per screened frame (every frame up to ``limits.screened_frames``, evenly
        sampled beyond it); ``(self,)`` for a still image."""
        root = self._root or self
        if _FRAMES not in root._cache:
            root.prepare(rgb=False, luma=True)
        return root._cache[_FRAMES]  # type: ignore[no-any-return]

    def header(self) -> Header:
        """Format, size and frame count, read from the header (no pixel decoded); typed
        errors for bytes past the limits or not an accepted format."""
        from bastion.decode import ImageLimits, probe

        root = self._root or self
        limits = root.limits or ImageLimits()
        return root.cached(_HEADER, lambda: probe(root.data, root.media_type, limits))

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per image and key; concurrent callers wait for the first."""
        with self._guard:
            if key in self._cache:
                return self._cache[key]  # type: ignore[no-any-return]
        with self._lock(key):
            with self._guard:
                if key in self._cache:
                    return self._cache[key]  # type: ignore[no-any-return]
            value = compute()
            with self._guard:
                self._cache[key] = value
            return value

    def _view(self, key: str, *, rgb: bool, luma: bool) -> Any:
        with self._guard:
            if key in self._cache:
                return self._cache[key]
        self.prepare(rgb=rgb, luma=luma)
        with self._guard:
            return self._cache[key]

    def _frame(self, index: int) -> Image:
        return Image(self.data, self.media_type, self.sha256, self.limits, index, self)

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


_RGB, _LUMA, _FRAMES, _HEADER = "decoded", "pdq_luma", "frames", "header"
