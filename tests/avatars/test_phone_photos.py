"""Pictures as phones make them: HEIC through the same checks as every format, then clean WebP."""

from __future__ import annotations

import io
from http import HTTPStatus

import pytest
from PIL import Image

from profiles.images import ImageRefused, avatar_renditions
from tests.support import images as test_images
from tests.support.avatars import profile_of, upload

pytestmark = pytest.mark.django_db


def test_a_heic_becomes_clean_square_webps():
    data = test_images.heic(480, 320)
    assert data[4:12] in (b"ftypheic", b"ftypmif1")
    renditions = avatar_renditions(data=data)
    for size, webp in renditions.by_size.items():
        image = Image.open(io.BytesIO(webp))
        assert image.format == "WEBP" and image.size == (size, size)
        top, bottom = (
            image.convert("RGB").getpixel((size // 2, size // 8)),
            image.convert("RGB").getpixel((size // 2, size - size // 8)),
        )
        assert top[0] > 150 and bottom[2] > 150  # upright: red above blue


def test_a_heic_meets_the_same_limits_before_it_is_decoded(settings):
    settings.AVATAR_MAX_DECODE_MB = 1  # 480×320 HEIC: ~1.2 MB to decode, over both budgets
    settings.AVATAR_MAX_HEIC_DECODE_MB = 1
    with pytest.raises(ImageRefused, match=r"at most about .* megapixels for a HEIC"):
        avatar_renditions(data=test_images.heic(480, 320))
    settings.AVATAR_MAX_DECODE_MB = 96
    settings.AVATAR_MAX_PIXELS = 100_000
    with pytest.raises(ImageRefused, match=r"too large \(480×320 pixels\)"):
        avatar_renditions(data=test_images.heic(480, 320))


def test_a_truncated_heic_is_refused_not_a_500():
    data = test_images.heic(480, 320)
    with pytest.raises(ImageRefused):
        avatar_renditions(data=data[: len(data) // 2])


def test_a_heic_uploads_through_the_form(person):
    client, email = person("Hana Heic")
    response = upload(client, test_images.heic(480, 320), name="IMG_0001.HEIC", content_type="image/heic")
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    assert profile_of(email).avatar_key


def test_a_10_bit_grey_heic_becomes_a_grey_avatar():
    renditions = avatar_renditions(data=test_images.heic_grey_10_bit(1200, 1100))
    image = Image.open(io.BytesIO(renditions.by_size[512])).convert("RGB")
    assert image.size == (512, 512)
    assert all(112 <= channel <= 122 for channel in image.getpixel((256, 256)))
