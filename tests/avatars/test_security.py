"""Trying to break it: other users' prefixes, guests, forged completion keys, presigned POST conditions."""

from __future__ import annotations

from http import HTTPStatus

import pytest
import requests
from botocore.exceptions import ClientError
from django.conf import settings
from django.test import Client

from profiles import credentials as creds
from profiles.models import Profile
from tests.support import images as test_images
from tests.support.avatars import (
    post_json,
    post_to_s3,
    profile_of,
    s3_as,
    session_credentials,
    start_direct_upload,
    upload,
)

pytestmark = pytest.mark.django_db

BUCKET = settings.AWS_STORAGE_BUCKET_NAME


def s3_error(call) -> tuple[int, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["ResponseMetadata"]["HTTPStatusCode"], exc.value.response["Error"]["Code"]


@pytest.fixture
def alice_and_bob(person):
    """Two signed-in users; alice has an avatar."""
    alice, alice_email = person("Alice Owner")
    assert upload(alice, test_images.jpeg()).status_code == HTTPStatus.FOUND
    bob, bob_email = person("Bob Other")
    assert upload(bob, test_images.jpeg()).status_code == HTTPStatus.FOUND  # so bob has credentials
    return (alice, profile_of(alice_email)), (bob, profile_of(bob_email))


def test_alices_objects_cannot_be_written_or_deleted_with_bobs_credentials(alice_and_bob, keys_under):
    (_, alice), (bob_client, _) = alice_and_bob
    as_bob = s3_as(session_credentials(bob_client))
    key = f"{alice.avatar_key}-512.webp"
    before = keys_under(f"protected/{alice.identity_id}/")
    assert s3_error(lambda: as_bob.put_object(Bucket=BUCKET, Key=key, Body=b"pwned")) == (403, "AccessDenied")
    assert s3_error(lambda: as_bob.delete_object(Bucket=BUCKET, Key=key)) == (403, "AccessDenied")
    new_key = f"protected/{alice.identity_id}/avatars/planted-512.webp"
    assert s3_error(lambda: as_bob.put_object(Bucket=BUCKET, Key=new_key, Body=b"x")) == (403, "AccessDenied")
    assert keys_under(f"protected/{alice.identity_id}/") == before
    # Reading is what protected/ is for: every signed-in user may.
    assert as_bob.get_object(Bucket=BUCKET, Key=key)["Body"].read()[:4] == b"RIFF"


def test_a_guest_can_read_but_never_write(alice_and_bob, keys_under):
    (_, alice), _ = alice_and_bob
    visitor = Client()
    Profile.objects.filter(pk=alice.pk).update(visibility=Profile.Visibility.PUBLIC)
    assert visitor.get(f"/u/{alice.handle}/").status_code == HTTPStatus.OK
    guest = creds.guest_credentials()
    as_guest = s3_as(guest)
    key = f"{alice.avatar_key}-512.webp"
    assert as_guest.get_object(Bucket=BUCKET, Key=key)["Body"].read()[:4] == b"RIFF"
    for target in (key, f"protected/{guest.identity_id}/avatars/x-512.webp", "public/x.webp"):
        assert s3_error(lambda t=target: as_guest.put_object(Bucket=BUCKET, Key=t, Body=b"x")) == (
            403,
            "AccessDenied",
        )
    assert s3_error(lambda: as_guest.delete_object(Bucket=BUCKET, Key=key)) == (403, "AccessDenied")
    # Nor through a presigned POST a guest signs for itself.
    post = as_guest.generate_presigned_post(BUCKET, f"uploads/{guest.identity_id}/abc")
    response = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"x")}, timeout=10)
    assert response.status_code == 403 and "AccessDenied" in response.text
    # And the app's upload endpoints want a signed-in user.
    assert post_json(visitor, "/me/avatar/upload/", {"content_type": "image/png"}).status_code == 302


@pytest.mark.parametrize(
    "which",
    [
        "bobs upload",
        "dot-dot",
        "own avatars",
        "own private",
        "own protected uploads",
        "other identity prefix",
        "encoded dot-dot",
        "bad type",
    ],
)
def test_finishing_refuses_a_key_outside_the_callers_uploads(alice_and_bob, admin_s3, which):
    (alice_client, alice), (bob_client, bob) = alice_and_bob
    bob_upload = start_direct_upload(bob_client)
    assert post_to_s3(bob_upload, test_images.encoded("PNG")).status_code == 204
    own = f"uploads/{alice.identity_id}"
    key = {
        "bobs upload": bob_upload["key"],
        "dot-dot": f"{own}/../../{alice.avatar_key}-512.webp",
        "own avatars": f"{alice.avatar_key}-512.webp",
        "own private": f"private/{alice.identity_id}/uploads/aaaaaaaaaaaaaaaaaaaaaaaa",
        "own protected uploads": f"protected/{alice.identity_id}/uploads/aaaaaaaaaaaaaaaaaaaaaaaa",
        "other identity prefix": bob_upload["key"].replace(bob.identity_id, bob.identity_id + "x"),
        "encoded dot-dot": f"{own}/%2e%2e%2f%2e%2e%2fprotected%2faaaaaaaaaaaaaaaa",
        "bad type": ["not", "a", "string"],
    }[which]
    response = post_json(alice_client, "/me/avatar/upload/done/", {"key": key})
    assert response.status_code in (HTTPStatus.FORBIDDEN, HTTPStatus.BAD_REQUEST)
    assert "error" in response.json()
    after = profile_of(alice.user.email)
    assert after.avatar_key == alice.avatar_key
    # Nothing was touched: bob's raw upload and alice's avatar are still there.
    admin_s3.head_object(Bucket=BUCKET, Key=bob_upload["key"])
    admin_s3.head_object(Bucket=BUCKET, Key=f"{alice.avatar_key}-512.webp")


def test_a_raw_upload_is_readable_by_its_owner_only(alice_and_bob):
    """Raw uploads are not yet checked pictures: outside protected/, no other identity reads them."""
    (alice_client, _), (bob_client, bob) = alice_and_bob
    upload = start_direct_upload(bob_client)
    assert post_to_s3(upload, test_images.encoded("PNG")).status_code == 204
    as_bob = s3_as(session_credentials(bob_client))
    assert as_bob.get_object(Bucket=BUCKET, Key=upload["key"])["Body"].read()[:4] == b"\x89PNG"
    for other in (s3_as(creds.guest_credentials()), s3_as(session_credentials(alice_client))):
        assert s3_error(lambda o=other: o.get_object(Bucket=BUCKET, Key=upload["key"])) == (
            403,
            "AccessDenied",
        )
    assert upload["key"].startswith(f"uploads/{bob.identity_id}/")


@pytest.mark.parametrize("case", ["wrong type", "too large", "empty", "other key", "avatars key"])
def test_presigned_post_conditions_are_enforced_by_s3(person, keys_under, case):
    client, email = person()
    presigned = start_direct_upload(client, "image/png")
    identity_id = profile_of(email).identity_id
    content, fields = test_images.encoded("PNG"), {}
    if case == "wrong type":
        fields["Content-Type"] = "text/html"
    elif case == "too large":
        content = b"\x89PNG" + b"\x00" * settings.AVATAR_MAX_BYTES
    elif case == "empty":
        content = b""
    elif case == "other key":
        fields["key"] = presigned["key"] + "x"
    elif case == "avatars key":
        fields["key"] = f"protected/{identity_id}/avatars/planted-512.webp"
    response = post_to_s3(presigned, content, **fields)
    expected = {"too large": (400, "EntityTooLarge"), "empty": (400, "EntityTooSmall")}.get(
        case, (403, "AccessDenied")
    )
    assert (response.status_code, response.text.split("<Code>")[1].split("</Code>")[0]) == expected
    assert keys_under(f"protected/{identity_id}/") == []


def test_the_app_presigns_only_image_types(person):
    client, _ = person()
    for content_type in ("text/html", "image/svg+xml", "application/x-php", ""):
        response = post_json(client, "/me/avatar/upload/", {"content_type": content_type})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "JPEG, PNG, WebP, GIF or HEIC" in response.json()["error"]
    assert client.post("/me/avatar/upload/", "garbage", content_type="application/json").status_code == 400
    assert client.get("/me/avatar/upload/").status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_the_upload_endpoints_are_csrf_protected(person):
    client, _ = person()
    strict = Client(HTTP_HOST=client.defaults["HTTP_HOST"], enforce_csrf_checks=True)
    strict.cookies = client.cookies
    assert post_json(strict, "/me/avatar/upload/", {"content_type": "image/png"}).status_code == 403
    assert post_json(strict, "/me/avatar/upload/done/", {"key": "x"}).status_code == 403
