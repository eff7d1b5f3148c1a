"""Avatar uploads through the form (no JavaScript), against the local identity pool and S3 over HTTP."""

from __future__ import annotations

import io
import time
from http import HTTPStatus

import pytest
import requests
from django.conf import settings
from PIL import Image

from accounts import services as account_services
from profiles import credentials as creds
from tests.support import images as test_images
from tests.support.avatars import count_calls, img_srcs, profile_of, session_credentials, upload

pytestmark = pytest.mark.django_db


def stored(admin_s3, key: str) -> bytes:
    from django.conf import settings

    return admin_s3.get_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key)["Body"].read()


def test_form_upload_stores_clean_upright_square_webps_and_shows_them(
    person, admin_s3, keys_under, django_capture_on_commit_callbacks
):
    client, email = person("Olga Upload")
    assert client.get("/me/avatar/").status_code == HTTPStatus.OK
    # 900×600 landscape, EXIF orientation 6 (rotate 90° clockwise to display): upright it is portrait
    # with red on the right, blue on the left.
    response = upload(client, test_images.jpeg(900, 600, orientation=6))
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    assert response["Location"] == "/me/"

    profile = profile_of(email)
    assert profile.identity_id.startswith("us-east-1:")
    assert profile.avatar_key.startswith(f"protected/{profile.identity_id}/avatars/")
    prefix = f"protected/{profile.identity_id}/"
    assert keys_under(prefix) == sorted(f"{profile.avatar_key}-{size}.webp" for size in (512, 128))
    for size in (512, 128):
        data = stored(admin_s3, f"{profile.avatar_key}-{size}.webp")
        # Only image chunks: no EXIF, XMP or ICC survived; nothing after the RIFF container.
        assert set(test_images.webp_chunks(data)) <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
        assert b"SecretCam" not in data and b"leaky-software" not in data
        image = Image.open(io.BytesIO(data))
        assert image.format == "WEBP" and image.size == (size, size)
        assert not image.getexif()
        rgb = image.convert("RGB")
        left, right = rgb.getpixel((size // 8, size // 2)), rgb.getpixel((size - size // 8, size // 2))
        assert left[2] > 150 and left[0] < 80, left  # blue on the left: the rotation was applied
        assert right[0] > 150 and right[2] < 80, right

    me = client.get("/me/").content.decode()
    [src] = img_srcs(me)
    image = requests.get(src, timeout=5)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/webp"
    assert image.content == stored(admin_s3, f"{profile.avatar_key}-512.webp")
    # The header shows the small one, presigned with the same (the user's own) credentials.
    [header] = img_srcs(me, "header-avatar")
    assert header.split("?")[0].endswith("-128.webp")
    assert requests.get(header, timeout=5).status_code == 200


def test_a_new_avatar_replaces_the_old_one_whose_objects_go_after_commit(
    person, keys_under, django_capture_on_commit_callbacks
):
    client, email = person()
    with django_capture_on_commit_callbacks(execute=True):
        assert upload(client, test_images.jpeg()).status_code == HTTPStatus.FOUND
    first = profile_of(email)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert (
            upload(client, test_images.encoded("PNG"), "x.png", "image/png").status_code == HTTPStatus.FOUND
        )
        second = profile_of(email)
        # Before the commit the old objects are still there (a rollback would need them).
        assert len(keys_under(f"{first.avatar_key}-")) == 2
    assert len(callbacks) == 1
    assert second.avatar_key != first.avatar_key
    assert second.version == first.version + 1
    assert keys_under(f"protected/{first.identity_id}/") == sorted(
        f"{second.avatar_key}-{s}.webp" for s in (512, 128)
    )


def test_remove_avatar_is_a_csrf_protected_post(person, keys_under, django_capture_on_commit_callbacks):
    client, email = person("Rémy Remove")
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, test_images.jpeg())
    profile = profile_of(email)
    assert client.get("/me/avatar/remove/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
    from django.test import Client

    csrf_client = Client(HTTP_HOST=client.defaults["HTTP_HOST"], enforce_csrf_checks=True)
    csrf_client.cookies = client.cookies
    assert csrf_client.post("/me/avatar/remove/").status_code == HTTPStatus.FORBIDDEN
    assert profile_of(email).avatar_key == profile.avatar_key

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/me/avatar/remove/").status_code == HTTPStatus.FOUND
    assert profile_of(email).avatar_key == ""
    assert keys_under(f"protected/{profile.identity_id}/") == []
    me = client.get("/me/").content.decode()
    assert img_srcs(me) == [] and 'data-testid="avatar-placeholder"' in me and ">RR<" in me


def test_credentials_are_cached_for_the_hour_and_renewed_before_they_expire(
    person, django_capture_on_commit_callbacks
):
    client, email = person()
    with count_calls() as first:
        assert upload(client, test_images.jpeg()).status_code == HTTPStatus.FOUND
    assert first.identity_pool() == [
        "AWSCognitoIdentityService.GetId",
        "AWSCognitoIdentityService.GetCredentialsForIdentity",
    ]
    with count_calls() as later:
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                assert upload(client, test_images.jpeg()).status_code == HTTPStatus.FOUND
        for page in ("/me/", "/me/avatar/", f"/u/{profile_of(email).handle}/", "/people/"):
            assert client.get(page).status_code == HTTPStatus.OK
    assert later.identity_pool() == []
    # Two uploads: two puts each, and each replaced avatar's two objects deleted. Pages: nothing.
    assert [c.split()[1] for c in later.s3()] == ["PUT", "PUT", "DELETE", "DELETE"] * 2
    assert len(later.log) == 8

    # Five minutes before they expire, credentials are renewed; the identity id is reused.
    session = client.session
    cached = dict(session[creds.SESSION_CREDENTIALS])
    session[creds.SESSION_CREDENTIALS] = {**cached, "expiration": time.time() + 299}
    session.save()
    with count_calls() as renewal:
        assert upload(client, test_images.jpeg()).status_code == HTTPStatus.FOUND
    assert renewal.identity_pool() == ["AWSCognitoIdentityService.GetCredentialsForIdentity"]
    assert session_credentials(client).access_key != cached["access_key"]


def test_an_expired_id_token_is_refreshed_before_asking_the_identity_pool(person):
    client, email = person()
    session = client.session
    old_id_token = session[account_services.ID_TOKEN]
    # As if the hour had passed: tokens due for renewal, no cached credentials.
    session[account_services.EXPIRES_AT] = int(time.time()) - 10
    session.pop(creds.SESSION_CREDENTIALS, None)
    session.save()
    with count_calls() as calls:
        assert upload(client, test_images.jpeg()).status_code == HTTPStatus.FOUND
    assert any(c.startswith("http ") and c.endswith("/oauth2/token") for c in calls.log), calls.log
    assert client.session[account_services.ID_TOKEN] != old_id_token
    assert profile_of(email).avatar_key


def test_when_s3_refuses_the_old_avatar_stays_and_nothing_is_half_stored(person, keys_under):
    client, email = person()
    assert upload(client, test_images.jpeg()).status_code == HTTPStatus.FOUND
    before = profile_of(email)
    objects = keys_under(f"protected/{before.identity_id}/")
    # Real S3 failure: credentials S3 no longer accepts (a wrong secret: SignatureDoesNotMatch).
    session = client.session
    session[creds.SESSION_CREDENTIALS] = {**session[creds.SESSION_CREDENTIALS], "secret_key": "x" * 40}
    session.save()
    response = upload(client, test_images.jpeg())
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "could not be saved" in response.content.decode()
    after = profile_of(email)
    assert after.avatar_key == before.avatar_key and after.version == before.version
    assert keys_under(f"protected/{before.identity_id}/") == objects


def test_a_user_without_an_id_token_gets_a_clear_error(member):
    """A local account (createsuperuser) has no Cognito identity: it cannot upload, never a 500."""
    from django.test import Client

    user, profile = member(name="Local Admin")
    client = Client()
    client.force_login(user)
    response = upload(client, test_images.jpeg())
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "sign in again" in response.content.decode().lower()
    profile.refresh_from_db()
    assert profile.avatar_key == ""


@pytest.mark.parametrize(
    ("name", "data", "content_type", "message"),
    [
        ("page.jpg", test_images.HTML, "image/jpeg", "not a JPEG, PNG, WebP, GIF or HEIC"),
        ("shell.jpg", test_images.PHP, "image/jpeg", "not a JPEG, PNG, WebP, GIF or HEIC"),
        (
            "fake.jpg",
            b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + test_images.HTML,
            "image/jpeg",
            "not a JPEG, PNG, WebP, GIF or HEIC",
        ),
        ("bomb.png", "png_bomb", "image/png", "image is too large"),
        ("cut.jpg", "truncated", "image/jpeg", "could not be read"),
        ("vector.svg", test_images.SVG, "image/svg+xml", "not a JPEG, PNG, WebP, GIF or HEIC"),
        ("empty.jpg", b"", "image/jpeg", "empty"),
        ("exif.jpg", "huge_exif_jpeg", "image/jpeg", "too much metadata"),
        ("exif.png", "huge_exif_png", "image/png", "too much metadata"),
        ("big.jpg", "six_mb", "image/jpeg", "too large: at most 5 MB"),
        ("thin.jpg", "finding_11", "image/jpeg", "too long and thin"),
    ],
)
def test_bad_uploads_get_a_clear_error_and_nothing_is_stored(
    person, keys_under, name, data, content_type, message
):
    client, email = person()
    data = {
        "png_bomb": test_images.png_bomb,
        "truncated": lambda: test_images.jpeg(1200, 900)[:5000],
        "huge_exif_jpeg": test_images.jpeg_with_huge_exif,
        "huge_exif_png": test_images.png_with_huge_exif,
        "six_mb": lambda: test_images.jpeg(64, 64) + b"\x00" * (6 * 1024 * 1024),
        "finding_11": lambda: test_images.encoded("JPEG", (65500, 610)),
    }.get(data, lambda: data)()
    response = upload(client, data, name, content_type)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    assert message in page, page[:3000]
    profile = profile_of(email)
    assert profile.avatar_key == ""
    assert keys_under(f"protected/{profile.identity_id or 'none'}/") == []


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("gif+html", test_images.gif_animation() + test_images.HTML),
        ("jpeg+php", test_images.jpeg() + test_images.PHP),
        ("png+html", test_images.encoded("PNG") + test_images.HTML),
    ],
)
def test_polyglots_are_re_encoded_so_no_payload_survives(person, admin_s3, name, data):
    """A decodable image with a payload appended is accepted: only its pixels are kept."""
    client, email = person()
    assert upload(client, data, "poly.gif").status_code == HTTPStatus.FOUND
    profile = profile_of(email)
    for size in (512, 128):
        stored_bytes = stored(admin_s3, f"{profile.avatar_key}-{size}.webp")
        assert set(test_images.webp_chunks(stored_bytes)) <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
        for payload in (b"<html", b"<script", b"<?php", b"system("):
            assert payload not in stored_bytes
    if name == "gif+html":  # the first frame (green), not the second (magenta)
        pixel = Image.open(io.BytesIO(stored(admin_s3, f"{profile.avatar_key}-128.webp"))).convert("RGB")
        r, g, b = pixel.getpixel((64, 64))
        assert g > 150 and r < 60 and b < 60


@pytest.mark.parametrize(
    "data",
    [
        test_images.encoded("WEBP"),
        test_images.encoded("PNG", mode="RGBA"),
        test_images.encoded("PNG", (200, 800)),  # 4:1, the longest shape allowed
        test_images.encoded("GIF", mode="P"),
        test_images.jpeg(3000, 2000, progressive=True),
    ],
    ids=["webp", "png-alpha", "tall-png", "gif", "progressive-jpeg"],
)
def test_every_accepted_format_becomes_two_square_webps(person, admin_s3, data):
    client, email = person()
    assert upload(client, data).status_code == HTTPStatus.FOUND
    profile = profile_of(email)
    for size in (512, 128):
        image = Image.open(io.BytesIO(stored(admin_s3, f"{profile.avatar_key}-{size}.webp")))
        assert image.size == (size, size)


@pytest.mark.parametrize(
    ("fmt", "mode", "save"),
    [("WEBP", "RGBA", {"lossless": True}), ("PNG", "RGB", {}), ("GIF", "P", {})],
)
def test_formats_decoded_in_full_have_a_lower_pixel_cap(person, keys_under, fmt, mode, save):
    """A few KB of lossless data can describe 40 megapixels; only JPEG decodes scaled down."""
    client, email = person()
    data = test_images.encoded(fmt, (4100, 4100), mode, **save)  # 16.8 MP, a few KB
    assert len(data) < 200_000
    response = upload(client, data, f"big.{fmt.lower()}", f"image/{fmt.lower()}")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "megapixels for a" in response.content.decode()
    profile = profile_of(email)
    assert keys_under(f"protected/{profile.identity_id or 'none'}/") == []


def test_a_large_lossless_image_under_the_cap_is_shrunk_as_it_is_decoded(person, admin_s3):
    client, email = person()
    data = test_images.encoded("PNG", (3300, 2200), "RGB")  # 7.3 MP, under the PNG cap
    assert upload(client, data, "wide.png", "image/png").status_code == HTTPStatus.FOUND
    key = f"{profile_of(email).avatar_key}-512.webp"
    body = admin_s3.get_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key)["Body"].read()
    assert Image.open(io.BytesIO(body)).size == (512, 512)
