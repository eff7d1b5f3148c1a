"""Test images, built in-process: good ones, polyglots and every kind of bad upload."""

from __future__ import annotations

import functools
import io
import struct
import zlib

from PIL import Image


def jpeg(width: int = 900, height: int = 600, *, orientation: int | None = None, **save) -> bytes:
    """A JPEG whose top half is red and bottom half blue (to see rotations), with GPS-ish EXIF."""
    image = Image.new("RGB", (width, height), (220, 20, 20))
    image.paste((20, 20, 220), (0, height // 2, width, height))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "leaky-software 1.0"  # Software
    if orientation:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif, **save)
    return buffer.getvalue()


def encoded(fmt: str, size: tuple[int, int] = (300, 200), mode: str = "RGB", **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (10, 160, 90) if mode == "RGB" else 1).save(buffer, fmt, **save)
    return buffer.getvalue()


def gif_animation() -> bytes:
    """Two frames: green first, then magenta (only the first may become the avatar)."""
    frames = [Image.new("RGB", (200, 200), c) for c in ((0, 200, 0), (200, 0, 200))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.lru_cache(maxsize=1)
def png_bomb(side: int = 20000) -> bytes:
    """A real 20000×20000 1-bit PNG of zeros: ~50 kB on disk, 400 megapixels decoded."""
    row = b"\x00" * (1 + side // 8)
    compressor = zlib.compressobj(9)
    chunks = [compressor.compress(row) for _ in range(side)]
    chunks.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(chunks))
        + _png_chunk(b"IEND", b"")
    )


def jpeg_with_huge_exif(segments: int = 8) -> bytes:
    """A valid JPEG carrying eight near-maximal APP1 EXIF segments (~500 kB of metadata)."""
    data = jpeg(200, 200)
    payload = b"Exif\x00\x00" + b"II*\x00\x08\x00\x00\x00" + b"\x00" * 60_000
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + segment * segments + data[2:]


def png_with_huge_exif() -> bytes:
    """A valid PNG with a 1 MB eXIf chunk before its pixels."""
    data = encoded("PNG")
    end_of_ihdr = 8 + 8 + 13 + 4
    exif = b"MM\x00*\x00\x00\x00\x08" + b"\x00" * 1_000_000
    return data[:end_of_ihdr] + _png_chunk(b"eXIf", exif) + data[end_of_ihdr:]


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
PHP = b"<?php system($_GET['cmd']); ?>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'


def webp_chunks(data: bytes) -> list[bytes]:
    """The RIFF chunk ids of a WebP file; asserts the RIFF size covers the file exactly."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP", data[:16]
    assert struct.unpack("<I", data[4:8])[0] + 8 == len(data), "bytes after the RIFF container"
    chunks, offset = [], 12
    while offset < len(data):
        kind, size = data[offset : offset + 4], struct.unpack("<I", data[offset + 4 : offset + 8])[0]
        chunks.append(kind)
        offset += 8 + size + (size & 1)
    assert offset == len(data)
    return chunks


def _jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each segment up to EOI; a scan's end includes its entropy-coded data."""
    segments, offset = [], 2
    while data[offset + 1] != 0xD9:
        marker, length = data[offset + 1], struct.unpack(">H", data[offset + 2 : offset + 4])[0]
        end = offset + 2 + length
        if marker == 0xDA:
            while not (data[end] == 0xFF and data[end + 1] not in (0x00, *range(0xD0, 0xD8))):
                end += 1
        segments.append((marker, offset, end))
        offset = end
    return segments


def jpeg_with_repeated_scans(extra: int, size: int = 64) -> bytes:
    """A progressive JPEG with one AC scan (and its Huffman tables) repeated `extra` times.

    libjpeg decodes a repeated first-pass AC scan again (with a warning only), so each costs a pass
    over every block: the reviewer's CPU bomb (10,474 extra scans in 1 MB took 43 s at 1024 px).
    """
    data = encoded("JPEG", (size, size), "L", progressive=True, quality=50)
    segments = _jpeg_segments(data)
    for index, (marker, start, _) in enumerate(segments):
        components = data[start + 4]
        spectral_start, approximation = data[start + 5 + 2 * components], data[start + 7 + 2 * components]
        if marker == 0xDA and spectral_start > 0 and approximation >> 4 == 0:  # an AC first scan
            first = index
            while segments[first - 1][0] == 0xC4:  # its DHTs
                first -= 1
            scan = data[segments[first][1] : segments[index][2]]
            break
    eoi = segments[-1][2]
    return data[:eoi] + scan * extra + data[eoi:]


def jpeg_with_empty_comments(count: int) -> bytes:
    """A valid JPEG with `count` empty COM segments (FF FE 00 02) before its frame."""
    data = jpeg(200, 200)
    return data[:2] + b"\xff\xfe\x00\x02" * count + data[2:]


def png_with_chunks(count: int) -> bytes:
    """A valid PNG with `count` empty private ancillary chunks before its pixels."""
    data = encoded("PNG")
    end_of_ihdr = 8 + 8 + 13 + 4
    return data[:end_of_ihdr] + _png_chunk(b"raNd", b"") * count + data[end_of_ihdr:]


def jpeg_with_junk_after_app0(junk: bytes) -> bytes:
    """A valid JPEG with `junk` between its APP0 (JFIF) segment and the next (the reviewer's 5 MB of fill)."""
    data = encoded("JPEG", (64, 64))
    end_of_app0 = 4 + struct.unpack(">H", data[4:6])[0]
    return data[:end_of_app0] + junk + data[end_of_app0:]


def jpeg_with_comments_behind_reserved_markers(repeats: int, marker: int = 0xF0) -> bytes:
    """Reviewer E: `FF F0` then 16,382 empty COMs, `repeats` times, after APP0 (a valid JPEG otherwise).

    A walk that reads the reserved marker's next two bytes (FF FE) as its length skips the COMs;
    Pillow gives it no length and keeps every COM (78 repeats in 5.1 MB: 1.28 M comments, +99 MB).
    """
    hidden = bytes((0xFF, marker)) + b"\xff\xfe\x00\x02" * 16_382 + b"\xff\xfe\x00\x04ab"
    assert int.from_bytes(hidden[2:4], "big") == len(hidden) - 2  # exactly what the length would skip
    return jpeg_with_junk_after_app0(hidden * repeats)


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def frame_header(marker: int = 0xC0, length: int = 65535) -> bytes:
    """Reviewer F: a 64×64 three-component frame header, padded with component entries to `length`."""
    payload = bytes([8]) + struct.pack(">HH", 64, 64) + bytes([3])
    payload += b"\x01\x11\x00" * ((length - 2 - len(payload)) // 3)
    return jpeg_segment(marker, payload)


def table_segment(marker: int, tables: int, *, largest: bool = False) -> bytes:
    """A DQT or DHT of `tables` tables for destination 0: small ones, or the largest of their kind.

    DQT: 8-bit (1 + 64 bytes) or 16-bit (1 + 128). DHT: one 1-bit code (1 + 16 + 1) or 256 codes'
    worth of bytes (1 + 16 + 256; the walk reads no table's contents).
    """
    if marker == 0xDB:
        table = b"\x10" + bytes(128) if largest else b"\x00" + bytes(range(1, 65))
    else:
        table = b"\x00" + (bytes(16) + bytes(256) if largest else b"\x01" + bytes(15) + b"\x00")
    return jpeg_segment(marker, table * tables)


def heic(width: int = 480, height: int = 320, *, alpha: bool = False) -> bytes:
    """A HEIC as iPhones save them (libheif through pillow-heif): red above blue, like jpeg().

    With `alpha`, half transparent below (the costliest kind to decode; no phone writes it).
    """
    import pillow_heif

    pillow_heif.register_heif_opener()
    image = Image.new("RGBA" if alpha else "RGB", (width, height), (220, 20, 20, 255))
    image.paste((20, 20, 220, 128), (0, height // 2, width, height))
    buffer = io.BytesIO()
    image.save(buffer, "HEIF", quality=70)
    return buffer.getvalue()


# iPhones' photo sizes: 12 MP (most models) and 24 MP (the default on the 15 and 16 Pro).
IPHONE_12_MP = (4032, 3024)
IPHONE_24_MP = (5712, 4284)


@functools.lru_cache(maxsize=4)
def phone_heic(width: int, height: int) -> bytes:
    """heic() at a phone's full size, encoded once per test session (x265 takes seconds at 24 MP)."""
    return heic(width, height)


def heic_grey_10_bit(width: int = 480, height: int = 320) -> bytes:
    """A 10-bit monochrome HEIC (pillow-heif opens it as 16-bit I;16, which Pillow cannot reduce)."""
    import pillow_heif

    level = struct.pack("<H", 30000)  # 30000 / 65535: grey 117 in 8 bits
    buffer = io.BytesIO()
    pillow_heif.from_bytes(mode="L;16", size=(width, height), data=level * (width * height)).save(
        buffer, quality=70
    )
    return buffer.getvalue()
