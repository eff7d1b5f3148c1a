"""What the app does when AWS fails, each failure caused in the local stack by its fault switch.

Each test: a clear message, nothing the user sent lost, nothing half-written; then the fault is
cleared and the same thing works.
"""

from __future__ import annotations

import subprocess
import sys
import time
from http import HTTPStatus

import pytest
from django.conf import settings
from django.test import Client

from profiles.models import Profile
from tests.support import images as test_images
from tests.support.avatars import profile_of, upload
from tests.support.hosted_ui import APP_HOST, finish_sign_in, hosted_ui_sign_in, start_sign_in
from tests.support.tokens import localcloud_data_dir, pool_signing_key
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(sign_in, new_user):
    """person(name) → (client signed in through the hosted UI, email, password): a fresh user."""

    def make(name: str = "Fault Tester") -> tuple[Client, str, str]:
        email, password, _ = new_user(name=name)
        client = Client(HTTP_HOST=APP_HOST)
        assert sign_in(email, password, client=client).status_code == HTTPStatus.FOUND
        return client, email, password

    return make


def keys_of(admin_s3, prefix: str) -> list[str]:
    answer = admin_s3.list_objects_v2(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Prefix=prefix)
    return sorted(o["Key"] for o in answer.get("Contents", []))


# --- S3 ---------------------------------------------------------------------------------------------
def test_the_second_s3_write_fails_the_first_is_deleted_and_the_old_avatar_stays(person, faults, admin_s3):
    client, email, _ = person()
    assert upload(client, test_images.jpeg()).status_code == HTTPStatus.FOUND
    before = profile_of(email)
    stored = keys_of(admin_s3, f"protected/{before.identity_id}/")
    assert len(stored) == 2
    # The 512-px rendition is written; the 128-px one (and boto3's retries of it) fail.
    faults.put("s3:PutObject", Skip=1, Count=0)
    response = upload(client, test_images.jpeg())
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "could not be saved" in response.content.decode()
    assert "current picture is unchanged" in response.content.decode()
    assert faults.hits("s3:PutObject") >= 1
    after = profile_of(email)
    assert (after.avatar_key, after.version) == (before.avatar_key, before.version)
    # The first write went through and was deleted again: the bucket holds exactly what it held.
    assert keys_of(admin_s3, f"protected/{before.identity_id}/") == stored

    faults.clear()
    assert upload(client, test_images.jpeg()).status_code == HTTPStatus.FOUND
    assert profile_of(email).avatar_key != before.avatar_key


def test_s3_throttling_is_a_clear_message_too(person, faults, admin_s3):
    client, email, _ = person()
    faults.put("s3:PutObject", Kind="throttle", Count=0)
    response = upload(client, test_images.jpeg())
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "could not be saved" in response.content.decode()
    profile = profile_of(email)
    assert profile.avatar_key == ""
    assert keys_of(admin_s3, f"protected/{profile.identity_id}/") == []


@pytest.mark.parametrize("operation", ["GetId", "GetCredentialsForIdentity"])
def test_identity_pool_errors_during_upload(person, faults, admin_s3, operation):
    client, email, _ = person()
    faults.put(operation, ErrorType="InternalErrorException", Status=500, Count=0)
    response = upload(client, test_images.jpeg())
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "storage service is unavailable" in response.content.decode()
    assert faults.hits(operation) >= 1
    profile = profile_of(email)
    assert profile.avatar_key == ""
    if profile.identity_id:
        assert keys_of(admin_s3, f"protected/{profile.identity_id}/") == []

    faults.clear()
    assert upload(client, test_images.jpeg()).status_code == HTTPStatus.FOUND
    assert profile_of(email).avatar_key


# --- Cognito ------------------------------------------------------------------------------------------
def edit(client: Client, profile: Profile, **changes: str):
    data = {
        "display_name": profile.display_name,
        "handle": profile.handle,
        "college": profile.college,
        "visibility": profile.visibility,
        "version": profile.version,
        **changes,
    }
    return client.post("/me/edit/", data)


def test_cognito_throttling_mid_profile_sync_keeps_the_edit_and_retries(person, faults, idp):
    client, email, _ = person("Throttled Person")
    profile = profile_of(email)
    faults.put("UpdateUserAttributes", Kind="throttle", Count=0)
    response = edit(client, profile, display_name="Edited While Throttled", bio="kept")
    assert response.status_code == HTTPStatus.FOUND
    assert faults.hits("UpdateUserAttributes") >= 1
    profile.refresh_from_db()
    assert (profile.display_name, profile.bio) == ("Edited While Throttled", "kept")
    assert profile.sync_pending
    page = client.get("/me/").content.decode()
    assert "reach the sign-in service shortly" in page or "not reached the sign-in service" in page
    user = idp.admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email)
    assert {a["Name"]: a["Value"] for a in user["UserAttributes"]}["name"] == "Throttled Person"

    faults.clear()
    assert client.get("/me/").status_code == HTTPStatus.OK  # the pending edit is pushed
    profile.refresh_from_db()
    assert not profile.sync_pending
    user = idp.admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email)
    assert {a["Name"]: a["Value"] for a in user["UserAttributes"]}["name"] == "Edited While Throttled"


def test_the_token_endpoint_hanging_at_sign_in(new_user, faults, settings):
    settings.COGNITO_TIMEOUT = 1  # the app's own bound on a Cognito call (5 s by default)
    email, password, _ = new_user(name="Hung Sign In")
    client = Client(HTTP_HOST=APP_HOST)
    callback = hosted_ui_sign_in(start_sign_in(client), email, password)
    faults.put("/oauth2/token", Kind="hang", Count=0, Seconds=30)
    response = finish_sign_in(client, callback)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "sign-in service cannot be reached" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/me/").status_code == HTTPStatus.FOUND  # still signed out

    faults.clear()
    callback = hosted_ui_sign_in(start_sign_in(client), email, password)
    assert finish_sign_in(client, callback).status_code == HTTPStatus.FOUND
    assert client.get("/me/").status_code == HTTPStatus.OK


def test_jwks_unreachable_after_a_key_rotation(sign_in, faults, new_user):
    email, password, _ = new_user(name="Rotated Keys")
    client = Client(HTTP_HOST=APP_HOST)
    assert sign_in(email, password, client=client).status_code == HTTPStatus.FOUND  # JWKS cached
    old_kid, _ = pool_signing_key()
    subprocess.run(
        [sys.executable, "-m", "localcloud", "rotate-key", "--data-dir", str(localcloud_data_dir())],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    assert pool_signing_key()[0] != old_kid
    faults.put("/.well-known/jwks.json", Status=503, Count=0)
    other = Client(HTTP_HOST=APP_HOST)
    response = sign_in(email, password, client=other)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "sign-in service cannot be reached" in response.content.decode()
    assert "_auth_user_id" not in other.session
    assert faults.hits("/.well-known/jwks.json") >= 1

    # JWKS back: sign-ins work again within seconds (a failed refetch holds the next one back 5 s,
    # not the minute a successful one does).
    faults.clear()
    started = time.monotonic()
    wait_until(lambda: sign_in(email, password, client=other).status_code == HTTPStatus.FOUND, timeout=15)
    assert time.monotonic() - started < 10
    assert other.get("/me/").status_code == HTTPStatus.OK
