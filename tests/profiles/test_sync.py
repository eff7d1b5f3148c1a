"""Name and college live in Cognito too: pushed after a save, retried when Cognito fails."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts import services as account_services
from profiles.models import Profile
from project.integrations import cognito

pytestmark = pytest.mark.django_db


def cognito_attributes(idp, email: str) -> dict[str, str]:
    user = idp.admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


def edit(client, profile: Profile, **changes):
    data = {
        "display_name": profile.display_name,
        "handle": profile.handle,
        "college": profile.college,
        "visibility": profile.visibility,
        "version": profile.version,
        **changes,
    }
    return client.post("/me/edit/", data)


@pytest.fixture
def signed_in(new_user, sign_in, app_client):
    """(client, profile, email) of a fresh Cognito user signed in through the hosted UI."""
    email, password, sub = new_user(name="Sync Person")
    sign_in(email, password)
    profile = Profile.objects.get(user__cognito_sub=sub)
    return app_client, profile, email


@pytest.fixture
def cognito_down(settings):
    """Point the AWS API endpoint at a port where nothing listens: Cognito is down."""
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    settings.COGNITO_TIMEOUT = 1
    cognito.user_pool().reset()

    def restore():
        settings.AWS_ENDPOINT_URL = ORIGINAL_ENDPOINT
        cognito.user_pool().reset()

    return restore


ORIGINAL_ENDPOINT = settings.AWS_ENDPOINT_URL


def test_first_sign_in_creates_the_profile_from_the_claims(signed_in):
    _, profile, _ = signed_in
    assert profile.display_name == "Sync Person"
    assert profile.handle.startswith("sync-person")
    assert profile.visibility == Profile.Visibility.MEMBERS


def test_a_saved_edit_reaches_cognito_with_the_users_token(signed_in, idp):
    client, profile, email = signed_in
    response = edit(client, profile, display_name="Renamed Person", college="New College", bio="local only")
    assert response.status_code == HTTPStatus.FOUND
    attributes = cognito_attributes(idp, email)
    assert attributes["name"] == "Renamed Person"
    assert attributes["custom:college"] == "New College"
    profile.refresh_from_db()
    assert not profile.sync_pending


def test_cognito_down_keeps_the_local_save_and_retries_on_the_next_request(signed_in, idp, cognito_down):
    client, profile, email = signed_in
    response = edit(client, profile, display_name="Offline Edit", college="Offline College")
    assert response.status_code == HTTPStatus.FOUND
    profile.refresh_from_db()
    assert profile.display_name == "Offline Edit" and profile.sync_pending
    page = client.get("/me/").content.decode()
    assert "reach the sign-in service shortly" in page or "not reached the sign-in service" in page
    assert cognito_attributes(idp, email)["name"] == "Sync Person"

    cognito_down()  # Cognito is back
    assert client.get("/me/").status_code == HTTPStatus.OK
    profile.refresh_from_db()
    assert not profile.sync_pending
    assert cognito_attributes(idp, email)["name"] == "Offline Edit"
    assert "profile_sync_pending" not in client.session


def test_a_pending_edit_wins_over_older_claims_and_is_pushed_at_sign_in(new_user, sign_in, idp, cognito_down):
    email, password, sub = new_user(name="Before Name")
    client_response = sign_in(email, password)
    assert client_response.status_code == HTTPStatus.FOUND
    profile = Profile.objects.get(user__cognito_sub=sub)
    from django.test import Client

    client = Client(HTTP_HOST="localhost:8000")
    client.force_login(profile.user)
    edit(client, profile, display_name="Typed While Down")
    cognito_down()

    sign_in(email, password)  # the ID token still says "Before Name"

    profile.refresh_from_db()
    assert profile.display_name == "Typed While Down"
    assert not profile.sync_pending
    assert cognito_attributes(idp, email)["name"] == "Typed While Down"


def test_sync_profiles_command_retries_with_the_admin_api(signed_in, idp, cognito_down, capsys):
    client, profile, email = signed_in
    edit(client, profile, college="Queued College")
    cognito_down()
    call_command("sync_profiles")
    assert "synced 1, still pending 0" in capsys.readouterr().out
    assert cognito_attributes(idp, email)["custom:college"] == "Queued College"


@pytest.fixture
def signed_in_moderator(new_user, sign_in, app_client):
    """(client, profile, email) of a fresh user whose custom:role is moderator, signed in."""
    email, password, sub = new_user(name="Pending Moderator", role="moderator")
    sign_in(email, password)
    profile = Profile.objects.get(user__cognito_sub=sub)
    assert profile.role == "moderator"
    return app_client, profile, email


def test_sync_profiles_never_pushes_the_role_back(signed_in_moderator, idp, cognito_down):
    """A demotion made in Cognito while a push was pending is not undone by the retry."""
    client, profile, email = signed_in_moderator
    edit(client, profile, college="Queued While Down")  # Cognito is down: the push fails
    cognito_down()  # back up
    profile.refresh_from_db()
    assert profile.sync_pending
    idp.admin_update_user_attributes(
        UserPoolId=settings.COGNITO_USER_POOL_ID,
        Username=email,
        UserAttributes=[{"Name": "custom:role", "Value": "member"}],
    )
    call_command("sync_profiles")
    attributes = cognito_attributes(idp, email)
    assert attributes["custom:college"] == "Queued While Down"
    assert attributes["custom:role"] == "member"


def test_changes_made_in_cognito_flow_in_at_the_next_sign_in(new_user, sign_in, idp):
    email, password, sub = new_user(name="Old Name")
    sign_in(email, password)
    idp.admin_update_user_attributes(
        UserPoolId=settings.COGNITO_USER_POOL_ID,
        Username=email,
        UserAttributes=[
            {"Name": "name", "Value": "Admin Renamed"},
            {"Name": "custom:college", "Value": "Admin College"},
            {"Name": "custom:role", "Value": "moderator"},
        ],
    )
    sign_in(email, password)
    profile = Profile.objects.get(user__cognito_sub=sub)
    assert (profile.display_name, profile.college, profile.role) == (
        "Admin Renamed",
        "Admin College",
        "moderator",
    )
    assert get_user_model().objects.get(cognito_sub=sub).name == "Admin Renamed"


def test_the_pool_client_refuses_custom_role_from_the_user(signed_in, idp):
    client, _, email = signed_in
    with pytest.raises(cognito.CognitoError):
        cognito.user_pool().update_user_attributes(
            access_token=client.session[account_services.ACCESS_TOKEN], attributes={"custom:role": "admin"}
        )
    assert cognito_attributes(idp, email).get("custom:role", "") != "admin"


def test_admin_pages_load_and_save_through_the_services(new_user, sign_in, idp):
    admin_email, admin_password, _ = new_user(groups=("admin",), name="Site Admin", role="admin")
    email, password, sub = new_user(name="Managed Person")
    sign_in(email, password)
    from django.test import Client

    admin = Client(HTTP_HOST="localhost:8000")
    from tests.support.hosted_ui import finish_sign_in, hosted_ui_sign_in, start_sign_in

    finish_sign_in(admin, hosted_ui_sign_in(start_sign_in(admin), admin_email, admin_password))
    profile = Profile.objects.get(user__cognito_sub=sub)

    assert admin.get("/admin/").status_code == HTTPStatus.OK
    assert admin.get("/admin/profiles/profile/", {"q": "managed"}).status_code == HTTPStatus.OK
    assert (
        admin.get("/admin/profiles/profile/", {"role__exact": "", "visibility__exact": "members"}).status_code
        == 200
    )
    assert admin.get("/admin/accounts/user/", {"q": profile.handle}).status_code == HTTPStatus.OK
    assert admin.get(f"/admin/accounts/user/{profile.user_id}/change/").status_code == HTTPStatus.OK
    change_url = f"/admin/profiles/profile/{profile.pk}/change/"
    assert admin.get(change_url).status_code == HTTPStatus.OK

    data = {
        "display_name": "Managed Renamed",
        "handle": profile.handle,
        "college": "Admin Set College",
        "role": "moderator",  # read-only in the admin: ignored (only the operator console sets roles)
        "bio": "",
        "pronouns": "",
        "location": "",
        "website": "",
        "visibility": "public",
        "version": profile.version,
    }
    response = admin.post(change_url, data)
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:3000]
    profile.refresh_from_db()
    assert (profile.display_name, profile.role, profile.visibility) == ("Managed Renamed", "", "public")
    attributes = cognito_attributes(idp, email)
    assert attributes["name"] == "Managed Renamed" and "custom:role" not in attributes

    stale = admin.post(change_url, {**data, "display_name": "Stale Write"})  # version is old now
    assert stale.status_code == HTTPStatus.OK and b"changed meanwhile" in stale.content
    profile.refresh_from_db()
    assert profile.display_name == "Managed Renamed"
