"""HEIC files built in-process from pillow-heif's output, then rewritten box by box (metadata bombs)."""

from __future__ import annotations

import io
import struct

from PIL import Image


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _boxes(data: bytes, offset: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of each box from `offset` to `end` (32-bit sizes, as libheif writes)."""
    found = []
    while offset < end:
        size, kind = struct.unpack_from(">I4s", data, offset)
        found.append((kind, offset, size))
        offset += size
    return found


def top_level_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    return _boxes(data, 0, len(data))


def meta_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """The children of the `meta` box (a full box: 4 bytes of version and flags first)."""
    _, offset, size = next(box for box in top_level_boxes(data) if box[0] == b"meta")
    return _boxes(data, offset + 12, offset + size)


def heic(width: int = 480, height: int = 320, *, mode: str = "RGB", exif: bytes | None = None) -> bytes:
    """A HEIC as libheif writes it through pillow-heif: red above blue, optional alpha and Exif."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    image = Image.new(mode, (width, height), (220, 20, 20, 255)[: len(mode)])
    image.paste((20, 20, 220, 128)[: len(mode)], (0, height // 2, width, height))
    buffer = io.BytesIO()
    image.save(buffer, "HEIF", quality=70, **({"exif": exif} if exif else {}))
    return buffer.getvalue()


def heic_with_exif_items(items: int, size: int, *, distinct: bool = False) -> bytes:
    """A 1024×1024 HEIC plus `items` Exif items of `size` bytes each, tied to the picture by `cdsc`.

    All of them point at one extent in an appended `mdat` (a file of ~`size` bytes that libheif and
    pillow-heif would copy `items` times), or with `distinct` each at its own (a file of items × size).
    """
    exif = b"MM\x00\x2a\x00\x00\x00\x08\x00\x00" + b"\x00" * size
    base = heic(1024, 1024, exif=b"Exif\x00\x00" + exif[:100])
    top = top_level_boxes(base)
    _, meta_offset, meta_size = next(box for box in top if box[0] == b"meta")
    _, mdat_offset, mdat_size = next(box for box in top if box[0] == b"mdat")
    children = [(kind, base[offset + 8 : offset + size_]) for kind, offset, size_ in meta_boxes(base)]
    extent = len(exif) + 4  # the 4-byte offset to the TIFF header, then the TIFF

    def rebuilt(extra_offset: int, shift: int) -> bytes:
        payloads = []
        for kind, body in children:
            if kind == b"iinf":
                body = _more_infe(body, items)
            elif kind == b"iloc":
                starts = [extra_offset + (i * extent if distinct else 0) for i in range(items)]
                body = _more_iloc(body, starts, extent, shift)
            elif kind == b"iref":
                body += b"".join(_box(b"cdsc", struct.pack(">HHH", 1000 + i, 1, 1)) for i in range(items))
            payloads.append(_box(kind, body))
        return _box(b"meta", base[meta_offset + 8 : meta_offset + 12] + b"".join(payloads))

    before = b"".join(
        base[offset : offset + size_] for kind, offset, size_ in top if kind not in (b"meta", b"mdat")
    )
    meta_length = len(rebuilt(0, 0))
    shift = len(before) + meta_length - mdat_offset  # the picture's mdat moves by this much
    extra_offset = len(before) + meta_length + mdat_size + 8
    meta = rebuilt(extra_offset, shift)
    assert len(meta) == meta_length
    payload = (b"\x00\x00\x00\x00" + exif) * (items if distinct else 1)
    return before + meta + base[mdat_offset : mdat_offset + mdat_size] + _box(b"mdat", payload)


def _more_infe(body: bytes, items: int) -> bytes:
    version = body[0]
    count_size = 2 if version == 0 else 4
    count = int.from_bytes(body[4 : 4 + count_size], "big") + items
    extra = b"".join(
        _box(b"infe", b"\x02\x00\x00\x00" + struct.pack(">HH", 1000 + i, 0) + b"Exif\x00")
        for i in range(items)
    )
    return body[:4] + count.to_bytes(count_size, "big") + body[4 + count_size :] + extra


def _more_iloc(body: bytes, starts: list[int], length: int, shift: int) -> bytes:
    """`iloc` version 0 with 4-byte offsets, lengths and base offsets (libheif's), and an entry per start."""
    assert body[0] == 0 and body[4:6] == b"\x44\x40", body[:8].hex()
    count = int.from_bytes(body[6:8], "big")
    entries = bytearray(body[8:])
    position = 0
    for _ in range(count):  # move each existing item's base offset with its mdat
        base_offset = int.from_bytes(entries[position + 4 : position + 8], "big")
        entries[position + 4 : position + 8] = (base_offset + shift).to_bytes(4, "big")
        extents = int.from_bytes(entries[position + 8 : position + 10], "big")
        position += 10 + 8 * extents
    extra = b"".join(
        struct.pack(">HHIHII", 1000 + i, 0, 0, 1, start, length) for i, start in enumerate(starts)
    )
    return body[:6] + (count + len(starts)).to_bytes(2, "big") + bytes(entries) + extra
