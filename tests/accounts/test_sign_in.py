"""Sign-in through the local Cognito hosted UI, end to end over HTTP (no patching)."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from accounts import services
from project.integrations import cognito, outbound
from tests.support.hosted_ui import finish_sign_in, hosted_ui_sign_in, start_sign_in

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_authorize_request_carries_pkce_state_nonce_and_scopes(app_client):
    location = start_sign_in(app_client)
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(cognito.user_pool().endpoint("authorization_endpoint"))
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [settings.COGNITO_CLIENT_ID]
    assert query["redirect_uri"] == ["http://localhost:8000/oidc/callback/"]
    assert query["scope"] == ["openid email profile aws.cognito.signin.user.admin"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32


def test_first_sign_in_creates_the_user_keyed_by_sub(sign_in, app_client, idp):
    response = sign_in()

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/me/"
    cognito_user = idp.admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username="alice@example.com")
    sub = next(a["Value"] for a in cognito_user["UserAttributes"] if a["Name"] == "sub")
    user = User.objects.get(cognito_sub=sub)
    assert user.email == "alice@example.com"
    assert user.name == "Alice Example"
    assert not user.is_staff and not user.is_superuser
    assert not user.has_usable_password()
    page = app_client.get("/me/")
    assert page.status_code == HTTPStatus.OK
    assert b"alice@example.com" in page.content


def test_tokens_stay_server_side(sign_in, app_client):
    response = sign_in()
    session = app_client.session
    tokens = [session[services.ACCESS_TOKEN], session[services.ID_TOKEN], session[services.REFRESH_TOKEN]]
    cookies = " ".join(morsel.value for morsel in app_client.cookies.values())
    page = app_client.get("/me/").content.decode()
    for token in tokens:
        assert token and token not in cookies and token not in page and token not in response.content.decode()


def test_next_sign_in_updates_email_and_groups_and_leaving_admin_removes_staff(
    sign_in, new_user, idp, app_client
):
    email, password, sub = new_user()
    sign_in(email, password)
    user = User.objects.get(cognito_sub=sub)
    assert not user.is_staff and list(user.groups.values_list("name", flat=True)) == []

    new_email = "renamed-" + email
    pool = settings.COGNITO_USER_POOL_ID
    idp.admin_update_user_attributes(
        UserPoolId=pool, Username=email, UserAttributes=[{"Name": "email", "Value": new_email}]
    )
    idp.admin_add_user_to_group(UserPoolId=pool, Username=new_email, GroupName="admin")
    sign_in(new_email, password)
    user.refresh_from_db()
    assert User.objects.filter(cognito_sub=sub).count() == 1
    assert user.email == new_email
    assert user.is_staff and not user.is_superuser  # no superuser group is configured
    assert list(user.groups.values_list("name", flat=True)) == ["admin"]

    idp.admin_remove_user_from_group(UserPoolId=pool, Username=new_email, GroupName="admin")
    sign_in(new_email, password)
    user.refresh_from_db()
    assert not user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == []


def test_users_are_never_matched_by_email(sign_in, new_user):
    """A stale local user with the same email but another sub is not taken over."""
    email, password, sub = new_user()
    squatter = User.objects.create_user(username="squatter", email=email, cognito_sub="not-" + sub)
    sign_in(email, password)
    assert User.objects.get(cognito_sub=sub).pk != squatter.pk


def test_superuser_only_from_a_named_group(sign_in, new_user, settings):
    email, password, sub = new_user(groups=("admin",))
    sign_in(email, password)
    assert not User.objects.get(cognito_sub=sub).is_superuser
    settings.COGNITO_SUPERUSER_GROUP = "admin"
    sign_in(email, password)
    assert User.objects.get(cognito_sub=sub).is_superuser


def test_one_outbound_call_per_sign_in_when_the_jwks_is_warm(sign_in):
    sign_in()  # warms discovery and the JWKS
    with outbound.recording() as calls:  # the requests session and every botocore client
        sign_in()
    assert [call.url for call in calls] == [cognito.user_pool().endpoint("token_endpoint")]


@pytest.mark.parametrize(
    "evil", ["https://evil.example/", "//evil.example/x", "http://localhost:8000.evil.example/"]
)
def test_next_redirects_stay_on_site(app_client, evil):
    callback = hosted_ui_sign_in(
        start_sign_in(app_client, next_url=evil), "alice@example.com", "Alice-pass-1"
    )
    response = finish_sign_in(app_client, callback)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/me/"
    assert "evil" not in app_client.get("/accounts/sign-in/", {"next": evil}).content.decode()


def test_next_within_the_site_is_honoured(app_client):
    callback = hosted_ui_sign_in(
        start_sign_in(app_client, next_url="/admin/"), "alice@example.com", "Alice-pass-1"
    )
    assert finish_sign_in(app_client, callback)["Location"] == "/admin/"


def test_pages_need_a_signed_in_user(app_client):
    response = app_client.get("/me/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/sign-in/?next=/me/"
    page = app_client.get("/accounts/sign-in/?next=/me/").content.decode()
    for label in ("Sign in to continue", "Create an account", "Forgot your password?"):
        assert label in page
    assert 'href="/oidc/authenticate/?next=%2Fme%2F"' in page


def test_sign_in_without_a_page_to_continue_to_goes_straight_to_the_hosted_page(app_client, settings):
    # With providers to offer, /accounts/sign-in/ is the choice ("Try another way"); without, a redirect.
    assert "Continue with Google" in app_client.get("/accounts/sign-in/").content.decode()
    settings.COGNITO_IDENTITY_PROVIDERS = []
    assert app_client.get("/accounts/sign-in/")["Location"] == "/oidc/authenticate/"
    home = app_client.get("/").content.decode()
    # Home and header: one click from the app to Cognito's page (sign-up and reset stay links).
    assert home.count('href="/oidc/authenticate/"') == 2
    assert 'href="/accounts/sign-up/"' in home and 'href="/accounts/forgot-password/"' in home


@pytest.mark.parametrize(
    ("view", "page"), [("/accounts/sign-up/", "/signup"), ("/accounts/forgot-password/", "/forgotPassword")]
)
def test_create_account_and_forgot_password_go_to_hosted_pages_with_state(app_client, view, page):
    location = app_client.get(view)["Location"]
    assert location.startswith(settings.COGNITO_DOMAIN + page + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"][0] in app_client.session["oidc_states"]
    assert query["code_challenge_method"] == ["S256"]


def test_admin_login_goes_through_cognito(app_client, new_user, sign_in):
    response = app_client.get("/admin/login/", {"next": "/admin/"})
    assert response["Location"] == "/oidc/authenticate/?next=%2Fadmin%2F"
    email, password, _ = new_user(groups=("admin",))
    client = app_client
    callback = hosted_ui_sign_in(start_sign_in(client, next_url="/admin/"), email, password)
    assert finish_sign_in(client, callback)["Location"] == "/admin/"
    assert client.get("/admin/").status_code == HTTPStatus.OK


def test_admin_refuses_a_signed_in_member_without_looping(sign_in, app_client):
    sign_in()
    response = app_client.get("/admin/login/", {"next": "/admin/"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert b"No admin access" in response.content
