"""A moderator removes a member's picture with their OWN identity-pool credentials, so S3 decides too.

Users sign in through the hosted UI with `custom:role` set in the pool, as an administrator would
set it; the identity pool's role mapping gives moderators and admins the moderator IAM role.
"""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.test import Client

from profiles import moderation
from profiles.models import Moderation
from project.integrations import s3
from tests.support import images as test_images
from tests.support.avatars import img_srcs, profile_of, s3_as, session_credentials, upload
from tests.support.hosted_ui import APP_HOST

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(sign_in, new_user):
    """signed_in(name, role) → (client signed in through the hosted UI, email)."""

    def make(name: str, role: str | None = None) -> tuple[Client, str]:
        email, password, _ = new_user(name=name, role=role)
        client = Client(HTTP_HOST=APP_HOST)
        assert sign_in(email, password, client=client).status_code == HTTPStatus.FOUND
        return client, email

    return make


@pytest.fixture
def victim(signed_in, keys_under):
    """A member with a picture: (client, email, the picture's two keys)."""
    client, email = signed_in("Vic Member", role="member")
    assert upload(client, test_images.jpeg(400, 400)).status_code == HTTPStatus.FOUND
    profile = profile_of(email)
    keys = keys_under(f"{profile.avatar_key}-")
    assert len(keys) == 2
    return client, email, keys


def remove(client: Client, handle: str, reason: str = "Not a picture of you"):
    return client.post(f"/u/{handle}/moderate/remove-avatar/", {"reason": reason})


@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_a_moderator_removes_a_members_picture_and_the_member_sees_why(signed_in, victim, keys_under, role):
    owner, email, keys = victim
    profile = profile_of(email)
    mod, mod_email = signed_in("Mo Derator", role=role)
    page = mod.get(f"/u/{profile.handle}/").content.decode()
    assert "Remove this picture" in page

    response = remove(mod, profile.handle)
    assert response.status_code == HTTPStatus.FOUND
    assert keys_under(f"{profile.avatar_key}-") == []
    after = profile_of(email)
    assert after.avatar_key == "" and after.version == profile.version + 1
    record = Moderation.objects.get(profile=after)
    assert (record.actor_email, record.actor_role, record.action, record.reason, record.avatar_key) == (
        mod_email, role, "remove_avatar", "Not a picture of you", profile.avatar_key,
    )  # fmt: skip
    # The deletion was signed with the moderator's own identity (their credentials are in their session).
    assert session_credentials(mod).identity_id == profile_of(mod_email).identity_id

    me = owner.get("/me/").content.decode()
    assert "Picture removed</strong> by" in me and "Not a picture of you" in me


def test_a_member_forging_the_post_is_refused_by_the_app(signed_in, victim, keys_under):
    _, email, keys = victim
    profile = profile_of(email)
    forger, _ = signed_in("Fo Rger", role="member")
    assert remove(forger, profile.handle).status_code == HTTPStatus.FORBIDDEN
    assert keys_under(f"{profile.avatar_key}-") == keys
    assert profile_of(email).avatar_key == profile.avatar_key and not Moderation.objects.exists()


@pytest.mark.parametrize("role", ["member", None, "Moderator", "superadmin"])
def test_s3_itself_refuses_a_member_whose_request_gets_past_the_app(
    signed_in, victim, keys_under, monkeypatch, role
):
    """The app's role check is patched away (a simulated bug in the app, which the stack cannot
    produce): the member's own identity credentials carry the member role, and S3 refuses."""
    _, email, keys = victim
    profile = profile_of(email)
    forger, _ = signed_in("Fo Rger", role=role)
    monkeypatch.setattr(moderation, "actor_role", lambda *, actor: "moderator")
    monkeypatch.setattr(moderation, "moderation_allowed", lambda **kwargs: True)
    response = remove(forger, profile.handle)
    assert response.status_code == HTTPStatus.FOUND
    assert "storage service refused" in forger.get(response["Location"]).content.decode()
    assert keys_under(f"{profile.avatar_key}-") == keys
    assert profile_of(email).avatar_key == profile.avatar_key and not Moderation.objects.exists()


def test_a_members_own_credentials_cannot_delete_anothers_picture(signed_in, victim, keys_under):
    """Straight to S3 with the credentials the app gave the member: refused by S3."""
    _, email, keys = victim
    forger, _ = signed_in("Fo Rger", role="member")
    assert (
        upload(forger, test_images.jpeg(200, 200)).status_code == HTTPStatus.FOUND
    )  # credentials now in the session
    client = s3_as(session_credentials(forger))
    for key in keys:
        with pytest.raises(ClientError) as exc:
            client.delete_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key)
        assert exc.value.response["Error"]["Code"] == "AccessDenied"
    assert keys_under(f"{profile_of(email).avatar_key}-") == keys


def test_a_promotion_takes_effect_at_the_next_sign_in(signed_in, victim, keys_under, idp, sign_in, new_user):
    """The app's role and the identity pool's come from the same token: a member made moderator
    in the pool is still a member until they sign in again, then both checks let them through."""
    _, email, keys = victim
    profile = profile_of(email)
    mod_email, password, _ = new_user(name="Soon Moderator", role="member")
    client = Client(HTTP_HOST=APP_HOST)
    sign_in(mod_email, password, client=client)
    # Member-role credentials now in the session: they must not outlive the token they came from.
    assert upload(client, test_images.jpeg(200, 200)).status_code == HTTPStatus.FOUND
    idp.admin_update_user_attributes(
        UserPoolId=settings.COGNITO_USER_POOL_ID,
        Username=mod_email,
        UserAttributes=[{"Name": "custom:role", "Value": "moderator"}],
    )
    assert remove(client, profile.handle).status_code == HTTPStatus.FORBIDDEN
    sign_in(mod_email, password, client=client)
    assert remove(client, profile.handle).status_code == HTTPStatus.FOUND
    assert keys_under(f"{profile.avatar_key}-") == []


def test_removing_with_the_storage_down_changes_nothing(signed_in, victim, keys_under, settings):
    """S3 unreachable (its endpoint pointed where nothing listens: a fault the stack cannot produce)."""
    _, email, keys = victim
    profile = profile_of(email)
    mod, _ = signed_in("Mo Derator", role="moderator")
    assert (
        upload(mod, test_images.jpeg(200, 200)).status_code == HTTPStatus.FOUND
    )  # credentials in the session
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"
    settings.AWS_TIMEOUT = 1
    s3.bucket().reset()
    response = remove(mod, profile.handle)
    assert response.status_code == HTTPStatus.FOUND
    assert "storage service failed" in mod.get(response["Location"]).content.decode()
    assert keys_under(f"{profile.avatar_key}-") == keys
    assert profile_of(email).avatar_key == profile.avatar_key and not Moderation.objects.exists()


@pytest.mark.django_db(transaction=True)  # committed for real: the sessions change after the commit
def test_a_removed_picture_leaves_the_members_header_in_every_session_at_once(sign_in, new_user, signed_in):
    """Two browsers of the member (two sessions), neither opening /me/ after the removal: the next
    page of each has no picture in its header, not the old one the session had kept."""
    email, password, _ = new_user(name="Two Tabs", role="member")
    browsers = [Client(HTTP_HOST=APP_HOST), Client(HTTP_HOST=APP_HOST)]
    for browser in browsers:
        assert sign_in(email, password, client=browser).status_code == HTTPStatus.FOUND
    assert upload(browsers[0], test_images.jpeg(300, 300)).status_code == HTTPStatus.FOUND
    stem = profile_of(email).avatar_key
    for browser in browsers:  # each header shows (and its session keeps) the picture
        [header] = img_srcs(browser.get("/people/").content.decode(), "header-avatar")
        assert f"{stem}-128.webp" in unquote(header)
    # The other session keeps it too: its next page reads no profile, so the check below can fail.
    assert browsers[1].session.get("own_avatar_key") == stem

    mod, _ = signed_in("Mo Derator", role="moderator")
    assert remove(mod, profile_of(email).handle).status_code == HTTPStatus.FOUND

    for browser in browsers:
        page = browser.get("/people/").content.decode()
        assert img_srcs(page, "header-avatar") == [] and stem not in unquote(page)
