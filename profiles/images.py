"""Avatar images: decode an untrusted upload safely and re-encode it as clean square WebP renditions.

Nothing of the upload's bytes survives: pixels are decoded, cropped, resized and encoded anew, so
metadata, trailing payloads (polyglots) and odd chunks are all dropped.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pillow_heif
from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

# HEIC/HEIF (what iPhones save) through libheif: Pillow then opens it like any format. Opening
# parses the container only (size and mode for the checks below); pixels are decoded by _decode_heif.
# Depth maps and other auxiliary images (portrait photos carry them) are never wanted here.
pillow_heif.register_heif_opener(depth_images=False, aux_images=False)

SIZES = (512, 128)
# MPO is how Pillow names multi-picture JPEGs (phones' portrait photos): its first frame is a JPEG.
FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP", "GIF": "GIF", "HEIF": "HEIC"}
# The decoders Pillow may try (its JPEG opener is the one that yields MPO images).
OPEN_FORMATS = ["JPEG", "PNG", "WEBP", "GIF", "HEIF"]
CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/heif")
WEBP_QUALITY = 82
MIN_SIDE = 16
# What Pillow's readers raise on malformed data: OSError (truncated, broken stream; its
# UnidentifiedImageError too), ValueError, EOFError, and what Image.open itself treats as "not this
# format" (SyntaxError, IndexError, TypeError, struct.error); KeyError from broken EXIF tags.
_READ_ERRORS = (OSError, ValueError, EOFError, SyntaxError, IndexError, TypeError, KeyError, struct.error)

# Pillow's own bomb guard as a second line behind ours (which runs on the header, before decoding):
# it warns past this many pixels (made an error below) and refuses past twice as many.
Image.MAX_IMAGE_PIXELS = settings.AVATAR_MAX_PIXELS


class ImageRefused(Exception):
    """The upload is not an image we accept; the message is for the user."""


class ImageBusy(ImageRefused):
    """A good image that cannot be decoded now (too many large decodes at once): try again soon."""


BUSY = (
    "The server is busy with other large photos right now. Your picture is fine: "
    "please try again in a moment."
)


NOT_AN_IMAGE = "This file is not a JPEG, PNG, WebP, GIF or HEIC image."


@dataclass(frozen=True)
class Renditions:
    """The encoded WebP bytes of each size."""

    by_size: dict[int, bytes]


def _metadata_size(image: Image.Image) -> int:
    """Bytes of metadata carried by the file (EXIF, XMP, ICC, comments, text chunks)."""
    applist = getattr(image, "applist", None)
    if applist:  # JPEG: every APPn segment and its payload
        total = sum(len(data) for _, data in applist)
    else:
        total = 0
        for value in image.info.values():
            if isinstance(value, bytes | str):
                total += len(value)
    return total


def _too_many_pixels(max_pixels: int, detail: str = "") -> str:
    return f"This image is too large{detail}: at most {max_pixels // 1_000_000} megapixels, please."


# Peak bytes per pixel of decoding an image in full (its worst mode), measured by bench/avatars.py.
# A format's pixel cap is AVATAR_MAX_DECODE_MB divided by this; JPEG is costed by _jpeg_cost.
_BYTES_PER_PIXEL = {
    "PNG": 12,  # LA: the pixels (4 B), an intermediate and the RGBA copy (4 B each); RGBA: 8 B
    "GIF": 10,  # palette pixels (1 B), then RGBA through an intermediate (4 B each)
    "WEBP": 17,  # libwebp's two canvases, the frame's bytes and Pillow's image: 4 B each
    # libheif's peak (YCbCr planes, its RGB(A) output, 16-bit intermediates; Pillow's copy is made
    # band by band): 20.4 B measured for 10-bit 4:4:4 RGBA, the costliest kind. Opaque: below.
    "HEIF": 21,
}
# A HEIC without alpha: 5.2 B per pixel measured for an iPhone's (8-bit 4:2:0), 7.7 B for 10-bit
# 4:2:0, 15.4 B for 10-bit 4:4:4. Costed by the header's mode only: libheif decodes an alpha plane
# only for an image whose container declares one, which is what gives the mode. Bit depth and
# chroma are not trusted: a file whose header says 8-bit 4:2:0 over a 10-bit 4:4:4 stream decodes
# (peak 145 MiB at 12 MP, 3× an honest one) before libheif notices, so every HEIC is costed as
# the costliest stream.
_HEIF_OPAQUE_BYTES_PER_PIXEL = 16
# Pillow's RGB and CMYK pixels take 4 bytes; the decoded image plus one converted copy.
_DECODED_BYTES_PER_PIXEL = 8


def _jpeg_scans_share_one_buffer(data: bytes, components: int) -> bool:
    """Whether the first scan holds every component (libjpeg then decodes row by row).

    Otherwise (progressive, or a multi-scan baseline file) libjpeg keeps every DCT coefficient of
    the full-size image in memory until the last scan, whatever the draft scale (ITU T.81 B.2.3).
    """
    offset = 2
    while offset + 4 < len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        if marker in JPEG_NO_LENGTH:
            offset += 2
            continue
        if marker == 0xDA:  # SOS: Ns, the number of components in this scan
            return data[offset + 4] >= components
        offset += 2 + int.from_bytes(data[offset + 2 : offset + 4], "big")
    return False


# Any JPEG marker (ITU T.81 B.1.1.2): 0xFF then a code that is not a stuffed zero, a fill byte or a
# restart (RSTn sits inside a scan's entropy-coded data). Searching for it skips junk and entropy
# data the way libjpeg's next_marker does, so the walk below sees every segment libjpeg will read.
_JPEG_MARKER = re.compile(rb"\xff([^\x00\xd0-\xd7\xff])")
# Before the first scan a marker must follow its segment at once, after at most a few fill bytes
# (T.81 B.1.1.2 allows any number; encoders write none). Pillow's header parser steps through
# anything else one byte per Python iteration: 5 MB of fill or junk took 2.5 s of CPU.
MAX_JPEG_FILL_BYTES = 16
_JPEG_HEADER_MARKER = re.compile(rb"\xff{1,%d}([^\x00\xd0-\xd7\xff])" % (MAX_JPEG_FILL_BYTES + 1))
# JPG (C8) and JPG0–JPG13 (F0–FD): reserved for extensions no encoder writes, and libjpeg refuses.
# Pillow reads them as markers with no length field (the payload a length would cover is parsed as
# segments: one FF F0 hid 16,382 empty COMs from a walk that skipped it as a segment), so refused.
_JPEG_RESERVED = frozenset({0xC8, *range(0xF0, 0xFE)})
# Markers without a length field, as Pillow's JpegImagePlugin.MARKER has them (a None handler) plus
# TEM (01, which Pillow refuses): TEM, RST0–7 (only found in a scan's data), SOI, EOI, the reserved.
JPEG_NO_LENGTH = frozenset({0x01, *range(0xD0, 0xDA)}) | _JPEG_RESERVED
_JPEG_SOS, _JPEG_EOI, _JPEG_COM = 0xDA, 0xD9, 0xFE
# Real files: ~2 (EXIF, XMP, ICC in a few APP2 chunks, Photoshop, Adobe, MPF) to ~10 APPn/COM and
# a few dozen segments in all; each is an iteration of Pillow's Python header parser.
MAX_JPEG_METADATA_SEGMENTS = 64
MAX_JPEG_SEGMENTS = 1024
# Frame headers: SOF0–3, 5–7, 9–11, 13–15 and DHP, which Pillow's SOF handler reads component by
# component over the whole segment (76 SOFs of 64 kB in 5 MB: 1.1 s of CPU, +135 MB). A frame
# header is 8 + 3 × Nf bytes for Nf components, and Pillow takes 1, 3 or 4 (L, RGB/YCbCr, CMYK).
_JPEG_FRAME_HEADERS = frozenset(
    {*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), *range(0xCD, 0xD0), 0xDE}
)
_JPEG_COMPONENT_COUNTS = frozenset({1, 3, 4})
_JPEG_DHT, _JPEG_DQT = 0xC4, 0xDB
# Table segments (T.81 B.2.4): a DQT holds at most 4 tables (destinations 0–3) of 1 + 128 bytes
# (16-bit), a DHT at most 8 (DC and AC for 0–3) of 1 + 16 + 256 bytes; encoders write one table or
# all of a kind per segment, before the first scan (and a progressive file's DHTs before each scan).
# Pillow's DQT handler loops over each table in Python (76 segments of 1,008 tables: 0.3 s of CPU).
# Per kind: (the longest segment, the most segments between two scans), with room to spare.
_JPEG_TABLES = {
    _JPEG_DQT: ("quantization", 4 * (1 + 128) + 2, 8),
    _JPEG_DHT: ("Huffman", 8 * (1 + 16 + 256) + 2, 16),
}
# PNG: libpng writes 8 KiB IDAT chunks (640 for a 5 MB file); Pillow reads every chunk in Python.
MAX_PNG_CHUNKS = 4096


def _unusual_jpeg(what: str) -> ImageRefused:
    return ImageRefused(f"This JPEG is built in an unusual way ({what}); please re-save it.")


def _next_jpeg_marker(data: bytes, offset: int, *, in_header: bool) -> re.Match[bytes] | None:
    """The next marker from `offset`: right there in the header (the scans' data is skipped)."""
    if not in_header:
        return _JPEG_MARKER.search(data, offset)
    match = _JPEG_HEADER_MARKER.match(data, offset)
    if match is None and offset < len(data):
        if not _JPEG_MARKER.search(data, offset):  # a JPEG's start, then anything: HTML, a script...
            raise ImageRefused(NOT_AN_IMAGE)
        raise _unusual_jpeg("bytes between its header segments")
    return match  # None at the end of a truncated file: Pillow says it is damaged


def _check_jpeg_counts(scans: int, metadata: int, segments: int, max_scans: int) -> None:
    if scans > max_scans:
        raise _unusual_jpeg(f"more than {max_scans} scans")
    if metadata > MAX_JPEG_METADATA_SEGMENTS:
        raise _unusual_jpeg(f"more than {MAX_JPEG_METADATA_SEGMENTS} metadata segments")
    if segments > MAX_JPEG_SEGMENTS:
        raise _unusual_jpeg(f"more than {MAX_JPEG_SEGMENTS} segments")


@dataclass
class _JpegWalk:
    """What the walk has seen so far: scans, metadata and all segments, frame headers (before the
    first scan) and table segments since the last scan, by kind."""

    scans: int = 0
    metadata: int = 0
    segments: int = 0
    frames: int = 0
    tables: dict[int, int] | None = None


def _check_jpeg_frame_header(data: bytes, offset: int, marker: int, walk: _JpegWalk) -> None:
    """One frame header before the first scan, exactly as long as its components say."""
    walk.frames += 1
    if walk.frames > 1:
        raise _unusual_jpeg("more than one frame header")
    length = int.from_bytes(data[offset : offset + 2], "big")
    components = data[offset + 7] if offset + 7 < len(data) else 0
    if components not in _JPEG_COMPONENT_COUNTS or length != 8 + 3 * components:
        raise _unusual_jpeg(f"a frame header, FF {marker:02X}, of {length} bytes for {components} components")


def _check_jpeg_tables(data: bytes, offset: int, marker: int, walk: _JpegWalk) -> None:
    """A table segment no longer than its tables can be, and few of them between two scans."""
    kind, max_length, max_segments = _JPEG_TABLES[marker]
    if int.from_bytes(data[offset : offset + 2], "big") > max_length:
        raise _unusual_jpeg(f"a {kind} table segment longer than {max_length} bytes")
    walk.tables = walk.tables or {}
    walk.tables[marker] = walk.tables.get(marker, 0) + 1
    if walk.tables[marker] > max_segments:
        raise _unusual_jpeg(f"more than {max_segments} {kind} table segments before a scan")


def _count_jpeg_segment(data: bytes, offset: int, marker: int, walk: _JpegWalk) -> None:
    """Count the segment whose length field is at `offset`, and check the ones Pillow parses."""
    if marker == _JPEG_SOS:
        walk.scans += 1
        walk.tables = None
    elif marker == _JPEG_COM or 0xE0 <= marker <= 0xEF:
        walk.metadata += 1
    elif marker in _JPEG_TABLES:
        _check_jpeg_tables(data, offset, marker, walk)
    elif marker in _JPEG_FRAME_HEADERS and walk.scans == 0:
        _check_jpeg_frame_header(data, offset, marker, walk)
    _check_jpeg_counts(walk.scans, walk.metadata, walk.segments, settings.AVATAR_MAX_JPEG_SCANS)


def _check_jpeg_structure(data: bytes) -> None:
    """Refuse a JPEG whose segments would cost CPU or memory its pixels do not account for.

    libjpeg decodes every scan, a repeated one included (only a warning): thousands of scans in a
    few MB take minutes of CPU. Pillow keeps every APPn/COM segment before the first scan, empty
    ones too (a million 4-byte COMs: +160 MB). Walked to the end of the first image (an EOI after a
    scan; one before any scan is refused, as Pillow does not stop there), and
    stopped as soon as a cap is passed, so the walk itself is bounded. Up to the first scan (what
    Pillow parses in Python) segments must follow each other with at most a few fill bytes between,
    with one frame header of its exact length; table segments are capped in length and number.
    """
    walk = _JpegWalk()
    offset = 2  # after SOI
    while match := _next_jpeg_marker(data, offset, in_header=walk.scans == 0):
        marker, offset = match[1][0], match.end()
        if marker == _JPEG_EOI:
            # An end before any scan ends nothing for Pillow: its header parser reads on past it
            # (5 MB of fill after an early EOI took 2.4 s of CPU, a million empty COMs +86 MB).
            if walk.scans == 0:
                raise _unusual_jpeg("an end marker before its first scan")
            return
        if marker in _JPEG_RESERVED:
            raise _unusual_jpeg(f"a reserved marker, FF {marker:02X}")
        walk.segments += 1
        if marker in JPEG_NO_LENGTH:
            continue
        _count_jpeg_segment(data, offset, marker, walk)
        # A scan's header only: its entropy-coded data is skipped by the next search.
        offset += int.from_bytes(data[offset : offset + 2], "big")


def _check_png_structure(data: bytes) -> None:
    """Refuse a PNG of more chunks than any encoder writes (each costs Pillow a Python call)."""
    offset, chunks = 8, 0
    while offset + 8 <= len(data):
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            raise ImageRefused(
                f"This PNG is built in an unusual way (more than {MAX_PNG_CHUNKS} chunks); please re-save it."
            )
        if data[offset + 4 : offset + 8] == b"IEND":
            return
        offset += 12 + int.from_bytes(data[offset : offset + 4], "big")


# HEIC/HEIF (ISO-BMFF): libheif reads every item the `meta` box lists, and pillow-heif copies each
# metadata item's bytes (Exif, XMP) into Python; items may all point at one extent, so a 4 MB file
# could make it allocate gigabytes. Real files: a handful of image items, up to ~50 for a 12 MP grid
# of tiles plus its thumbnail and auxiliary images, and 1–3 metadata items (Exif, XMP).
MAX_HEIF_IMAGE_ITEMS = 256
MAX_HEIF_METADATA_ITEMS = 8
_HEIF_METADATA_TYPES = frozenset({b"Exif", b"mime", b"uri "})
MAX_HEIF_BOXES = 64  # top-level boxes, and children of `meta`
MAX_HEIF_EXTENTS = 1024
# The major brands pillow-heif's opener accepts (pillow_heif.as_plugin._is_supported_heif).
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_HEIF_DAMAGED = "This image could not be read: it may be damaged."


def _unusual_heif(what: str) -> ImageRefused:
    return ImageRefused(f"This HEIC is built in an unusual way ({what}); please re-save it.")


def _heif_boxes(data: bytes, start: int, end: int) -> dict[bytes, list[tuple[int, int]]]:
    """Boxes between `start` and `end`, by type: (payload start, payload end); sizes are checked."""
    boxes: dict[bytes, list[tuple[int, int]]] = {}
    offset, count = start, 0
    while offset < end:
        count += 1
        if count > MAX_HEIF_BOXES:
            raise _unusual_heif(f"more than {MAX_HEIF_BOXES} boxes")
        if offset + 8 > end:
            raise ImageRefused(_HEIF_DAMAGED)
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:  # a 64-bit size follows the type
            if offset + 16 > end:
                raise ImageRefused(_HEIF_DAMAGED)
            size, header = struct.unpack_from(">Q", data, offset + 8)[0], 16
        elif size == 0:  # to the end of the enclosing space
            size = end - offset
        if size < header or offset + size > end:
            raise ImageRefused(_HEIF_DAMAGED)
        boxes.setdefault(kind, []).append((offset + header, offset + size))
        offset += size
    return boxes


def _heif_one(
    boxes: dict[bytes, list[tuple[int, int]]], kind: bytes, *, required: bool = True
) -> tuple[int, int]:
    found = boxes.get(kind, [])
    if len(found) > 1 or (required and not found):
        raise ImageRefused(_HEIF_DAMAGED)
    return found[0] if found else (0, 0)


class _HeifReader:
    """Big-endian fields of one box's payload; reading past its end means a damaged file."""

    def __init__(self, data: bytes, start: int, end: int) -> None:
        self.data, self.offset, self.end = data, start, end

    def uint(self, size: int) -> int:
        if self.offset + size > self.end:
            raise ImageRefused(_HEIF_DAMAGED)
        value = int.from_bytes(self.data[self.offset : self.offset + size], "big")
        self.offset += size
        return value


def _heif_item_types(data: bytes, start: int, end: int) -> dict[int, bytes]:
    """Item id → item type, from `iinf` and its `infe` entries (capped before they are listed)."""
    reader = _HeifReader(data, start, end)
    version = reader.uint(4) >> 24
    declared = reader.uint(2 if version == 0 else 4)
    if declared > MAX_HEIF_IMAGE_ITEMS + MAX_HEIF_METADATA_ITEMS:
        raise _unusual_heif(f"more than {MAX_HEIF_IMAGE_ITEMS + MAX_HEIF_METADATA_ITEMS} items")
    types: dict[int, bytes] = {}
    offset = reader.offset
    while offset < end and len(types) < declared:
        size = int.from_bytes(data[offset : offset + 4], "big")
        if size < 8 or offset + size > end or data[offset + 4 : offset + 8] != b"infe":
            raise ImageRefused(_HEIF_DAMAGED)
        entry = _HeifReader(data, offset + 8, offset + size)
        entry_version = entry.uint(4) >> 24
        if entry_version < 2:  # ISO/IEC 23008-12 requires version 2 or 3
            raise _unusual_heif("an old item entry")
        item = entry.uint(2 if entry_version == 2 else 4)
        entry.uint(2)  # protection index
        types[item] = data[entry.offset : entry.offset + 4]
        offset += size
    if len(types) != declared:
        raise ImageRefused(_HEIF_DAMAGED)
    return types


def _heif_extents(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(item, construction method, start, length) of every extent `iloc` lists."""
    reader = _HeifReader(data, start, end)
    version = reader.uint(4) >> 24
    sizes = reader.uint(2)
    offset_size, length_size, base_size, index_size = (
        (sizes >> 12) & 15,
        (sizes >> 8) & 15,
        (sizes >> 4) & 15,
        sizes & 15,
    )
    if version > 2 or {offset_size, length_size, base_size, index_size} - {0, 4, 8}:
        raise ImageRefused(_HEIF_DAMAGED)
    index_size = index_size if version else 0
    items = reader.uint(4 if version == 2 else 2)
    if items > MAX_HEIF_IMAGE_ITEMS + MAX_HEIF_METADATA_ITEMS:
        raise _unusual_heif(f"more than {MAX_HEIF_IMAGE_ITEMS + MAX_HEIF_METADATA_ITEMS} items")
    extents: list[tuple[int, int, int, int]] = []
    for _ in range(items):
        item = reader.uint(4 if version == 2 else 2)
        method = reader.uint(2) & 15 if version else 0
        reader.uint(2)  # data reference: 0, this file
        base = reader.uint(base_size)
        count = reader.uint(2)
        if len(extents) + count > MAX_HEIF_EXTENTS:
            raise _unusual_heif(f"more than {MAX_HEIF_EXTENTS} extents")
        for _ in range(count):
            reader.uint(index_size)
            extent_offset = reader.uint(offset_size)
            extents.append((item, method, base + extent_offset, reader.uint(length_size)))
    return extents


def _check_heif_extents(extents: list[tuple[int, int, int, int]], spaces: dict[int, int]) -> dict[int, int]:
    """Each extent within its space (the file, or `idat`), none sharing bytes: item → its bytes."""
    ranges: dict[int, list[tuple[int, int]]] = {}
    item_bytes: dict[int, int] = {}
    for item, method, start, length in extents:
        if method not in spaces:  # 2: bytes of another item, which no camera writes
            raise _unusual_heif("an item made of another item's bytes")
        end = start + length if length else spaces[method]  # a length of 0: to the end
        if end > spaces[method] or start >= end:
            raise ImageRefused(_HEIF_DAMAGED)
        ranges.setdefault(method, []).append((start, end))
        item_bytes[item] = item_bytes.get(item, 0) + end - start
    for space in ranges.values():
        space.sort()
        if any(later[0] < earlier[1] for earlier, later in zip(space, space[1:], strict=False)):
            raise _unusual_heif("items sharing the same bytes")
    return item_bytes


def _check_heif_structure(data: bytes) -> None:
    """Refuse a HEIF whose item list makes libheif and pillow-heif copy far more than the file holds."""
    meta_start, meta_end = _heif_one(_heif_boxes(data, 0, len(data)), b"meta")
    meta = _heif_boxes(data, meta_start + 4, meta_end)  # a full box: version and flags first
    types = _heif_item_types(data, *_heif_one(meta, b"iinf"))
    metadata_items = {item for item, kind in types.items() if kind in _HEIF_METADATA_TYPES}
    if len(metadata_items) > MAX_HEIF_METADATA_ITEMS:
        raise _unusual_heif(f"more than {MAX_HEIF_METADATA_ITEMS} metadata items")
    if len(types) - len(metadata_items) > MAX_HEIF_IMAGE_ITEMS:
        raise _unusual_heif(f"more than {MAX_HEIF_IMAGE_ITEMS} image items")
    extents = _heif_extents(data, *_heif_one(meta, b"iloc"))
    idat_start, idat_end = _heif_one(meta, b"idat", required=False)
    item_bytes = _check_heif_extents(extents, {0: len(data), 1: idat_end - idat_start})
    metadata = sum(size for item, size in item_bytes.items() if item in metadata_items)
    if metadata > settings.AVATAR_MAX_METADATA_BYTES:
        raise ImageRefused("This image carries too much metadata (EXIF, XMP…). Please export it again.")


def _check_structure(data: bytes) -> None:
    """Bound the work the decoder does beyond its pixels, by the file's layout (before Pillow reads it)."""
    if data.startswith(b"\xff\xd8\xff"):  # what Pillow's JPEG opener takes
        _check_jpeg_structure(data)
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        _check_png_structure(data)
    elif data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:  # what pillow-heif's opener takes
        _check_heif_structure(data)


def _jpeg_cost(image: Image.Image, data: bytes) -> int:
    """Bytes decoding this JPEG takes at the draft scale _decode asks for, from its header."""
    width, height = image.size
    scale = min(width // max(SIZES), height // max(SIZES))
    scale = next((s for s in (8, 4, 2) if scale >= s), 1)  # as Pillow's JpegImageFile.draft
    cost = -(-width // scale) * -(-height // scale) * _DECODED_BYTES_PER_PIXEL
    layers = getattr(image, "layer", [])
    if image.info.get("progressive") or not _jpeg_scans_share_one_buffer(data, len(layers)):
        # Two bytes per coefficient, 64 per 8×8 block of each component at its own sampling.
        h_max = max((h for _, h, _, _ in layers), default=1) or 1
        v_max = max((v for _, _, v, _ in layers), default=1) or 1
        for _, h, v, _ in layers:
            blocks = -(-width * max(h, 1) // (8 * h_max)) * -(-height * max(v, 1) // (8 * v_max))
            cost += blocks * 64 * 2
    return cost


def _decode_cost(image: Image.Image, data: bytes) -> int:
    """An upper bound of the memory decoding this upload takes, from its header alone."""
    if FORMATS.get(image.format or "") == "JPEG":
        return _jpeg_cost(image, data)
    width, height = image.size
    if image.format == "HEIF" and "A" not in image.mode:
        return width * height * _HEIF_OPAQUE_BYTES_PER_PIXEL
    return width * height * _BYTES_PER_PIXEL.get(image.format or "", max(_BYTES_PER_PIXEL.values()))


# A progressive JPEG keeps 2 bytes per DCT coefficient: 3 B per pixel at 4:2:0, plus its pixels.
_JPEG_BROWSER_BYTES_PER_PIXEL = 4
_TYPE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}


def max_pixels_by_type() -> dict[str, int]:
    """The most pixels the server decodes, per content type: the browser scales a larger picture.

    From the same budget _open checks, so a picture the browser lets through unscaled is accepted
    (a JPEG's cost also depends on its kind, a HEIC's on its alpha: this is the worst case,
    progressive JPEG, HEIC with alpha). Only browsers that decode HEIC (Safari) can use the HEIC
    figure; the others send a HEIC as it is, and the server takes a phone's (opaque) photo up to
    AVATAR_MAX_HEIC_DECODE_MB / 16 B: 25.1 MP by default.
    """
    budget = _budget(None)
    limits = {
        content_type: budget // (_BYTES_PER_PIXEL.get(name) or _JPEG_BROWSER_BYTES_PER_PIXEL)
        for content_type, name in _TYPE_FORMATS.items()
    }
    limits["image/heic"] = limits["image/heif"] = _budget("HEIF") // _BYTES_PER_PIXEL["HEIF"]
    return {content_type: min(pixels, settings.AVATAR_MAX_PIXELS) for content_type, pixels in limits.items()}


def _too_costly(image: Image.Image, allowed: float) -> str:
    width, height = image.size
    if image.format == "HEIF":  # a phone's own photo: say what to change on the phone
        return (
            f"This phone photo is too large to process here ({width}×{height} pixels, HEIC): at most "
            f"about {allowed:g} megapixels for a HEIC picture, please. Choose a smaller copy, or set the "
            "phone's camera to 'Most Compatible' (JPEG) and send a JPEG, which may be larger."
        )
    if FORMATS.get(image.format or "") == "JPEG":
        hint = "; a baseline (not progressive) JPEG may be larger" if image.info.get("progressive") else ""
    else:
        hint = "; a JPEG may be larger"
    return (
        f"This image is too large to process ({width}×{height} pixels): at most about {allowed:g} "
        f"megapixels for a {_format_name(image)}, please{hint}."
    )


def _format_name(image: Image.Image) -> str:
    if FORMATS.get(image.format or "") == "JPEG":
        return "progressive JPEG" if image.info.get("progressive") else "JPEG of this kind"
    return FORMATS.get(image.format or "", "image")


def _open(data: bytes) -> Image.Image:
    max_pixels = settings.AVATAR_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=OPEN_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard saw the header first: same answer as ours below.
        raise ImageRefused(_too_many_pixels(max_pixels)) from None
    except UnidentifiedImageError:
        raise ImageRefused(NOT_AN_IMAGE) from None
    except _READ_ERRORS:  # a malformed header: a clear refusal, never a 500
        raise ImageRefused("This image could not be read: it may be damaged.") from None
    # Everything below is checked from the header, before a single pixel is decoded.
    width, height = image.size
    if width < 1 or height < 1 or width * height > max_pixels:
        raise ImageRefused(_too_many_pixels(max_pixels, f" ({width}×{height} pixels)"))
    if min(width, height) < MIN_SIDE:
        raise ImageRefused(f"This image is too small: at least {MIN_SIDE}×{MIN_SIDE} pixels, please.")
    # A long thin picture defeats JPEG's scaled decoding (it keeps the short side >= 512 px): a
    # 65500×610 JPEG would decode in full, ~300 MB. Its square crop would be a sliver anyway.
    max_side, max_aspect = settings.AVATAR_MAX_SIDE, settings.AVATAR_MAX_ASPECT
    if max(width, height) > max_side or max(width, height) > max_aspect * min(width, height):
        raise ImageRefused(
            f"This picture is too long and thin ({width}×{height} pixels): its longer side may be at "
            f"most {max_aspect:g} times its shorter side and at most {max_side} pixels. Please crop it."
        )
    # What the decoder will hold in memory: bounded per upload whatever the format and shape.
    budget = _budget(image.format)
    cost = _decode_cost(image, data)
    if cost > budget:
        allowed = int(width * height * budget / cost / 100_000) / 10
        raise ImageRefused(_too_costly(image, allowed))
    if _metadata_size(image) > settings.AVATAR_MAX_METADATA_BYTES:
        raise ImageRefused("This image carries too much metadata (EXIF, XMP…). Please export it again.")
    return image


_MIB = 1024 * 1024


def _budget(image_format: str | None) -> int:
    """Bytes one decode of this format may take: HEIC (which no browser scales for us) may take more."""
    budget = settings.AVATAR_MAX_DECODE_MB * _MIB
    if image_format == "HEIF":
        return max(budget, settings.AVATAR_MAX_HEIC_DECODE_MB * _MIB)
    return budget


@dataclass
class _LargeDecodeState:
    active: int = 0
    waiting: int = 0


_large_decodes = threading.Condition()
_large_decode_state = _LargeDecodeState()


def large_decodes() -> tuple[int, int]:
    """(running, waiting): this process's decodes over AVATAR_MAX_DECODE_MB, for logs and tests."""
    with _large_decodes:
        return _large_decode_state.active, _large_decode_state.waiting


@contextmanager
def large_decode_slot() -> Iterator[None]:
    """Hold one of this process's AVATAR_LARGE_DECODES slots for a decode over the ordinary budget.

    Waits up to AVATAR_LARGE_DECODE_WAIT_SECONDS for a slot, then raises ImageBusy: so a process
    never holds more than AVATAR_LARGE_DECODES × AVATAR_MAX_HEIC_DECODE_MB for large decodes, plus
    AVATAR_MAX_DECODE_MB for each other request thread, however many large photos arrive at once.
    """
    state = _large_decode_state
    with _large_decodes:
        state.waiting += 1
        try:
            free = _large_decodes.wait_for(
                lambda: state.active < settings.AVATAR_LARGE_DECODES,
                timeout=settings.AVATAR_LARGE_DECODE_WAIT_SECONDS,
            )
        finally:
            state.waiting -= 1
        if not free:
            logger.warning("large avatar decode refused: %d running, none free", state.active)
            raise ImageBusy(BUSY)
        state.active += 1
    try:
        yield
    finally:
        with _large_decodes:
            state.active -= 1
            _large_decodes.notify()


# EXIF orientation → the transpose that makes the image upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


# Rows of the full-size HEIC Pillow copies at once, per unit of the reduction factor.
_HEIF_BAND_ROWS = 32
# pillow-heif leaves monochrome HDR (10/12-bit) in 16 bits, which Pillow cannot reduce: read the
# most significant byte of each little-endian sample as 8-bit grey instead.
_HEIF_RAW_MODES = {"I;16": ("L", "L;16"), "I;16L": ("L", "L;16")}


def _decode_heif(data: bytes) -> Image.Image:
    """The primary image, as libheif decodes it (upright: it applies the file's rotation and
    mirroring; pillow-heif resets the EXIF orientation), reduced by an integer factor band by band.

    Pillow's own load() copies libheif's whole RGB(A) output into an image of its own (4 B per
    pixel more at the peak: 172 MiB instead of 114 for 24 MP); here each band of rows is wrapped,
    reduced and pasted, so the full-size pixels exist only once, in libheif's buffer.
    """
    heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True, remove_stride=False)
    width, height = heif.size
    stride = heif.stride
    mode, raw_mode = _HEIF_RAW_MODES.get(heif.mode, (heif.mode, heif.mode))
    factor = max(1, min(width, height) // max(SIZES))
    reduced = Image.new(mode, (-(-width // factor), -(-height // factor)))
    pixels = memoryview(heif.data)
    step = factor * _HEIF_BAND_ROWS
    for top in range(0, height, step):
        rows = min(step, height - top)
        band = Image.frombuffer(
            mode, (width, rows), pixels[top * stride : (top + rows) * stride], "raw", raw_mode, stride, 1
        )
        reduced.paste(band.reduce(factor) if factor > 1 else band, (0, top // factor))
    pixels.release()
    return (
        reduced
        if reduced.mode in ("RGB", "RGBA")
        else reduced.convert("RGBA" if "A" in reduced.mode else "RGB")
    )


def _decode(image: Image.Image, data: bytes) -> Image.Image:
    """Decode the first frame, upright, at the smallest scale that still covers the largest size."""
    if image.format == "HEIF":
        try:
            return _decode_heif(data)
        except (*_READ_ERRORS, RuntimeError):  # pillow-heif's errors, as its Pillow plugin lists them
            raise ImageRefused("This image could not be read: it may be damaged or truncated.") from None
    if FORMATS.get(image.format or "") == "JPEG":
        # JPEG draft mode: the decoder scales by 1/2, 1/4 or 1/8 while decoding, keeping both
        # sides >= the requested size. A 12-megapixel photo then decodes as 0.75 megapixels.
        image.draft("RGB", (max(SIZES), max(SIZES)))
    image.seek(0)  # GIF/WebP animations: the first frame
    try:
        # Read before any copy: derived images do not carry the EXIF block.
        orientation = image.getexif().get(0x0112, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            has_alpha = image.mode in ("RGBA", "LA", "PA") or (
                image.mode == "P" and "transparency" in image.info
            )
            pixels = image if image.mode in ("RGB", "RGBA") else image.convert("RGBA" if has_alpha else "RGB")
            # Shrink at once (integer box reduction, cheap) so every later copy is small.
            factor = min(pixels.size) // max(SIZES)
            if factor >= 2:
                pixels = pixels.reduce(factor)
            if isinstance(orientation, int) and orientation in _UPRIGHT:
                pixels = pixels.transpose(_UPRIGHT[orientation])
            if pixels is image:  # the caller closes the file's image: keep a copy (small here)
                pixels = image.copy()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused("This image is too large to process.") from None
    except _READ_ERRORS:  # truncated or corrupt data, broken EXIF...
        raise ImageRefused("This image could not be read: it may be damaged or truncated.") from None
    return pixels


def _clean(image: Image.Image) -> Image.Image:
    """A copy with the pixels only: no info, EXIF, ICC or XMP can reach the encoder."""
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def avatar_renditions(*, data: bytes) -> Renditions:
    """Square WebP renditions (SIZES) of an uploaded image, or ImageRefused with a message."""
    if not data:
        raise ImageRefused("The file is empty.")
    if len(data) > settings.AVATAR_MAX_BYTES:
        raise ImageRefused(f"The file is too large: at most {settings.AVATAR_MAX_BYTES // (1024 * 1024)} MB.")
    _check_structure(data)
    image = _open(data)
    try:
        if _decode_cost(image, data) > settings.AVATAR_MAX_DECODE_MB * _MIB:
            with large_decode_slot():
                pixels = _decode(image, data)
        else:
            pixels = _decode(image, data)
    finally:
        image.close()
    if min(pixels.size) < MIN_SIDE:  # checked on the header already; EXIF rotation keeps sides
        raise ImageRefused(f"This image is too small: at least {MIN_SIDE}×{MIN_SIDE} pixels, please.")
    by_size: dict[int, bytes] = {}
    square = ImageOps.fit(pixels, (max(SIZES), max(SIZES)), Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    for size in sorted(SIZES, reverse=True):
        rendition = square if size == square.width else square.resize((size, size), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        _clean(rendition).save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
        by_size[size] = buffer.getvalue()
    return Renditions(by_size=by_size)
