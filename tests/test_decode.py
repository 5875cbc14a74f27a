"""Safe image intake: formats, orientation, modes, limits, and fuzzing untrusted bytes."""

from __future__ import annotations

import io
import struct
import threading
import zlib
from importlib.util import find_spec

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage

from bastion.content import Image
from bastion.decode import ImageLimits
from bastion.decode_views import decode
from bastion.errors import InputTooLarge, InvalidInput, UnsupportedMediaType
from tests.images import encode

LIMITS = ImageLimits()


def image_of(data: bytes, limits: ImageLimits = LIMITS) -> Image:
    return Image.from_bytes(data, max_bytes=limits.max_bytes, limits=limits)


def halves(size: tuple[int, int] = (40, 20)) -> PILImage.Image:
    """Left half red, right half blue."""
    image = PILImage.new("RGB", size, (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))
    return image


def save(image: PILImage.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)  # type: ignore[arg-type]
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("AVIF", "image/avif"),
    ],
)
def test_every_accepted_format_decodes_to_rgb(fmt: str, media_type: str) -> None:
    image = image_of(save(halves(), fmt))
    assert image.media_type == media_type
    decoded = image.decoded()
    assert decoded.rgb.shape == (20, 40, 3)
    assert decoded.rgb.dtype == np.uint8
    assert (decoded.width, decoded.height, decoded.format) == (40, 20, fmt)
    left, right = decoded.rgb[10, 5], decoded.rgb[10, 35]
    assert left[0] > 180
    assert left[2] < 80
    assert right[2] > 180
    assert right[0] < 80
    assert not decoded.rgb.flags.writeable


def test_exif_orientation_is_applied() -> None:
    exif = PILImage.Exif()
    exif[0x0112] = 6  # stored sideways: the viewer rotates 90° clockwise
    data = save(halves(), "JPEG", exif=exif.tobytes(), quality=95)
    decoded = image_of(data).decoded()
    assert decoded.orientation == 6
    assert (decoded.width, decoded.height) == (20, 40)
    assert decoded.rgb.shape == (40, 20, 3)
    assert decoded.rgb[5, 10, 0] > 180  # the red half is now on top
    assert decoded.rgb[35, 10, 2] > 180


def test_cmyk_jpeg_becomes_rgb() -> None:
    data = save(halves().convert("CMYK"), "JPEG", quality=95)
    decoded = image_of(data).decoded()
    assert decoded.mode == "CMYK"
    assert decoded.rgb[10, 5, 0] > 180
    assert decoded.rgb[10, 35, 2] > 180


def test_sixteen_bit_grey_maps_its_full_range() -> None:
    values = np.array([[0, 32768, 65535]], dtype=np.uint16).repeat(4, axis=0)
    data = save(PILImage.fromarray(values), "PNG")
    decoded = image_of(data).decoded()
    assert decoded.mode.startswith("I")
    assert decoded.rgb[0, :, 0].tolist() == [0, 127, 255]


def test_palette_with_transparency_is_flattened_on_white() -> None:
    image = PILImage.new("P", (8, 8), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (4, 0, 8, 8))
    data = save(image, "PNG", transparency=0)
    decoded = image_of(data).decoded()
    assert decoded.had_alpha
    assert decoded.rgb[0, 0].tolist() == [255, 255, 255]  # transparent red shows as white
    assert decoded.rgb[0, 7].tolist() == [0, 0, 255]


def test_rgba_and_grey_alpha_and_one_bit() -> None:
    rgba = PILImage.new("RGBA", (4, 4), (0, 0, 0, 128))
    assert image_of(save(rgba, "PNG")).decoded().rgb[0, 0].tolist() == [127, 127, 127]
    la = PILImage.new("LA", (4, 4), (0, 0))
    assert image_of(save(la, "PNG")).decoded().rgb[0, 0].tolist() == [255, 255, 255]
    one = PILImage.new("1", (4, 4), 1)
    assert image_of(save(one, "PNG")).decoded().rgb[0, 0].tolist() == [255, 255, 255]


def test_animated_gif_first_frame_and_frame_limit() -> None:
    frames = [PILImage.new("RGB", (8, 8), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=50)
    data = buffer.getvalue()
    decoded = image_of(data).decoded()
    assert decoded.frames == 3
    assert decoded.rgb[0, 0, 0] > 200
    assert decoded.rgb[0, 0, 1] < 50
    with pytest.raises(InputTooLarge, match="frames; the limit is 2"):
        image_of(data, ImageLimits(max_frames=2)).decoded()


def test_large_photo_is_decoded_small_and_keeps_its_size() -> None:
    array = np.zeros((2000, 3000, 3), dtype=np.uint8)
    array[:, :1500] = (255, 0, 0)
    decoded = image_of(encode(array, "JPEG", quality=80)).decoded()
    assert (decoded.width, decoded.height) == (3000, 2000)
    assert max(decoded.rgb.shape[:2]) == 1024
    assert decoded.scale == pytest.approx(1024 / 3000, abs=0.01)


def test_byte_and_pixel_limits() -> None:
    data = save(PILImage.new("RGB", (300, 200)), "PNG")
    with pytest.raises(InputTooLarge, match="bytes"):
        decode(data, "image/png", ImageLimits(max_bytes=10))
    with pytest.raises(InputTooLarge, match="60000 pixels"):
        decode(data, "image/png", ImageLimits(max_pixels=50_000))
    with pytest.raises(InputTooLarge, match="side"):
        decode(data, "image/png", ImageLimits(max_side=250))


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width``×``height`` but carries almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [10_000, 20_000])
def test_decompression_bombs_are_errors_not_warnings(side: int) -> None:
    # Limits wide open, so Pillow's own bomb check (a warning past 89 Mpx, an error past
    # twice that) is what refuses: both must come out as the same typed error.
    open_limits = ImageLimits(max_pixels=10**10, max_side=10**6, max_bytes=10**6)
    with pytest.raises(InputTooLarge, match="decompression bomb"):
        decode(png_header(side, side), "image/png", open_limits)


def test_header_claims_are_checked_before_decoding() -> None:
    with pytest.raises(InputTooLarge, match="pixels"):
        decode(png_header(8000, 8000), "image/png", LIMITS)


def test_truncated_and_mislabelled_files_are_invalid_input() -> None:
    data = save(halves((200, 100)), "JPEG")
    with pytest.raises(InvalidInput):
        image_of(data[: len(data) // 2]).decoded()
    png = save(halves(), "PNG")
    with pytest.raises(InvalidInput, match="not a readable JPEG file"):
        decode(png, "image/jpeg", LIMITS)


def test_formats_outside_the_allow_list_are_refused() -> None:
    bmp = save(halves(), "BMP")
    with pytest.raises(UnsupportedMediaType, match="image/bmp"):
        image_of(bmp).decoded()
    tiff = save(halves(), "TIFF")
    with pytest.raises(UnsupportedMediaType):
        image_of(tiff).decoded()


@pytest.mark.skipif(find_spec("pillow_heif") is not None, reason="pillow-heif is installed")
def test_heic_without_the_extra_says_how_to_get_it() -> None:
    fake_heic = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64
    with pytest.raises(UnsupportedMediaType, match="heic"):
        image_of(fake_heic).decoded()


def test_decoded_once_and_shared_between_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    import bastion.decode_views

    calls = []
    real = bastion.decode_views.decode_views

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bastion.decode_views, "decode_views", counting)
    image = image_of(save(halves(), "PNG"))
    results = []
    threads = [threading.Thread(target=lambda: results.append(image.decoded())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert all(r is results[0] for r in results)


# -- fuzzing: untrusted bytes get a typed error, never a crash -------------------------------

VALID = [
    save(halves((16, 8)), "PNG"),
    save(halves((16, 8)), "JPEG"),
    save(halves((16, 8)), "GIF"),
    save(halves((16, 8)), "WEBP"),
]
MAGIC = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP"]


def screen(data: bytes) -> None:
    try:
        image = Image.from_bytes(data, max_bytes=LIMITS.max_bytes, limits=LIMITS)
        decoded = image.decoded()
    except InvalidInput:
        return
    assert decoded.rgb.ndim == 3
    assert decoded.rgb.shape[2] == 3
    assert decoded.rgb.dtype == np.uint8


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_never_crash(data: bytes) -> None:
    screen(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(MAGIC), st.binary(max_size=1024))
def test_random_bodies_behind_real_magic_never_crash(magic: bytes, body: bytes) -> None:
    screen(magic + body)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(range(len(VALID))),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(min_value=0, max_value=10_000),
)
def test_mutated_real_files_never_crash(which: int, flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(VALID[which])
    for position, value in flips:
        data[position % len(data)] = value
    screen(bytes(data[: max(8, len(data) - cut % len(data))]))
