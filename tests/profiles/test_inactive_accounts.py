"""An inactive account's profile (disabled in the pool, or deleted from it) is gone for others.

The accounts are made inactive the real way: a pool user disabled in the Cognito console (the
local pool's AdminDisableUser, not the app's), or a local user whose sub the pool does not have,
then a reconciliation pass (accounts.reconcile) over the local pool. Their public profile and
directory entry must be gone for a visitor, another member and the API's user list; staff and
moderators still reach the page (404, like a handle nobody has, for everyone else).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from accounts import reconcile
from profiles.models import Profile
from project.integrations import cognito
from tests.support.hosted_ui import APP_HOST, finish_sign_in, hosted_ui_sign_in, start_sign_in
from tests.support.users import make_member

pytestmark = pytest.mark.django_db
User = get_user_model()
POOL = settings.COGNITO_USER_POOL_ID
NAME = "Ivy Inactive"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def disabled_in_the_console(new_user, idp) -> Profile:
    pool = new_user(name=NAME)
    client = Client(HTTP_HOST=APP_HOST)
    finish_sign_in(client, hosted_ui_sign_in(start_sign_in(client), pool.email, pool.password))
    profile = Profile.objects.get(user__cognito_sub=pool.sub)
    Profile.objects.filter(pk=profile.pk).update(visibility=Profile.Visibility.PUBLIC)
    idp.admin_disable_user(UserPoolId=POOL, Username=pool.email)
    return profile


def deleted_from_the_pool(new_user, idp) -> Profile:
    user, profile = make_member(name=NAME, visibility=Profile.Visibility.PUBLIC)
    User.objects.filter(pk=user.pk).update(cognito_sub=str(uuid.uuid4()))  # a sub the pool lacks
    return profile


def api_user_subs(token: str) -> set[str]:
    """Every sub /api/users/ lists, all pages."""
    client, subs, url = Client(), set(), "/api/users/"
    while url:
        page = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert page.status_code == HTTPStatus.OK, page.content
        subs |= {row["sub"] for row in page.json()["results"]}
        url = page.json()["next"]
    return subs


@pytest.mark.parametrize("make_inactive", [disabled_in_the_console, deleted_from_the_pool])
def test_an_inactive_accounts_profile_is_gone_for_others(
    make_inactive: Callable[..., Profile], new_user, idp: Any
) -> None:
    profile = make_inactive(new_user, idp)
    page = f"/u/{profile.handle}/"
    other, _ = make_member(name="Otto Other")
    staff, _ = make_member(name="Stan Staff", staff=True)
    moderator, _ = make_member(name="Mo Moderator", role="moderator")
    admin = new_user(groups=("admin",), name="Api Admin")
    token = cognito.user_pool().password_sign_in(username=admin.email, password=admin.password)["AccessToken"]
    sub = User.objects.get(pk=profile.user_id).cognito_sub

    # Active: everybody finds it (the checks below can fail).
    assert Client().get(page).status_code == HTTPStatus.OK
    assert page in client_for(other).get("/people/", {"q": "Ivy"}).content.decode()
    assert sub in api_user_subs(token)

    reconcile.users_reconcile(keep_unseen=0)
    owner = User.objects.get(pk=profile.user_id)
    assert not owner.is_active and owner.deactivated_as in ("disabled", "missing")

    for viewer in (Client(), client_for(other)):
        assert viewer.get(page).status_code == HTTPStatus.NOT_FOUND
        assert viewer.get(page.upper()).status_code == HTTPStatus.NOT_FOUND
    for query in ("Ivy", "", profile.handle):
        for viewer in (client_for(other), client_for(staff), client_for(moderator)):
            assert page not in viewer.get("/people/", {"q": query}).content.decode()
    assert sub not in api_user_subs(token)

    # Staff and moderators still reach the page, and are told the account is inactive.
    for viewer in (client_for(staff), client_for(moderator)):
        response = viewer.get(page)
        assert response.status_code == HTTPStatus.OK
        assert 'data-testid="inactive-notice"' in response.content.decode()


def test_a_404_for_an_inactive_account_looks_like_no_such_handle(new_user, idp) -> None:
    profile = deleted_from_the_pool(new_user, idp)
    reconcile.users_reconcile(keep_unseen=0)
    gone = Client().get(f"/u/{profile.handle}/")
    nobody = Client().get("/u/nobody-has-this/")
    assert gone.status_code == nobody.status_code == HTTPStatus.NOT_FOUND
    assert gone.content.replace(profile.handle.encode(), b"") == nobody.content.replace(
        b"nobody-has-this", b""
    )
