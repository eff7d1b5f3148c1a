"""Roles are a closed list: from the verified token at each sign-in, picked from the list in the admin."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.conf import settings
from django.test import Client

from profiles.models import Profile
from project import roles
from tests.support.hosted_ui import APP_HOST, finish_sign_in, hosted_ui_sign_in, start_sign_in

pytestmark = pytest.mark.django_db


def set_role(idp, email: str, role: str) -> None:
    idp.admin_update_user_attributes(
        UserPoolId=settings.COGNITO_USER_POOL_ID,
        Username=email,
        UserAttributes=[{"Name": "custom:role", "Value": role}],
    )


@pytest.mark.parametrize(
    ("claims", "role"),
    [
        ({"custom:role": "moderator"}, "moderator"),
        ({"custom:role": "admin"}, "admin"),
        ({"custom:role": "member"}, "member"),
        ({}, None),
        ({"custom:role": ""}, None),
        ({"custom:role": "superadmin"}, None),
        ({"custom:role": "Moderator"}, None),  # IAM's rules compare exactly: so does the app
        ({"custom:role": "moderator "}, None),
        ({"custom:role": ["moderator"]}, None),
        ({"custom:role": 1}, None),
    ],
)
def test_role_from_claims_knows_only_the_list(claims, role):
    assert roles.role_from_claims(claims) == role


def test_the_list_is_a_setting(settings):
    settings.ROLES = ["member", "editor"]
    settings.MODERATOR_ROLES = ["editor"]
    assert roles.role_from_claims({"custom:role": "editor"}) == "editor"
    assert roles.role_from_claims({"custom:role": "moderator"}) is None
    assert roles.can_moderate("editor") and not roles.can_moderate("moderator")
    assert [value for value, _ in roles.role_choices()] == ["", "member", "editor"]


def test_an_unknown_role_in_the_token_is_no_role(new_user, sign_in, idp):
    email, password, sub = new_user(role="moderator")
    sign_in(email, password)
    assert Profile.objects.get(user__cognito_sub=sub).role == "moderator"
    set_role(idp, email, "superadmin")
    sign_in(email, password)
    assert Profile.objects.get(user__cognito_sub=sub).role == ""


def test_the_role_follows_the_token_at_each_sign_in(new_user, sign_in, idp):
    email, password, sub = new_user(role="admin")
    sign_in(email, password)
    assert Profile.objects.get(user__cognito_sub=sub).role == "admin"
    set_role(idp, email, "member")  # demoted in Cognito: the next sign-in says so
    sign_in(email, password)
    assert Profile.objects.get(user__cognito_sub=sub).role == "member"


@pytest.fixture
def admin_client(new_user) -> Client:
    email, password, _ = new_user(groups=("admin",), name="Site Admin", role="admin")
    client = Client(HTTP_HOST=APP_HOST)
    finish_sign_in(client, hosted_ui_sign_in(start_sign_in(client), email, password))
    return client


def admin_form_data(profile: Profile, **changes) -> dict:
    data = {
        "display_name": profile.display_name,
        "handle": profile.handle,
        "college": profile.college,
        "role": profile.role,
        "bio": "",
        "pronouns": "",
        "location": "",
        "website": "",
        "visibility": profile.visibility,
        "version": profile.version,
    }
    return {**data, **changes}


def pool_role(idp, email: str) -> str:
    attributes = idp.admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email)
    return {a["Name"]: a["Value"] for a in attributes["UserAttributes"]}.get("custom:role", "")


def test_the_profile_admin_shows_the_role_but_never_writes_it(admin_client, new_user, sign_in, idp):
    """Only the operator console's "Set role" writes custom:role; a posted role is ignored."""
    email, password, sub = new_user(name="Managed")
    sign_in(email, password)
    profile = Profile.objects.get(user__cognito_sub=sub)
    url = f"/admin/profiles/profile/{profile.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="role"' not in page

    posted = admin_client.post(url, admin_form_data(profile, role="admin", college="Posted College"))
    assert posted.status_code == HTTPStatus.FOUND, posted.content.decode()[:2000]
    profile.refresh_from_db()
    assert (profile.college, profile.role) == ("Posted College", "")
    assert pool_role(idp, email) == ""


def test_a_demotion_in_cognito_survives_an_admin_edit_of_the_college(admin_client, new_user, sign_in, idp):
    """The profile's role is a stale copy until the next sign-in: an admin save must not push it back."""
    email, password, sub = new_user(name="Demoted", role="moderator")
    sign_in(email, password)
    profile = Profile.objects.get(user__cognito_sub=sub)
    assert profile.role == "moderator"
    set_role(idp, email, "member")  # demoted in Cognito (the console, or the AWS console)

    url = f"/admin/profiles/profile/{profile.pk}/change/"
    response = admin_client.post(url, admin_form_data(profile, college="Only The College"))
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    attributes = idp.admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email)
    pool = {a["Name"]: a["Value"] for a in attributes["UserAttributes"]}
    assert pool["custom:college"] == "Only The College"
    assert pool["custom:role"] == "member"


def test_a_stored_role_no_longer_listed_survives_an_edit_of_another_field(admin_client, member):
    _, profile = member(name="Legacy", role="student")  # saved before the list existed
    url = f"/admin/profiles/profile/{profile.pk}/change/"
    assert "student" in admin_client.get(url).content.decode()
    response = admin_client.post(url, admin_form_data(profile, college="Kept Role College"))
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    profile.refresh_from_db()
    assert (profile.college, profile.role) == ("Kept Role College", "student")


def test_a_moderator_on_staff_cannot_set_a_role_through_the_profile_admin(new_user, sign_in, idp):
    """The operator console's rule holds on the profile form too: only administrators set roles."""
    email, password, _ = new_user(groups=("admin",), name="Staff Moderator", role="moderator")
    moderator = Client(HTTP_HOST=APP_HOST)
    finish_sign_in(moderator, hosted_ui_sign_in(start_sign_in(moderator), email, password))
    target_email, target_password, sub = new_user(name="Managed")
    sign_in(target_email, target_password)
    profile = Profile.objects.get(user__cognito_sub=sub)
    url = f"/admin/profiles/profile/{profile.pk}/change/"
    response = moderator.post(url, admin_form_data(profile, role="admin", college="Moderated College"))
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    profile.refresh_from_db()
    assert (profile.college, profile.role) == ("Moderated College", "")  # the rest of the edit stands
    attributes = idp.admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=target_email)
    assert {a["Name"]: a["Value"] for a in attributes["UserAttributes"]}.get("custom:role", "") == ""
