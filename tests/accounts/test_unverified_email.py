"""An e-mail address the user has not verified is never trusted, shown to others or matched on."""

from __future__ import annotations

import uuid
from http import HTTPStatus

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from project.integrations import cognito
from tests.support.hosted_ui import APP_HOST

pytestmark = pytest.mark.django_db


@pytest.fixture
def ceo() -> str:
    """An address the user does not own (unique per test: the stack keeps users between tests)."""
    return f"ceo-{uuid.uuid4().hex[:8]}@example.com"


def unverified(idp, email: str, new_address: str) -> None:
    """Set a user's address to new_address, unverified (as a pool that does not wait for the code)."""
    idp.admin_update_user_attributes(
        UserPoolId=settings.COGNITO_USER_POOL_ID,
        Username=email,
        UserAttributes=[
            {"Name": "email", "Value": new_address},
            {"Name": "email_verified", "Value": "false"},
        ],
    )


@pytest.fixture
def changed_to_unverified(new_user, sign_in, idp, ceo):
    """A user who signed in, then whose e-mail became ceo, unverified.

    The stack's pool keeps the old address until the new one is verified (as this project's pool
    should), so the user cannot do this: a pool without AttributesRequireVerificationBeforeUpdate
    would let them (UpdateUserAttributes). The operator's call stands in for that pool here.
    """
    email, password, sub = new_user(name="Eve Changer")
    client = Client(HTTP_HOST=APP_HOST)
    sign_in(email, password, client=client)
    unverified(idp, email, ceo)
    # The address is the sign-in name: the user now signs in with the one they typed.
    claims = cognito.user_pool().verify_token(
        cognito.user_pool().password_sign_in(username=ceo, password=password)["IdToken"], token_use="id"
    )
    assert claims["email"] == ceo and claims["email_verified"] is False  # what the ID token says now
    assert sign_in(ceo, password, client=client).status_code == HTTPStatus.FOUND
    return client, email, password, sub


def test_the_last_verified_address_stays_the_users_email(changed_to_unverified, ceo):
    _, email, _, sub = changed_to_unverified
    user = get_user_model().objects.get(cognito_sub=sub)
    assert user.email == email
    assert not get_user_model().objects.filter(email__iexact=ceo).exists()


def test_the_owner_sees_the_new_address_only_as_pending(changed_to_unverified, ceo):
    client, email, _, _ = changed_to_unverified
    page = client.get("/me/").content.decode()
    assert f'data-testid="email">{email}<' in page
    assert f"{ceo} — not verified yet" in page


def test_others_never_see_the_unverified_address(changed_to_unverified, new_user, sign_in, ceo):
    _, _, _, sub = changed_to_unverified
    other_email, other_password, _ = new_user(groups=("admin",), name="Other Viewer")
    other = Client(HTTP_HOST=APP_HOST)
    sign_in(other_email, other_password, client=other)
    assert ceo not in other.get("/people/").content.decode()
    handle = get_user_model().objects.get(cognito_sub=sub).profile.handle
    assert ceo not in other.get(f"/u/{handle}/").content.decode()
    admin_token = cognito.user_pool().password_sign_in(username="admin@example.com", password="Admin-pass-1")
    listing = Client().get("/api/users/", headers={"Authorization": f"Bearer {admin_token['AccessToken']}"})
    assert listing.status_code == HTTPStatus.OK
    assert ceo not in listing.content.decode()


def test_the_api_returns_the_verified_address(changed_to_unverified, ceo):
    _, email, password, _ = changed_to_unverified
    token = cognito.user_pool().password_sign_in(username=ceo, password=password)["AccessToken"]
    me = Client().get("/api/user/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["email"] == email
    assert me["pending_email"] == ceo  # the owner may see it, marked as such


def test_a_user_first_seen_by_the_api_with_an_unverified_address_has_none(new_user, idp, ceo):
    email, password, sub = new_user(name="Api Only")
    tokens = cognito.user_pool().password_sign_in(username=email, password=password)
    unverified(idp, email, ceo)
    me = Client().get("/api/user/me", headers={"Authorization": f"Bearer {tokens['AccessToken']}"}).json()
    assert me["email"] == "" and me["pending_email"] == ceo
    assert get_user_model().objects.get(cognito_sub=sub).email == ""
