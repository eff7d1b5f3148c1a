"""The header checks of profiles.images: what is refused is refused before a pixel is decoded."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from PIL import Image, ImageFile, JpegImagePlugin

from profiles.images import JPEG_NO_LENGTH, MAX_JPEG_FILL_BYTES, ImageRefused, avatar_renditions
from tests.support import images as test_images

pytestmark = pytest.mark.django_db  # the package's autouse fixture clears the guest cache


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any pixel would be decoded (or a JPEG draft scale even chosen)."""

    def decoded(*args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoded)
    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", decoded)


def test_a_long_thin_jpeg_like_finding_11_is_refused_before_decoding(no_decoding):
    """65500×610 is under the pixel cap, but defeats draft mode: it used to decode in full (~300 MB)."""
    data = test_images.encoded("JPEG", (65500, 610))
    assert 65500 * 610 <= settings.AVATAR_MAX_PIXELS
    with pytest.raises(ImageRefused) as refused:
        avatar_renditions(data=data)
    message = str(refused.value)
    assert "too long and thin" in message
    assert f"at most {settings.AVATAR_MAX_ASPECT:g} times" in message
    assert f"{settings.AVATAR_MAX_SIDE} pixels" in message


@pytest.mark.parametrize(
    ("fmt", "size", "save"),
    [
        ("JPEG", (6300, 6300), {"progressive": True, "subsampling": 0}),  # libjpeg keeps every coefficient
        ("PNG", (4100, 4100), {}),
        ("WEBP", (4000, 4000), {"lossless": True}),
        ("GIF", (4100, 4100), {}),
    ],
    ids=["progressive-jpeg", "png", "webp", "gif"],
)
def test_what_would_decode_past_the_memory_budget_is_refused_before_decoding(no_decoding, fmt, size, save):
    data = test_images.encoded(fmt, size, "P" if fmt == "GIF" else "RGB", **save)
    with pytest.raises(ImageRefused) as refused:
        avatar_renditions(data=data)
    assert "too large to process" in str(refused.value) and "megapixels for a" in str(refused.value)


def test_a_large_baseline_jpeg_is_still_accepted():
    """Draft mode decodes it at 1/8 scale: the pixel cap, not the memory budget, bounds it."""
    renditions = avatar_renditions(data=test_images.encoded("JPEG", (7200, 5400)))
    assert sorted(renditions.by_size) == [128, 512]


@pytest.mark.parametrize("size", [(100, 400), (400, 100), (300, 300), (16, 64)])
def test_small_and_long_shapes_within_the_aspect_limit_are_accepted(size):
    renditions = avatar_renditions(data=test_images.jpeg(*size))
    for side, data in renditions.by_size.items():
        assert Image.open(io.BytesIO(data)).size == (side, side)


def test_a_tiny_image_is_refused_before_decoding(no_decoding):
    with pytest.raises(ImageRefused, match="too small"):
        avatar_renditions(data=test_images.encoded("PNG", (10, 30)))


def test_a_jpeg_of_thousands_of_repeated_scans_is_refused_before_decoding(no_decoding):
    """The reviewer's CPU bomb (N1): libjpeg decodes every scan; 10,474 of them in 1 MB took 43 s."""
    with pytest.raises(ImageRefused) as refused:
        avatar_renditions(data=test_images.jpeg_with_repeated_scans(2000))
    assert str(refused.value) == (
        f"This JPEG is built in an unusual way (more than {settings.AVATAR_MAX_JPEG_SCANS} scans); "
        "please re-save it."
    )


def test_a_progressive_jpeg_with_as_many_scans_as_allowed_is_accepted():
    data = test_images.jpeg_with_repeated_scans(settings.AVATAR_MAX_JPEG_SCANS - 6)  # it has 6 of its own
    assert sorted(avatar_renditions(data=data).by_size) == [128, 512]


def test_a_jpeg_of_many_empty_comments_is_refused_before_pillow_reads_them(monkeypatch):
    """N2: empty COM segments count 0 bytes of metadata, yet Pillow keeps each (1.25 M: +160 MB)."""
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("Pillow read the file"))
    with pytest.raises(ImageRefused, match=r"built in an unusual way \(more than 64 metadata segments\)"):
        avatar_renditions(data=test_images.jpeg_with_empty_comments(10_000))


def test_a_png_of_many_chunks_is_refused_before_pillow_reads_them(monkeypatch):
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("Pillow read the file"))
    with pytest.raises(ImageRefused, match=r"This PNG is built in an unusual way \(more than 4096 chunks\)"):
        avatar_renditions(data=test_images.png_with_chunks(5000))


def test_metadata_segments_and_chunks_as_real_encoders_write_them_are_accepted():
    assert avatar_renditions(data=test_images.jpeg_with_empty_comments(60)).by_size
    assert avatar_renditions(data=test_images.png_with_chunks(1000)).by_size


@pytest.mark.parametrize(
    "junk",
    [
        b"\xff" * (MAX_JPEG_FILL_BYTES + 1),
        b"\xff" * 100_000,
        b"\x00" * 100_000,
        b"\xff\x00" * 50_000,
        b"\xff\xd0" * 50_000,
    ],
    ids=["17-fill-bytes", "fill", "zeros", "stuffed-zeros", "restart-markers"],
)
def test_bytes_between_header_segments_are_refused_before_pillow_reads_them(monkeypatch, junk):
    """Pillow's header parser steps through them a byte per Python iteration: 5 MB took 2.5 s of CPU."""
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("Pillow read the file"))
    with pytest.raises(ImageRefused) as refused:
        avatar_renditions(data=test_images.jpeg_with_junk_after_app0(junk))
    assert str(refused.value) == (
        "This JPEG is built in an unusual way (bytes between its header segments); please re-save it."
    )


def test_a_few_fill_bytes_between_header_segments_are_accepted():
    data = test_images.jpeg_with_junk_after_app0(b"\xff" * MAX_JPEG_FILL_BYTES)
    assert sorted(avatar_renditions(data=data).by_size) == [128, 512]


def test_a_jpeg_start_followed_by_no_marker_at_all_is_not_an_image_and_pillow_never_reads_it(monkeypatch):
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("Pillow read the file"))
    start = test_images.encoded("JPEG", (64, 64))[:20]  # SOI and the JFIF APP0 segment
    with pytest.raises(ImageRefused, match=r"^This file is not a JPEG, PNG, WebP, GIF or HEIC image\.$"):
        avatar_renditions(data=start + b"\x00" * 100_000)


@pytest.mark.parametrize(
    "after_eoi",
    [b"\xff" * 100_000, b"\xff\xfe\x00\x02" * 10_000, b""],
    ids=["fill", "empty-comments", "nothing"],
)
def test_an_end_marker_before_the_first_scan_is_refused_before_pillow_reads_the_file(monkeypatch, after_eoi):
    """Reviewer D: the walk stopped at an early EOI, Pillow read on past it (5 MB of fill: 2.4 s CPU)."""
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("Pillow read the file"))
    with pytest.raises(ImageRefused) as refused:
        avatar_renditions(data=test_images.jpeg_with_junk_after_app0(b"\xff\xd9" + after_eoi))
    assert str(refused.value) == (
        "This JPEG is built in an unusual way (an end marker before its first scan); please re-save it."
    )


def test_bytes_after_the_end_of_a_jpeg_are_still_accepted():
    """An EOI after the scans ends the walk: what follows (a phone's MPO frames, a trailer) is not read."""
    data = test_images.encoded("JPEG", (64, 64)) + b"\xff" * 100_000 + b"trailer"
    assert sorted(avatar_renditions(data=data).by_size) == [128, 512]


@pytest.mark.parametrize("marker", [0xF0, 0xF7, 0xFD, 0xC8], ids=["F0", "F7", "FD", "C8"])
def test_comments_behind_a_reserved_marker_are_refused_before_pillow_reads_them(monkeypatch, marker):
    """Reviewer E: the walk skipped `FF F0` as a segment with a length, Pillow parsed what it hid."""
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("Pillow read the file"))
    with pytest.raises(ImageRefused) as refused:
        avatar_renditions(data=test_images.jpeg_with_comments_behind_reserved_markers(2, marker))
    assert str(refused.value) == (
        f"This JPEG is built in an unusual way (a reserved marker, FF {marker:02X}); please re-save it."
    )


def test_the_walk_reads_a_length_exactly_where_pillow_does():
    """Every marker Pillow's header parser knows: no handler means no length field (it reads none)."""
    pillow_no_length = {
        code & 0xFF for code, (_, _, handler) in JpegImagePlugin.MARKER.items() if handler is None
    }
    known = {code & 0xFF for code in JpegImagePlugin.MARKER}
    assert {0xC8, 0xF0, 0xFD, 0xD8, 0xD9} <= pillow_no_length  # the table still marks them so
    assert JPEG_NO_LENGTH & known == pillow_no_length
    assert JPEG_NO_LENGTH - known == {0x01}  # TEM: Pillow refuses it ("no marker found")


@pytest.mark.parametrize(
    "segments",
    [
        [test_images.frame_header(0xC0)] * 76,
        [test_images.frame_header(0xC2)] * 2,
        [test_images.frame_header(0xDE)],
        [test_images.frame_header(0xC0, 8 + 3 * 3 + 3)],  # one component entry too many
        [test_images.jpeg_segment(0xC1, bytes([8, 0, 64, 0, 64, 2]) + b"\x01\x11\x00\x02\x11\x00")],  # Nf 2
    ],
    ids=["76-long-SOF0s", "long-SOF2s", "long-DHP", "SOF0-one-entry-too-long", "two-components"],
)
def test_a_frame_header_of_an_unusual_length_is_refused_before_pillow_reads_it(monkeypatch, segments):
    """Reviewer F: Pillow's SOF reads a whole segment entry by entry (76 × 64 kB: 1.1 s CPU, +135 MB)."""
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("Pillow read the file"))
    with pytest.raises(ImageRefused, match=r"^This JPEG is built in an unusual way \(a frame header, FF "):
        avatar_renditions(data=test_images.jpeg_with_junk_after_app0(b"".join(segments)))


@pytest.mark.parametrize("marker", [0xC0, 0xC2, 0xDE])
def test_a_second_frame_header_before_the_first_scan_is_refused_before_pillow_reads_it(monkeypatch, marker):
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("Pillow read the file"))
    extra = test_images.frame_header(marker, 8 + 3 * 3)  # well-formed, but the file has its own
    with pytest.raises(ImageRefused) as refused:
        avatar_renditions(data=test_images.jpeg_with_junk_after_app0(extra))
    assert str(refused.value) == (
        "This JPEG is built in an unusual way (more than one frame header); please re-save it."
    )


@pytest.mark.parametrize(
    ("segments", "refusal"),
    [
        ([test_images.table_segment(0xDB, 1008)] * 76, r"a quantization table segment longer than 518 bytes"),
        (
            [test_images.table_segment(0xDB, 5, largest=True)],
            r"a quantization table segment longer than 518 bytes",
        ),
        ([test_images.table_segment(0xDB, 1)] * 9, r"more than 8 quantization table segments before a scan"),
        (
            [test_images.table_segment(0xC4, 9, largest=True)],
            r"a Huffman table segment longer than 2186 bytes",
        ),
        ([test_images.table_segment(0xC4, 1)] * 17, r"more than 16 Huffman table segments before a scan"),
    ],
    ids=["76-DQTs-of-1008-tables", "DQT-of-5-tables", "9-DQTs", "DHT-of-9-tables", "17-DHTs"],
)
def test_table_segments_beyond_what_encoders_write_are_refused_before_pillow_reads_them(
    monkeypatch, segments, refusal
):
    """Reviewer F: Pillow's DQT loops over every table (76 segments of 1,008 tables: 0.3 s CPU)."""
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("Pillow read the file"))
    data = test_images.jpeg_with_junk_after_app0(b"".join(segments))
    with pytest.raises(ImageRefused, match=rf"^This JPEG is built in an unusual way \({refusal}\)"):
        avatar_renditions(data=data)


@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK"])
@pytest.mark.parametrize(
    "save",
    [{}, {"progressive": True}, {"subsampling": 0}, {"subsampling": 2, "optimize": True}, {"quality": 100}],
    ids=["baseline", "progressive", "4:4:4", "4:2:0-optimized", "quality-100"],
)
def test_frame_headers_and_tables_as_real_encoders_write_them_are_accepted(mode, save):
    """Pillow's (libjpeg's) JPEGs: grayscale, YCbCr at each subsampling, CMYK with its Adobe APP14."""
    data = test_images.encoded("JPEG", (300, 200), mode, **save)
    assert sorted(avatar_renditions(data=data).by_size) == [128, 512]
