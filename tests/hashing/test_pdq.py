"""PDQ: compatibility with the reference (pdqhash), variants, and safe decoding."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pdqhash
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from bastion.decode import ImageLimits
from bastion.errors import InputTooLarge, InvalidInput
from bastion.hashing import pdq
from bastion.hashing.decode import UndecodableImage, decode_luma
from bastion.hashing.signals import Hash, SignalType
from tests.hashing.conftest import PHOTOS, encode, photo


def reference(data: bytes) -> tuple[Hash, int]:
    array = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    bits, quality = pdqhash.compute(array)
    return Hash.from_bits(bits), quality


@pytest.mark.parametrize("name", PHOTOS)
def test_full_resolution_hash_matches_the_reference(name: str) -> None:
    data = encode(photo(name))
    ref, ref_quality = reference(data)
    ours = pdq.hash_bytes(data, min_side=0)
    assert ours.hash.distance(ref) <= 4
    assert abs(ours.quality - ref_quality) <= 2


@pytest.mark.parametrize("name", PHOTOS)
def test_reduced_jpeg_decode_stays_within_distance_10(name: str) -> None:
    big = np.asarray(Image.fromarray(photo(name)).resize((1600, 1200)))
    data = encode(big)
    ref, _ = reference(data)
    luma = decode_luma(data)
    assert luma.scale > 1  # the fast path was taken
    assert pdq.hash_luma(luma).hash.distance(ref) <= 10


def test_dihedral_variants_equal_the_reference() -> None:
    data = encode(photo("coffee"))
    array = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    ref_hashes, _ = pdqhash.compute_dihedral(array)
    ours = pdq.dihedral_hashes(decode_luma(data, min_side=0))
    assert [v.variant for v in ours][:2] == ["original", "rotate_90"]
    for ref_bits, mine in zip(ref_hashes, ours, strict=True):
        assert Hash.from_bits(ref_bits).distance(mine.hash) <= 4


def test_a_mirror_is_close_to_a_dihedral_variant_not_to_the_plain_hash() -> None:
    array = photo("chelsea")
    plain = pdq.hash_bytes(encode(array))
    mirrored = pdq.hash_bytes(encode(np.ascontiguousarray(array[:, ::-1])))
    assert plain.hash.distance(mirrored.hash) > 31
    variants = pdq.dihedral_hashes(decode_luma(encode(np.ascontiguousarray(array[:, ::-1]))))
    assert min(v.hash.distance(plain.hash) for v in variants) <= 16


TURNS = {
    "rotate_90": lambda a: np.rot90(a, 1),
    "rotate_180": lambda a: a[::-1, ::-1],
    "rotate_270": lambda a: np.rot90(a, 3),
    "flip_x": lambda a: a[::-1],
    "flip_y": lambda a: a[:, ::-1],
    "flip_plus_1": lambda a: a.transpose(1, 0, 2),
    "flip_minus_1": lambda a: a[::-1, ::-1].transpose(1, 0, 2),
}


@pytest.mark.parametrize("name", ["coffee", "brick"])  # coffee is 400×600; brick a fine texture
@pytest.mark.parametrize("turn", list(TURNS))
def test_an_upload_turned_any_way_has_a_query_variant_equal_to_the_plain_hash(
    name: str, turn: str
) -> None:
    """Lookups hash the upload itself mirrored/rotated, so a turned re-upload lands on the
    original's hash (the DCT-domain shortcut is 12-80 bits off: the reference's blur and
    sampling grid are not quite symmetric)."""
    array = photo(name)
    plain = pdq.hash_bytes(encode(array)).hash
    turned = decode_luma(encode(np.ascontiguousarray(TURNS[turn](array))))
    variants = pdq.transformed_hashes(turned)
    assert variants[0].variant == "original"
    assert variants[0].hash == pdq.hash_luma(turned).hash
    assert min(v.hash.distance(plain) for v in variants) <= 4


def test_crop_variants_are_close_to_hashes_of_the_crops() -> None:
    array = photo("rocket")
    luma = decode_luma(encode(array))
    crops = {c.variant: c for c in pdq.crop_hashes(luma)}
    h, w = array.shape[:2]
    cut = array[round(h * 0.05) : h - round(h * 0.05), round(w * 0.05) : w - round(w * 0.05)]
    assert crops["crop_50"].hash.distance(pdq.hash_bytes(encode(cut)).hash) <= 12


def test_flat_image_has_low_quality() -> None:
    flat = np.full((200, 300, 3), 128, dtype=np.uint8)
    assert pdq.hash_bytes(encode(flat, "PNG")).quality < 50


def test_hash_array_matches_hash_bytes() -> None:
    array = photo("camera")
    assert (
        pdq.hash_array(array).hash.distance(pdq.hash_bytes(encode(array, "PNG"), min_side=0).hash)
        <= 2
    )


def test_hash_parse_and_format() -> None:
    value = "f" * 64
    parsed = Hash.parse(value.upper())
    assert parsed.hex == value
    assert parsed.signal_type is SignalType.PDQ
    assert str(parsed) == value
    assert parsed.distance(Hash.parse("0" * 64)) == 256
    for bad in ("f" * 63, "g" * 64, 42, None, ""):
        with pytest.raises(InvalidInput):
            Hash.parse(bad)
    with pytest.raises(InvalidInput):
        Hash.parse(value, "vpdq")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_are_a_typed_error(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        pdq.hash_bytes(data)


MAGIC = [
    b"\xff\xd8\xff\xe0",
    b"\x89PNG\r\n\x1a\n",
    b"GIF89a",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"BM",
    b"II*\x00",
]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(MAGIC), st.binary(max_size=3000))
def test_corrupt_files_with_valid_signatures_are_a_typed_error(magic: bytes, tail: bytes) -> None:
    try:
        result = pdq.hash_bytes(magic + tail)
    except InvalidInput:
        return
    assert 0 <= result.quality <= 100  # a (rare) decodable image is fine too


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=4000))
def test_truncated_jpeg_is_a_typed_error_or_a_hash(cut: int) -> None:
    data = _sample_jpeg()
    try:
        pdq.hash_bytes(data[: min(cut, len(data) - 1)])
    except UndecodableImage:
        pass
    except InvalidInput:
        pass


_JPEG: list[bytes] = []


def _sample_jpeg() -> bytes:
    if not _JPEG:
        _JPEG.append(encode(photo("coffee")[:200, :200]))
    return _JPEG[0]


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    out = b"\x89PNG\r\n\x1a\n"
    for kind, body in ((b"IHDR", ihdr), (b"IDAT", zlib.compress(b"\x00" * 64)), (b"IEND", b"")):
        out += (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )
    return out


def test_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(InputTooLarge):
        pdq.hash_bytes(_png_header(60_000, 60_000), limits=ImageLimits(max_pixels=10_000_000))


def test_non_bytes_and_empty_are_typed_errors() -> None:
    with pytest.raises(InvalidInput):
        pdq.hash_bytes(b"")
    with pytest.raises(InvalidInput):
        pdq.hash_bytes("not bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("height", "width", "scale", "crop"),
    [(512, 512, 2, 0.0), (300, 451, 1, 0.05), (3000, 4000, 8, 0.1), (64, 20000, 1, 0.0)],
)
def test_banded_kernels_equal_the_dense_product(
    height: int, width: int, scale: int, crop: float
) -> None:
    """The banded sampling is the dense K_rows · luma · K_colsᵀ (the last case: too wide a
    band along a 20000-pixel axis, so the dense product is used)."""
    from bastion.hashing.decode import Luma

    rng = np.random.default_rng(height)
    pixels = rng.uniform(0, 255, (-(-height // scale), -(-width // scale))).astype(np.float32)
    luma = Luma(pixels, width, height, scale)
    h_off, w_off = round(height * crop), round(width * crop)
    rows = pdq.kernel(height, scale, h_off, height - 2 * h_off)
    cols = pdq.kernel(width, scale, w_off, width - 2 * w_off)
    dense = rows.astype(np.float64) @ pixels @ cols.T.astype(np.float64)
    assert np.allclose(pdq._samples(luma, crop), dense, rtol=1e-4, atol=1e-2)
    wide = pdq.band(width, scale, w_off, width - 2 * w_off)
    assert (wide is None) == (width == 20000)


@pytest.mark.parametrize("name", ["coffee", "hubble_deep_field"])  # scale 1; 872×1000 at 1/2
def test_turned_hashes_equal_hashing_each_turned_image(name: str) -> None:
    """The four-sampling shortcut gives exactly the hashes of the eight turned lumas."""
    from bastion.hashing.decode import Luma

    luma = decode_luma(encode(photo(name)))
    fast = pdq.transformed_hashes(luma)
    assert [r.variant for r in fast] == [v.value for v in pdq.Dihedral]
    for result, variant in zip(fast, pdq.Dihedral, strict=True):
        pixels = np.ascontiguousarray(pdq._transform(luma.pixels, variant))
        turned = variant in {"rotate_90", "rotate_270", "flip_plus_1", "flip_minus_1"}
        size = (luma.height, luma.width) if turned else (luma.width, luma.height)
        slow = pdq.hash_luma(Luma(pixels, *size, luma.scale))
        assert result.hash == slow.hash, variant
        assert result.quality == slow.quality
