"""Showing avatars: presigned with the viewer's own credentials (guests too), reused, no network when warm."""

from __future__ import annotations

import time
from http import HTTPStatus
from urllib.parse import unquote

import pytest
import requests
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from profiles import credentials as creds
from profiles.models import Profile
from tests.support import images as test_images
from tests.support.avatars import (
    count_calls,
    img_srcs,
    profile_of,
    s3_as,
    session_credentials,
    signer_key,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_avatar(person):
    """with_avatar(name, visibility) → (client, profile) of a signed-in user who has uploaded one."""

    def make(name: str = "Pia Picture", visibility: str = Profile.Visibility.PUBLIC):
        client, email = person(name)
        assert upload(client, test_images.jpeg()).status_code == HTTPStatus.FOUND
        Profile.objects.filter(user__email=email).update(visibility=visibility)
        return client, profile_of(email)

    return make


def test_anonymous_visitors_share_the_guest_identity_and_write_no_session(with_avatar):
    owner, profile = with_avatar()
    visitor = Client()
    with count_calls() as first:
        page = visitor.get(f"/u/{profile.handle}/")
    assert page.status_code == HTTPStatus.OK
    # The process's guest identity, made once: GetId then its credentials.
    assert first.identity_pool() == [
        "AWSCognitoIdentityService.GetId",
        "AWSCognitoIdentityService.GetCredentialsForIdentity",
    ]
    [src] = img_srcs(page.content.decode())
    guest = creds.guest_credentials()
    assert signer_key(src) == guest.access_key != session_credentials(owner).access_key
    assert guest.identity_id != profile.identity_id
    assert requests.get(src, timeout=5).status_code == 200
    # A cookieless client costs no session row and no new identity.
    assert "sessionid" not in visitor.cookies

    # The same URL again (so the browser's cache hits), and no network at all.
    with count_calls() as again:
        assert img_srcs(visitor.get(f"/u/{profile.handle}/").content.decode()) == [src]
    assert again.log == []

    # Another browser: the same guest identity and URL, still no call.
    with count_calls() as other:
        assert img_srcs(Client().get(f"/u/{profile.handle}/").content.decode()) == [src]
    assert other.log == []


def test_a_visitor_who_signs_in_switches_to_their_own_credentials(with_avatar, sign_in, new_user):
    _, profile = with_avatar()
    email, password, _ = new_user(name="Late Signer")
    browser = Client(HTTP_HOST="localhost:8000")
    [guest_src] = img_srcs(browser.get(f"/u/{profile.handle}/").content.decode())
    assert signer_key(guest_src) == creds.guest_credentials().access_key
    assert sign_in(email, password, client=browser).status_code == HTTPStatus.FOUND
    [src] = img_srcs(browser.get(f"/u/{profile.handle}/").content.decode())
    own = session_credentials(browser)
    assert own.identity_id == profile_of(email).identity_id != creds.guest_credentials().identity_id
    assert signer_key(src) == own.access_key


def test_members_only_avatars_stay_hidden_from_visitors(with_avatar):
    _, profile = with_avatar(visibility=Profile.Visibility.MEMBERS)
    visitor = Client()
    assert visitor.get(f"/u/{profile.handle}/").status_code == HTTPStatus.NOT_FOUND
    assert "sessionid" not in visitor.cookies  # no guest identity was made for nothing


def test_directory_header_and_pages_with_warm_caches_make_no_call_within_budgets(
    with_avatar, django_assert_max_num_queries
):
    viewer, own = with_avatar("Vera Viewer")
    _, other = with_avatar("Otto Other", Profile.Visibility.MEMBERS)
    for path in ("/me/", f"/u/{other.handle}/", "/people/"):  # warm the URL cache
        viewer.get(path)
    with count_calls() as calls:
        with django_assert_max_num_queries(3):
            me = viewer.get("/me/")
        with django_assert_max_num_queries(3):
            public = viewer.get(f"/u/{other.handle}/")
        with django_assert_max_num_queries(3):
            people = viewer.get("/people/")
    assert calls.log == []
    assert img_srcs(me.content.decode()) and img_srcs(public.content.decode())
    directory = unquote(people.content.decode())
    for profile in (own, other):
        assert f"{profile.avatar_key}-128.webp" in directory
    # A directory row without an avatar gets the initials placeholder.
    Profile.objects.filter(pk=other.pk).update(avatar_key="")
    assert ">OO</span>" in viewer.get("/people/").content.decode()
    # Signed with the viewer's own identity credentials, and S3 serves them.
    [header] = img_srcs(public.content.decode(), "header-avatar")
    assert signer_key(header) == session_credentials(viewer).access_key
    assert requests.get(header, timeout=5).status_code == 200


def test_cached_urls_are_renewed_shortly_before_they_expire(with_avatar):
    viewer, profile = with_avatar()
    assert img_srcs(viewer.get("/me/").content.decode())
    session = viewer.session
    urls = session["avatar_urls"]
    for entry in urls.values():
        entry[1] = entry[1] - 3600 + 200  # as if signed 58 minutes ago
    session["avatar_urls"] = urls
    session.save()
    [second] = img_srcs(viewer.get("/me/").content.decode())
    renewed = viewer.session["avatar_urls"]
    assert all(entry[1] > time.time() + 3000 for entry in renewed.values())  # signed anew
    assert requests.get(second, timeout=5).status_code == 200


def test_the_api_returns_a_working_presigned_avatar(with_avatar):
    owner, profile = with_avatar()
    token = owner.session[account_services.ACCESS_TOKEN]
    api = Client()
    answer = api.get(reverse("api:user_me"), headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == HTTPStatus.OK
    url = answer.json()["profile"]["avatar"]
    assert unquote(url.split("?")[0]).endswith(f"{profile.avatar_key}-512.webp")
    image = requests.get(url, timeout=5)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/webp"
    # Reused while valid, with no network call.
    with count_calls() as calls:
        again = api.get(reverse("api:user_me"), headers={"Authorization": f"Bearer {token}"})
    assert again.json()["profile"]["avatar"] == url
    assert calls.log == []


def test_a_profile_that_becomes_private_moves_its_avatar_to_a_new_key(
    with_avatar, django_capture_on_commit_callbacks
):
    """protected/ is readable by any guest who knows a key: a narrower profile gets new keys."""
    from botocore.exceptions import ClientError
    from django.conf import settings

    owner, profile = with_avatar(visibility=Profile.Visibility.PUBLIC)
    old_key = f"{profile.avatar_key}-512.webp"
    guest = s3_as(creds.guest_credentials())
    assert (
        guest.get_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=old_key)["Body"].read()[:4] == b"RIFF"
    )

    form = {
        "display_name": profile.display_name,
        "handle": profile.handle,
        "visibility": "private",
        "version": profile.version,
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert owner.post("/me/edit/", form).status_code == HTTPStatus.FOUND

    moved = profile_of(profile.user.email)
    assert moved.visibility == "private" and moved.avatar_key and moved.avatar_key != profile.avatar_key
    with pytest.raises(ClientError) as gone:
        guest.get_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=old_key)
    assert gone.value.response["Error"]["Code"] == "NoSuchKey"
    [src] = img_srcs(owner.get("/me/").content.decode())
    assert moved.avatar_key.split("/")[-1] in unquote(src)
    assert requests.get(src, timeout=5).status_code == 200
    # Widening (private → members) keeps the key: nothing to hide from anyone.
    form.update(visibility="members", version=moved.version)
    assert owner.post("/me/edit/", form).status_code == HTTPStatus.FOUND
    assert profile_of(profile.user.email).avatar_key == moved.avatar_key
