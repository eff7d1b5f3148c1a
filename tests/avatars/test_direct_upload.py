"""Direct browser upload: presigned POST to S3, then the app fetches (bounded), processes and deletes it."""

from __future__ import annotations

import base64
import json
from http import HTTPStatus

import pytest
from django.conf import settings

from tests.support import images as test_images
from tests.support.avatars import (
    count_calls,
    post_json,
    post_to_s3,
    profile_of,
    start_direct_upload,
    upload,
)

pytestmark = pytest.mark.django_db


def test_the_browser_uploads_to_s3_and_the_app_makes_the_avatar(person, keys_under, admin_s3):
    client, email = person()
    presigned = start_direct_upload(client, "image/jpeg")
    identity_id = profile_of(email).identity_id
    assert presigned["key"].startswith(f"uploads/{identity_id}/")
    assert presigned["max_bytes"] == settings.AVATAR_MAX_BYTES
    # The policy S3 will enforce: exactly this key, this type, 1 byte .. 5 MB, minutes to live.
    policy = json.loads(base64.b64decode(presigned["fields"]["policy"]))
    assert {"key": presigned["key"]} in policy["conditions"]
    assert {"Content-Type": "image/jpeg"} in policy["conditions"]
    assert ["content-length-range", 1, settings.AVATAR_MAX_BYTES] in policy["conditions"]

    response = post_to_s3(presigned, test_images.jpeg(2000, 1500) + test_images.HTML)
    assert response.status_code == 204, response.text
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:8000"
    with count_calls() as calls:
        done = post_json(client, "/me/avatar/upload/done/", {"key": presigned["key"]})
    assert done.status_code == HTTPStatus.OK, done.content
    assert done.json() == {"redirect": "/me/"}
    assert calls.identity_pool() == []  # the credentials from the presign step are reused
    profile = profile_of(email)
    assert keys_under(f"protected/{identity_id}/") == sorted(
        f"{profile.avatar_key}-{s}.webp" for s in (512, 128)
    )
    data = admin_s3.get_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=f"{profile.avatar_key}-512.webp")
    assert b"<script" not in data["Body"].read()


def test_a_bad_file_uploaded_directly_is_refused_and_deleted(person, keys_under):
    client, email = person()
    presigned = start_direct_upload(client, "image/jpeg")
    # Content-Type says JPEG (the policy allows it); the bytes are HTML.
    assert post_to_s3(presigned, test_images.HTML).status_code == 204
    done = post_json(client, "/me/avatar/upload/done/", {"key": presigned["key"]})
    assert done.status_code == HTTPStatus.BAD_REQUEST
    assert "not a JPEG, PNG, WebP, GIF or HEIC" in done.json()["error"]
    profile = profile_of(email)
    assert profile.avatar_key == ""
    assert keys_under(f"protected/{profile.identity_id}/") == []


def test_an_object_over_the_limit_is_refused_with_a_bounded_read(person, keys_under, admin_s3):
    """Should a raw upload be larger than allowed (written by other means), the app reads max + 1 bytes."""
    client, email = person()
    presigned = start_direct_upload(client, "image/jpeg")
    admin_s3.put_object(
        Bucket=settings.AWS_STORAGE_BUCKET_NAME,
        Key=presigned["key"],
        Body=b"\xff" * (settings.AVATAR_MAX_BYTES + 10),
    )
    done = post_json(client, "/me/avatar/upload/done/", {"key": presigned["key"]})
    assert done.status_code == HTTPStatus.BAD_REQUEST
    assert "too large" in done.json()["error"]
    assert keys_under(f"protected/{profile_of(email).identity_id}/") == []


def test_finishing_an_upload_that_never_happened(person):
    client, _ = person()
    presigned = start_direct_upload(client, "image/png")
    done = post_json(client, "/me/avatar/upload/done/", {"key": presigned["key"]})
    assert done.status_code == HTTPStatus.BAD_REQUEST
    assert "not found" in done.json()["error"]


@pytest.mark.parametrize("path", ["form", "presigned"])
def test_a_jpeg_cpu_bomb_is_refused_by_both_upload_paths(person, keys_under, path):
    """N1: thousands of repeated scans (CPU, not memory) are refused whichever way the file comes."""
    client, email = person()
    bomb = test_images.jpeg_with_repeated_scans(2000)
    message = f"This JPEG is built in an unusual way (more than {settings.AVATAR_MAX_JPEG_SCANS} scans)"
    if path == "form":
        response = upload(client, bomb)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert message in response.content.decode()
    else:
        presigned = start_direct_upload(client, "image/jpeg")
        assert post_to_s3(presigned, bomb).status_code == 204
        done = post_json(client, "/me/avatar/upload/done/", {"key": presigned["key"]})
        assert done.status_code == HTTPStatus.BAD_REQUEST
        assert message in done.json()["error"]
    profile = profile_of(email)
    assert profile.avatar_key == ""
    assert keys_under(f"protected/{profile.identity_id}/") == []


@pytest.mark.parametrize("path", ["/me/avatar/upload/", "/me/avatar/upload/done/"])
def test_deeply_nested_json_to_the_upload_calls_is_a_400_not_a_500(person, path):
    """N3: the same parser as the API's turns the RecursionError into a 400."""
    client, _ = person()
    response = client.post(path, "[" * 3000, content_type="application/json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]
