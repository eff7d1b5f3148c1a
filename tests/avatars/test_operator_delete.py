"""An operator deletes a user who has a picture: the picture's objects go with the account.

The app holds no S3 key. The objects are deleted with the OPERATOR'S own identity-pool
credentials, which only the moderator IAM role (custom:role moderator or admin, by the identity
pool's role mapping) may use on another identity's avatars; an operator without it is refused
before anything is deleted. Operators sign in through the hosted UI (their session holds an ID
token); the bucket is checked with the local stack's admin key.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client

from accounts.models import OperatorAction
from profiles import moderation
from tests.support import images as test_images
from tests.support.avatars import profile_of, upload
from tests.support.hosted_ui import APP_HOST
from tests.support.users import pool_user

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def signed_in(sign_in, new_user):
    """signed_in(name, role, groups) → (client signed in through the hosted UI, local user)."""

    def make(name: str, role: str | None = None, groups: tuple[str, ...] = ()) -> tuple[Client, Any]:
        email, password, sub = new_user(name=name, role=role, groups=groups)
        client = Client(HTTP_HOST=APP_HOST)
        assert sign_in(email, password, client=client).status_code == HTTPStatus.FOUND
        return client, User.objects.get(cognito_sub=sub)

    return make


@pytest.fixture
def pictured(signed_in, keys_under):
    """A member with a picture: (their local user, the picture's S3 keys)."""
    client, user = signed_in("Pat Pictured", role="member")
    assert upload(client, test_images.jpeg(400, 400)).status_code == HTTPStatus.FOUND
    keys = keys_under(f"{profile_of(user.email).avatar_key}-")
    assert len(keys) == 2
    return user, keys


def delete(client: Client, user: Any):
    return client.post(f"/admin/accounts/user/{user.pk}/cognito/", {"action": "delete"}, follow=False)


def shown(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def last_delete_audit():
    return OperatorAction.objects.filter(action="delete").latest("id")


def test_an_admin_deletes_a_member_and_their_picture_objects(signed_in, pictured, keys_under, idp):
    operator, _ = signed_in("Ada Admin", role="admin", groups=("admin",))
    user, keys = pictured
    response = delete(operator, user)
    assert response.status_code == HTTPStatus.FOUND
    assert "Deleted" in shown(response)
    assert keys_under(keys[0].rsplit("-", 1)[0]) == []  # gone from S3, checked with the admin key
    assert pool_user(idp, user.email) is None
    assert not User.objects.filter(pk=user.pk).exists()
    assert last_delete_audit().succeeded


def test_a_superuser_without_the_moderator_role_is_refused_and_nothing_is_deleted(
    signed_in, pictured, keys_under, idp
):
    operator, root = signed_in("Root Noroll", groups=("admin",))  # staff, no custom:role
    User.objects.filter(pk=root.pk).update(is_superuser=True)
    user, keys = pictured
    response = delete(operator, user)
    message = shown(response)
    assert "Not deleted" in message and "moderator role" in message
    for key in keys:
        assert key in message
    assert keys_under(keys[0].rsplit("-", 1)[0]) == keys  # the objects remain
    assert pool_user(idp, user.email) is not None  # and so does the account, there and here
    assert User.objects.filter(pk=user.pk).exists() and profile_of(user.email).avatar_key
    audit = last_delete_audit()
    assert not audit.succeeded and keys[0] in audit.error


def test_a_local_superuser_without_an_id_token_is_refused(pictured, keys_under, idp):
    root = User.objects.create_superuser("root-local", "root@example.test", "Local-pass-1")
    client = Client(HTTP_HOST=APP_HOST)
    client.force_login(root)
    user, keys = pictured
    response = delete(client, user)
    assert "Not deleted" in shown(response)
    assert keys_under(keys[0].rsplit("-", 1)[0]) == keys
    assert pool_user(idp, user.email) is not None


def test_a_member_cannot_delete_a_picture_even_if_the_app_let_them_try(signed_in, pictured, keys_under):
    """S3 decides too: the receiver's own check skipped, a member's credentials are refused."""
    client, _ = signed_in("Mel Member", role="member")
    user, keys = pictured
    request = client.get("/me/").wsgi_request
    with pytest.raises(moderation.ModerationFailed, match="moderator role"):
        moderation.avatar_objects_delete(request=request, stem=keys[0].rsplit("-", 1)[0])
    assert keys_under(keys[0].rsplit("-", 1)[0]) == keys
