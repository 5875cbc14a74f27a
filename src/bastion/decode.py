"""The one image intake: every untrusted image byte in Bastion is sniffed, limited and opened here.

One format list (:data:`PILLOW_FORMATS`) and one set of limits (:class:`ImageLimits`, built from
``Settings``) serve every surface: guard checks and upload scans, the hashing routes (HMA's
``/h/hash`` included), bank adds and imports, provenance mark and verify, and the CLI. Untrusted
bytes go through, in order: a size check, the format allow-list (Pillow is only ever asked to
open the formats Bastion accepts, so an exotic decoder is never reached), a header-only look at
dimensions and frame count, a memory estimate taken before any pixel is allocated, a reservation
of that memory from a process-wide budget (which bounds concurrent decodes), and only then the
decode. Every failure is a typed :class:`~bastion.errors.InvalidInput`, never a Pillow exception.

No lock is held across a decode: the budget is a weighted semaphore, waited on briefly, and
Pillow's process-wide warning filters are left alone (our own header check is what refuses a
decompression bomb; a warning raised as an error becomes a typed error too).

The views handed out (analysis RGB, PDQ luma, full resolution) are made in
:mod:`bastion.decode_views`; :class:`bastion.content.Image` caches them per request.
"""

from __future__ import annotations

import ctypes
import io
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from bastion.errors import (
    BastionError,
    InputTooLarge,
    InvalidInput,
    UndecodableImage,
    UnsupportedMediaType,
)

if TYPE_CHECKING:
    from bastion.settings import Settings

# Media type → Pillow format name: the one list of formats Bastion decodes, on every surface.
# HEIC/HEIF need the optional ``pillow-heif`` package (``pip install 'bastion-safety[heic]'``);
# without it they are refused with a clear error. BMP and TIFF are refused everywhere: TIFF
# brings libtiff's whole codec zoo, BMP nothing a web upload needs.
PILLOW_FORMATS: dict[str, str] = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/avif": "AVIF",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}
DECODABLE = "JPEG, PNG (incl. APNG), GIF, WebP, AVIF (and HEIC/HEIF with the 'heic' extra)"
_FIELD = "image"
_MB = 1024 * 1024
_HEIF_LOCK = threading.Lock()
_heif_state: list[bool] = []  # [] = not tried yet; [True/False] = opener registered or not


class DecoderBusy(BastionError):
    """The decode memory budget stayed exhausted for longer than ``image_decode_wait_ms``."""

    code = "image_decoder_busy"
    status = 503


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """Hard limits for one image. Anything past them is refused before it is decoded."""

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_frames: int = 200
    max_side: int = 16_384
    analysis_max_side: int = 1024
    screened_frames: int = 16  # frames screened per animated image (sampled beyond, on uploads)
    memory_bytes: int = 1024 * _MB  # decode memory of the whole process, shared by all decodes
    wait_s: float = 30.0  # longest wait for decode memory before DecoderBusy

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageLimits:
        return cls(
            max_bytes=settings.image_max_bytes,
            max_pixels=settings.image_max_pixels,
            max_frames=settings.image_max_frames,
            analysis_max_side=settings.image_analysis_max_side,
            screened_frames=settings.image_screened_frames,
            memory_bytes=settings.image_decode_memory_mb * _MB,
            wait_s=settings.image_decode_wait_ms / 1000,
        )


@dataclass(frozen=True, slots=True)
class Header:
    """What the header says, read before any pixel is decoded."""

    format: str
    width: int
    height: int
    frames: int


def pillow_format(data: bytes, media_type: str, limits: ImageLimits) -> str:
    """The Pillow format to open ``data`` with, or a typed refusal (size, format)."""
    if len(data) > limits.max_bytes:
        raise InputTooLarge(
            f"image has {len(data)} bytes; the limit is {limits.max_bytes}", field=_FIELD
        )
    fmt = PILLOW_FORMATS.get(media_type)
    if fmt is None:
        raise UnsupportedMediaType(
            f"{media_type} images are not accepted; send {DECODABLE}", field=_FIELD
        )
    if fmt == "HEIF" and not _heif_available():
        raise UnsupportedMediaType(
            "HEIC/HEIF images need the optional pillow-heif package "
            "(pip install 'bastion-safety[heic]'); send JPEG, PNG, WebP or AVIF instead",
            field=_FIELD,
        )
    return fmt


@contextmanager
def opened(data: bytes, media_type: str, limits: ImageLimits) -> Iterator[PILImage.Image]:
    """Open untrusted bytes within ``limits``; the header is checked before the block runs.

    Whatever Pillow raises, here or while the caller decodes inside the block, becomes a typed
    error. The caller reserves memory (:func:`reserve`) before it loads pixels.
    """
    fmt = pillow_format(data, media_type, limits)
    with typed_errors(fmt), PILImage.open(io.BytesIO(data), formats=[fmt]) as image:
        width, height = image.size
        _check_dimensions(width, height, limits)
        frames = frame_count(image, data, limits.max_frames)
        if frames > limits.max_frames:
            raise InputTooLarge(
                f"image has more than {limits.max_frames} frames; the limit is {limits.max_frames}",
                field=_FIELD,
            )
        image.info["bastion_frames"] = frames
        yield image


@contextmanager
def typed_errors(fmt: str) -> Iterator[None]:
    try:
        yield
    except (InvalidInput, DecoderBusy):
        raise
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as exc:
        raise InputTooLarge(f"image refused as a decompression bomb: {exc}", field=_FIELD) from exc
    except UnidentifiedImageError as exc:
        raise UndecodableImage(f"image is not a readable {fmt} file", field=_FIELD) from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise UndecodableImage(f"image could not be decoded: {exc}"[:300], field=_FIELD) from exc
    except (
        MemoryError,
        RecursionError,
        IndexError,
        KeyError,
        TypeError,
        ZeroDivisionError,
        Warning,  # only raised when the host turned warnings into errors
    ) as exc:
        # Malformed files reach odd corners of decoders; none of them may crash the service.
        raise UndecodableImage(
            f"image could not be decoded: {type(exc).__name__}", field=_FIELD
        ) from exc


def probe(data: bytes, media_type: str, limits: ImageLimits) -> Header:
    """Read and check the header only (format, size, frames); no pixel is decoded."""
    with opened(data, media_type, limits) as image:
        return header(image)


def header(image: PILImage.Image) -> Header:
    """The header of an image returned by :func:`opened`."""
    width, height = image.size
    return Header(str(image.format), width, height, int(image.info.get("bastion_frames", 1)))


def frame_count(image: PILImage.Image, data: bytes, limit: int) -> int:
    """Frames in the image, counted no further than ``limit + 1``.

    GIF has no frame count in its header: Pillow walks (and decodes) every frame to count them,
    so an 850,000-frame GIF cost seconds. Its blocks are walked here instead, without decoding,
    stopping once the limit is passed. The other formats state their frame count.
    """
    if image.format == "GIF":
        return _gif_frames(data, limit + 1)
    return int(getattr(image, "n_frames", 1) or 1)


def _gif_frames(data: bytes, stop: int) -> int:
    view = memoryview(data)
    if len(view) < 13:
        raise UndecodableImage("GIF is truncated", field=_FIELD)
    position = 13
    flags = view[10]
    if flags & 0x80:
        position += 3 << ((flags & 7) + 1)  # global colour table
    frames = 0
    while position < len(view) and frames < stop:
        block = view[position]
        if block == 0x3B:  # trailer
            break
        if block == 0x2C:  # image descriptor
            frames += 1
            if position + 10 > len(view):
                break
            local = view[position + 9]
            position += 10
            if local & 0x80:
                position += 3 << ((local & 7) + 1)
            position += 1  # LZW minimum code size
        elif block == 0x21:  # extension: label, then sub-blocks
            position += 2
        else:
            break  # not a GIF block: Pillow will judge the rest
        while position < len(view):  # data sub-blocks up to the zero terminator
            size = view[position]
            position += 1 + size
            if size == 0:
                break
    return max(frames, 1)


def _check_dimensions(width: int, height: int, limits: ImageLimits) -> None:
    if width <= 0 or height <= 0:
        raise UndecodableImage(f"image has no pixels ({width}×{height})", field=_FIELD)
    if width > limits.max_side or height > limits.max_side:
        raise InputTooLarge(
            f"image is {width}×{height}; no side may exceed {limits.max_side} pixels",
            field=_FIELD,
        )
    if width * height > limits.max_pixels:
        raise InputTooLarge(
            f"image has {width * height} pixels ({width}×{height}); the limit is "
            f"{limits.max_pixels}",
            field=_FIELD,
        )


# -- the decode memory budget -------------------------------------------------------------------


class MemoryBudget:
    """A weighted semaphore over bytes: decodes reserve their estimate before they allocate.

    Small decodes pass while a large one waits for room; one that could never fit is refused
    at once (a typed InputTooLarge); one that waits longer than ``wait_s`` gets DecoderBusy.
    """

    def __init__(self, total: int) -> None:
        self.total = total
        self.used = 0
        self._room = threading.Condition(threading.Lock())

    @contextmanager
    def reserve(self, nbytes: int, wait_s: float) -> Iterator[None]:
        if nbytes > self.total:
            raise InputTooLarge(
                f"decoding this image needs about {nbytes // _MB} MB; the decode memory "
                f"limit is {self.total // _MB} MB",
                field=_FIELD,
            )
        deadline = time.monotonic() + wait_s
        with self._room:
            while self.used + nbytes > self.total:
                left = deadline - time.monotonic()
                if left <= 0 or not self._room.wait(left):
                    if self.used + nbytes <= self.total:
                        break
                    raise DecoderBusy(
                        "too many large images are being decoded; try again shortly",
                        field=_FIELD,
                    )
            self.used += nbytes
        try:
            yield
        finally:
            with self._room:
                self.used -= nbytes
                self._room.notify_all()


_BUDGETS: dict[int, MemoryBudget] = {}
_BUDGETS_LOCK = threading.Lock()


def budget(limits: ImageLimits) -> MemoryBudget:
    """The process-wide budget for ``limits.memory_bytes`` (one per configured size)."""
    with _BUDGETS_LOCK:
        if not _BUDGETS:
            _unmap_large_frees()
        found = _BUDGETS.get(limits.memory_bytes)
        if found is None:
            found = _BUDGETS[limits.memory_bytes] = MemoryBudget(limits.memory_bytes)
        return found


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def _unmap_large_frees() -> None:
    """Have glibc map every allocation of 1 MiB or more on its own, and unmap it when freed.

    By default glibc raises that threshold each time a large block is freed (up to 32 MiB),
    so the 16 MiB blocks Pillow holds pixels in end up in per-thread heaps it never gives
    back: eight concurrent 40 Mpx decodes left the process at 2 GB although the budget let
    at most 1 GB be reserved at once (peak RSS 870 MB with this). Done once, on the first
    decode; a no-op where the C library has no ``mallopt`` (macOS, Windows).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, TypeError):
        return
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt(_M_MMAP_THRESHOLD, _MB)


def reserve(limits: ImageLimits, nbytes: int) -> AbstractContextManager[None]:
    return budget(limits).reserve(nbytes, limits.wait_s)


def _heif_available() -> bool:
    with _HEIF_LOCK:
        if not _heif_state:
            try:
                from pillow_heif import register_heif_opener
            except ImportError:
                _heif_state.append(False)
            else:
                register_heif_opener()
                _heif_state.append(True)
        return _heif_state[0]
