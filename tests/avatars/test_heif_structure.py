"""HEIC's item list is walked before libheif and pillow-heif read it: no metadata bombs, no lying boxes."""

from __future__ import annotations

import struct
from http import HTTPStatus

import pytest
from django.conf import settings
from PIL import Image

from profiles.images import ImageRefused, avatar_renditions
from tests.support import heif
from tests.support.avatars import post_json, post_to_s3, profile_of, start_direct_upload, upload

pytestmark = pytest.mark.django_db

TOO_MUCH_METADATA = "This image carries too much metadata (EXIF, XMP…). Please export it again."
DAMAGED = "This image could not be read: it may be damaged."


def _box_offset(data: bytes, kind: bytes, *, in_meta: bool = False) -> int:
    boxes = heif.meta_boxes(data) if in_meta else heif.top_level_boxes(data)
    return next(offset for found, offset, _ in boxes if found == kind)


@pytest.mark.parametrize("path", ["form", "presigned"])
def test_a_heic_of_many_items_sharing_one_big_exif_is_refused(person, keys_under, path):
    """160 Exif items, one 4 MB extent: pillow-heif would copy it 160 times (~1.2 GB) when opening."""
    client, email = person()
    bomb = heif.heic_with_exif_items(160, 4_000_000)
    assert len(bomb) <= settings.AVATAR_MAX_BYTES
    message = "This HEIC is built in an unusual way (more than 8 metadata items); please re-save it."
    if path == "form":
        response = upload(client, bomb, name="IMG_0002.HEIC", content_type="image/heic")
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert message in response.content.decode()
    else:
        presigned = start_direct_upload(client, "image/heic")
        assert post_to_s3(presigned, bomb).status_code == 204
        done = post_json(client, "/me/avatar/upload/done/", {"key": presigned["key"]})
        assert done.status_code == HTTPStatus.BAD_REQUEST
        assert message in done.json()["error"]
    profile = profile_of(email)
    assert profile.avatar_key == ""
    assert keys_under(f"protected/{profile.identity_id}/") == []


def test_a_few_items_sharing_one_extent_are_refused():
    """Under the item cap, the shared bytes themselves are refused (each item would copy them)."""
    with pytest.raises(ImageRefused, match=r"unusual way \(items sharing the same bytes\)"):
        avatar_renditions(data=heif.heic_with_exif_items(3, 1000))


def test_distinct_exif_items_over_the_metadata_cap_are_refused():
    data = heif.heic_with_exif_items(5, 60_000, distinct=True)  # ~300 kB of Exif, in 6 items
    with pytest.raises(ImageRefused) as refused:
        avatar_renditions(data=data)
    assert str(refused.value) == TOO_MUCH_METADATA


def test_heics_as_pillow_heif_writes_them_pass():
    exif = Image.Exif()
    exif[0x010F] = "PhoneCam"  # Make
    for data in (
        heif.heic(480, 320),
        heif.heic(480, 320, exif=exif.tobytes()),
        heif.heic(480, 320, mode="RGBA"),
        heif.heic(2048, 1536),  # 3 MP (pillow-heif writes no grids)
        heif.heic_with_exif_items(1, 1000, distinct=True),  # a second, ordinary Exif item
    ):
        assert set(avatar_renditions(data=data).by_size) == {512, 128}


def test_alpha_heic_uploads_through_the_form(person):
    client, email = person("Alma Alpha")
    response = upload(
        client, heif.heic(480, 320, mode="RGBA"), name="IMG_0003.HEIC", content_type="image/heic"
    )
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    assert profile_of(email).avatar_key


def _lies(data: bytes) -> dict[str, bytes]:
    meta = _box_offset(data, b"meta")
    iinf = _box_offset(data, b"iinf", in_meta=True)
    iloc = _box_offset(data, b"iloc", in_meta=True)
    mdat = _box_offset(data, b"mdat")

    def patched(offset: int, value: bytes) -> bytes:
        return data[:offset] + value + data[offset + len(value) :]

    return {
        "meta cut short": data[: meta + 40],
        "meta larger than the file": patched(meta, struct.pack(">I", len(data))),
        "meta smaller than its header": patched(meta, struct.pack(">I", 4)),
        "iinf larger than meta": patched(iinf, struct.pack(">I", 1 << 20)),
        "iinf counting more entries": patched(iinf + 12, b"\x00\x05"),
        "iloc counting more items": patched(iloc + 14, b"\x00\x40"),
        "a 64-bit size past the end": patched(mdat, struct.pack(">I4sQ", 1, b"mdat", 1 << 40)),
        "a size of 0 then a lying 64-bit meta": patched(meta, struct.pack(">I4sQ", 1, b"meta", 1 << 62)),
        "mdat truncated": data[: mdat + 100],
    }


@pytest.mark.parametrize("lie", list(_lies(heif.heic(480, 320))))
def test_truncated_or_lying_boxes_are_refused_cleanly(lie):
    data = _lies(heif.heic(480, 320))[lie]
    with pytest.raises(ImageRefused) as refused:
        avatar_renditions(data=data)
    assert "damaged" in str(refused.value) or "unusual way" in str(refused.value)


def test_a_size_of_zero_runs_to_the_end_of_the_file():
    """A last box of size 0 (to the end of the file) is valid ISO-BMFF: the picture still passes."""
    data = heif.heic(480, 320)
    mdat = _box_offset(data, b"mdat")
    assert mdat + int.from_bytes(data[mdat : mdat + 4], "big") == len(data)
    zero = data[:mdat] + b"\x00\x00\x00\x00" + data[mdat + 4 :]
    assert set(avatar_renditions(data=zero).by_size) == {512, 128}
