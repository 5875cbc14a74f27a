"""Image decoding for hashing: bytes in, a luma array out, or a typed error.

Decoding goes through the one image intake (:mod:`bastion.decode`): the same formats and limits
as every other surface, the memory budget, typed errors. This module only names the luma view
PDQ hashes from (:class:`~bastion.decode_views.Luma`: no EXIF turn, JPEG decoded at a reduced
scale in the IDCT, other formats box-reduced; the PDQ kernel compensates for the scale).
"""

from __future__ import annotations

from bastion.content import Image
from bastion.decode import ImageLimits
from bastion.decode_views import MIN_DECODED_SIDE, Luma, decode_views
from bastion.errors import InvalidInput, UndecodableImage

__all__ = ["MIN_DECODED_SIDE", "Luma", "UndecodableImage", "decode_luma", "frame_lumas", "luma_of"]


def luma_of(image: Image | bytes, *, limits: ImageLimits | None = None) -> Luma:
    """The first frame's luma, decoded once per ``Image`` (cached on it) and shared by
    :meth:`Guard.scan_upload`, the hash detector and stay-down."""
    return _image(image, limits).luma()


def frame_lumas(image: Image | bytes, *, limits: ImageLimits | None = None) -> list[Luma]:
    """The luma of every screened frame (one for a still image)."""
    return [frame.luma() for frame in _image(image, limits).frames()]


def decode_luma(
    data: bytes, *, limits: ImageLimits | None = None, min_side: int = MIN_DECODED_SIDE
) -> Luma:
    """Decode ``data``'s first frame to luma, at a reduced scale where the format allows it.

    ``min_side=0`` disables reduction (full-resolution decode, as the reference hasher does).
    """
    image = _image(data, limits)
    if min_side == MIN_DECODED_SIDE:
        return image.luma()
    views = decode_views(
        image.data,
        image.media_type,
        image.limits or ImageLimits(),
        rgb=False,
        luma=True,
        indices=(0,),
        luma_min_side=min_side,
    )
    luma = views.frames[0].luma
    if luma is None:  # pragma: no cover - asked for above
        raise UndecodableImage("image decoded to no pixels", field="image")
    return luma


def _image(image: Image | bytes, limits: ImageLimits | None) -> Image:
    if isinstance(image, Image):
        return image if limits is None else image.with_limits(limits)
    if not isinstance(image, bytes | bytearray | memoryview):
        raise InvalidInput(f"image must be bytes, got {type(image).__name__}", field="image")
    chosen = limits or ImageLimits()
    return Image.from_bytes(bytes(image), max_bytes=chosen.max_bytes, limits=chosen)
