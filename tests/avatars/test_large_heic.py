"""iPhones' full-size HEIC photos (12 and 24 MP), which no browser can scale for us, and the bound
on how many decodes over the ordinary memory budget a process runs at once (issue 13)."""

from __future__ import annotations

import io
import math
import threading
from http import HTTPStatus

import pytest
from django.conf import settings
from PIL import Image

from profiles import images
from tests.support import images as test_images
from tests.support.avatars import post_json, post_to_s3, profile_of, start_direct_upload, upload
from tests.support.markup import json_script
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db


def _upload_directly(client, data: bytes):
    """The JavaScript path: presigned POST of the file as it is (Chromium cannot decode HEIC)."""
    presigned = start_direct_upload(client, "image/heic")
    assert post_to_s3(presigned, data).status_code == 204
    return post_json(client, "/me/avatar/upload/done/", {"key": presigned["key"]})


def _stored_avatar(admin_s3, email: str) -> Image.Image:
    key = f"{profile_of(email).avatar_key}-512.webp"
    body = admin_s3.get_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key)["Body"].read()
    return Image.open(io.BytesIO(body)).convert("RGB")


@pytest.mark.parametrize("size", [test_images.IPHONE_12_MP, test_images.IPHONE_24_MP], ids=["12MP", "24MP"])
def test_a_full_size_iphone_heic_uploaded_directly_becomes_a_512_px_avatar(
    person, admin_s3, keys_under, size
):
    client, email = person("Ida Iphone")
    data = test_images.phone_heic(*size)
    assert len(data) <= settings.AVATAR_MAX_BYTES
    done = _upload_directly(client, data)
    assert done.status_code == HTTPStatus.OK, done.content
    avatar = _stored_avatar(admin_s3, email)
    assert avatar.size == (512, 512)
    top, bottom = avatar.getpixel((256, 64)), avatar.getpixel((256, 448))
    assert top[0] > 150 and bottom[2] > 150  # the whole picture, upright: red above blue
    assert keys_under(f"uploads/{profile_of(email).identity_id}/") == []  # the raw upload is gone


def test_the_page_tells_the_browser_the_heic_limit_the_server_applies(person, settings):
    # The page's figure is the worst case (a HEIC with alpha): a browser that can decode HEIC
    # (Safari) scales above it; one at it is accepted. A small budget keeps the files small.
    settings.AVATAR_MAX_DECODE_MB = settings.AVATAR_MAX_HEIC_DECODE_MB = 12
    client, _ = person()
    limits = json_script(client.get("/me/avatar/").content.decode(), "avatar-max-pixels")
    assert limits["image/heic"] == limits["image/heif"] == images.max_pixels_by_type()["image/heic"]
    side = math.isqrt(limits["image/heic"])
    assert images.avatar_renditions(data=test_images.heic(side, side, alpha=True)).by_size
    with pytest.raises(images.ImageRefused, match=rf"\({side + 8}×{side + 8} pixels, HEIC\): at most about"):
        images.avatar_renditions(data=test_images.heic(side + 8, side + 8, alpha=True))
    # By default: 19.2 MP with alpha on the page, while a phone's opaque 24 MP photo is taken as it is.
    settings.AVATAR_MAX_DECODE_MB, settings.AVATAR_MAX_HEIC_DECODE_MB = 96, 384
    limits = json_script(client.get("/me/avatar/").content.decode(), "avatar-max-pixels")
    assert 19_000_000 < limits["image/heic"] < 5712 * 4284


def test_a_heic_over_the_heic_budget_is_still_refused_with_the_phone_message(person, settings):
    settings.AVATAR_MAX_HEIC_DECODE_MB = 300  # 5712×4284 at 16 B per pixel: 373 MiB
    client, email = person()
    done = _upload_directly(client, test_images.phone_heic(*test_images.IPHONE_24_MP))
    assert done.status_code == HTTPStatus.BAD_REQUEST
    error = done.json()["error"]
    assert error.startswith("This phone photo is too large to process here (5712×4284 pixels, HEIC)")
    assert "at most about 19.6 megapixels for a HEIC picture" in error and "Most Compatible" in error
    assert profile_of(email).avatar_key == ""


def _decode_in_thread(data: bytes) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["renditions"] = images.avatar_renditions(data=data)
        except images.ImageRefused as exc:
            outcome["refused"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_a_second_large_decode_waits_for_the_first_then_runs(settings):
    settings.AVATAR_LARGE_DECODES = 1
    settings.AVATAR_LARGE_DECODE_WAIT_SECONDS = 60
    data = test_images.phone_heic(*test_images.IPHONE_24_MP)
    assert images.large_decodes() == (0, 0)
    # First large decode: a real one, in a thread; it holds the only slot while it decodes...
    with images.large_decode_slot():  # ... which this test holds for it, so the order is certain
        second, outcome = _decode_in_thread(data)
        wait_until(lambda: images.large_decodes() == (1, 1), what="the second decode waiting")
        assert second.is_alive() and outcome == {}  # waiting, not decoding
    second.join(timeout=60)
    assert not second.is_alive()
    assert sorted(outcome["renditions"].by_size) == [128, 512]
    assert images.large_decodes() == (0, 0)


def test_two_real_large_decodes_at_once_both_finish_one_at_a_time(settings):
    settings.AVATAR_LARGE_DECODES = 1
    settings.AVATAR_LARGE_DECODE_WAIT_SECONDS = 60
    data = test_images.phone_heic(*test_images.IPHONE_24_MP)
    seen: set[tuple[int, int]] = set()
    with images.large_decode_slot():  # both start while the slot is taken: neither decodes yet
        runs = [_decode_in_thread(data) for _ in range(2)]
        wait_until(lambda: images.large_decodes() == (1, 2), what="both decodes waiting")

    def finished() -> bool:
        seen.add(images.large_decodes())
        return not any(thread.is_alive() for thread, _ in runs)

    wait_until(finished, timeout=120, what="both decodes done")
    assert all(sorted(outcome["renditions"].by_size) == [128, 512] for _, outcome in runs)
    assert max(running for running, _ in seen) <= 1


def test_a_large_decode_with_no_free_slot_in_time_is_told_to_try_again(person, settings, keys_under):
    settings.AVATAR_LARGE_DECODE_WAIT_SECONDS = 0
    client, email = person()
    data = test_images.phone_heic(*test_images.IPHONE_24_MP)
    with images.large_decode_slot():  # another large photo is being decoded
        busy = _upload_directly(client, data)
        assert busy.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert busy.json()["error"] == images.BUSY
        assert busy["Retry-After"] == "1"
        assert profile_of(email).avatar_key == ""
        form = upload(client, data, name="IMG_0002.HEIC", content_type="image/heic")
        assert form.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert "please try again in a moment" in form.content.decode()
        # An ordinary upload (within AVATAR_MAX_DECODE_MB) never waits for a slot.
        presigned = start_direct_upload(client, "image/jpeg")
        assert post_to_s3(presigned, test_images.jpeg(4000, 3000)).status_code == 204
        assert post_json(client, "/me/avatar/upload/done/", {"key": presigned["key"]}).status_code == 200
    assert images.large_decodes() == (0, 0)
    again = _upload_directly(client, data)  # the same photo, once the slot is free
    assert again.status_code == HTTPStatus.OK, again.content
    assert keys_under(f"uploads/{profile_of(email).identity_id}/") == []
