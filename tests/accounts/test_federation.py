"""'Continue with Google / Facebook / Apple': the app through Cognito to localcloud's fake providers.

End to end over HTTP (the app's views, the local user pool, the fake provider), no patching.
"""

from __future__ import annotations

import uuid
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model

from accounts import selectors, services
from profiles.models import Profile
from tests.support.hosted_ui import finish_sign_in, hosted_ui_sign_in, provider_round_trip, start_sign_in

pytestmark = pytest.mark.django_db
User = get_user_model()


def fresh_email() -> str:
    return f"fed-{uuid.uuid4().hex[:10]}@example.com"


def test_sign_in_page_offers_each_provider(app_client):
    page = app_client.get("/accounts/sign-in/?next=/people/").content.decode()
    for name, label in (("Google", "Google"), ("Facebook", "Facebook"), ("SignInWithApple", "Apple")):
        assert f'id="continue-with-{name}"' in page and f"Continue with {label}" in page
    assert "identity_provider=Google&amp;next=%2Fpeople%2F" in page


def test_only_allow_listed_providers_are_passed_to_cognito(app_client, settings):
    location = app_client.get("/oidc/authenticate/", {"identity_provider": "Google"})["Location"]
    assert parse_qs(urlsplit(location).query)["identity_provider"] == ["Google"]
    for value in ("ExampleOIDC", "COGNITO", "Google&x=1"):  # not on the allow-list
        location = app_client.get("/oidc/authenticate/", {"identity_provider": value})["Location"]
        assert "identity_provider" not in parse_qs(urlsplit(location).query)


def test_first_google_sign_in_creates_one_user_and_profile(app_client):
    email = fresh_email()
    before = User.objects.count()
    response = provider_round_trip(app_client, "Google", email=email, name="Gina Google")
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == "/me/"
    assert User.objects.count() == before + 1
    user = User.objects.get(email=email)
    assert user.cognito_username.startswith("Google_") and user.name == "Gina Google"
    assert Profile.objects.get(user=user).display_name == "Gina Google"
    assert app_client.get("/me/").status_code == HTTPStatus.OK
    # The same person again: still one user.
    provider_round_trip(app_client, "Google", email=email, name="Gina Google")
    assert User.objects.count() == before + 1


def test_facebook_email_is_kept_unverified(app_client):
    email = fresh_email()
    provider_round_trip(app_client, "Facebook", email=email, name="Fred Facebook")
    user = User.objects.get(pending_email=email)
    assert user.email == "" and user.cognito_username.startswith("Facebook_")


def test_password_then_google_with_the_same_verified_email_is_the_same_user(app_client, client, new_user):
    person = new_user(name="Paula Password")
    authorize = start_sign_in(app_client)
    finish_sign_in(app_client, hosted_ui_sign_in(authorize, person.email, person.password))
    user = User.objects.get(cognito_sub=person.sub)
    profile = Profile.objects.get(user=user)
    app_client.post("/accounts/sign-out/")

    response = provider_round_trip(
        app_client, "Google", email=person.email, name="Paula Password", verified=True
    )
    assert response.status_code == HTTPStatus.FOUND
    assert app_client.session["_auth_user_id"] == str(user.pk)
    assert User.objects.filter(email=person.email).count() == 1
    assert Profile.objects.filter(user=user).get().pk == profile.pk
    linked = selectors.user_linked_providers(user=user)
    assert [(p.provider_name, p.can_unlink) for p in linked] == [("Google", True)]


def test_unverified_google_email_is_not_linked(app_client, new_user):
    person = new_user(name="Uma Unverified")
    response = provider_round_trip(app_client, "Google", email=person.email, verified=False)
    assert response.status_code == HTTPStatus.FOUND
    signed_in = User.objects.get(pk=app_client.session["_auth_user_id"])
    assert signed_in.cognito_sub != person.sub and signed_in.cognito_username.startswith("Google_")
    # It did not get the address either: unverified, it stays pending.
    assert signed_in.email == "" and signed_in.pending_email == person.email


def test_cancelled_provider_sign_in_shows_try_another_way(app_client):
    response = provider_round_trip(app_client, "Google", email=fresh_email(), cancel=True)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    assert "Sign-in was cancelled or refused." in page and 'id="try-another-way"' in page
    assert "_auth_user_id" not in app_client.session


def test_unlinking_keeps_a_way_to_sign_in(app_client, new_user):
    person = new_user(name="Lena Linked")
    provider_round_trip(app_client, "Google", email=person.email, verified=True)
    user = User.objects.get(cognito_sub=person.sub)
    # Unlinking needs a sign-in that proves presence: the password (Google asks no second factor).
    finish_sign_in(app_client, hosted_ui_sign_in(start_sign_in(app_client), person.email, person.password))
    page = app_client.post("/accounts/linked-providers/unlink/", {"provider": "Google", "next": "/me/"})
    assert page.status_code == HTTPStatus.FOUND and page["Location"] == "/me/"
    assert selectors.user_linked_providers(user=user) == []
    # A Google-made account cannot drop Google: nothing else signs it in.
    other = app_client.__class__(HTTP_HOST="localhost:8000")
    provider_round_trip(other, "Google", email=fresh_email(), name="Only Google")
    google_user = User.objects.get(pk=other.session["_auth_user_id"])
    [only] = selectors.user_linked_providers(user=google_user)
    assert only.primary and not only.can_unlink
    with pytest.raises(services.UnlinkRefused):
        services.user_unlink_provider(user=google_user, provider_name="Google")
    refused = other.post(
        "/accounts/linked-providers/unlink/", {"provider": "Google", "next": "https://evil.example/"}
    )
    assert refused["Location"] == "/me/"  # an off-site next is dropped
    assert len(selectors.user_linked_providers(user=google_user)) == 1


def test_unlinked_google_no_longer_signs_in_to_the_account(app_client, new_user):
    person = new_user(name="Ulla Unlinked")
    provider_round_trip(app_client, "Google", email=person.email, verified=True)
    user = User.objects.get(cognito_sub=person.sub)
    finish_sign_in(app_client, hosted_ui_sign_in(start_sign_in(app_client), person.email, person.password))
    page = app_client.post(
        "/accounts/linked-providers/unlink/", {"provider": "Google", "next": "/me/"}, follow=True
    )
    assert "Google no longer signs you in to this account." in page.content.decode()
    # The account page must not promise that signing in with Google again adds it back.
    account = app_client.get("/account/").content.decode()
    assert 'id="linked-providers"' in account
    assert "to add one" not in account and "cannot be added back" in account
    app_client.post("/accounts/sign-out/")
    # The same Google account and verified e-mail again: as promised, not this account.
    provider_round_trip(app_client, "Google", email=person.email, verified=True)
    signed_in = User.objects.get(pk=app_client.session["_auth_user_id"])
    assert signed_in.pk != user.pk and signed_in.cognito_username.startswith("Google_")
    assert selectors.user_linked_providers(user=user) == []


def test_a_nameless_apple_user_is_called_apple_user_not_its_sub(app_client):
    # Apple gives no name; with its address unverified there is nothing else to show.
    provider_round_trip(app_client, "SignInWithApple", email=fresh_email(), verified=False)
    user = User.objects.get(pk=app_client.session["_auth_user_id"])
    assert user.email == "" and user.cognito_username.startswith("SignInWithApple_")
    assert str(user) == user.get_short_name() == "Apple user"
    assert Profile.objects.get(user=user).display_name == "Apple user"
    page = app_client.get("/me/").content.decode()
    assert "Apple user" in page and user.cognito_sub not in page
    # With a verified address, its local part (as for any nameless sign-in).
    other = app_client.__class__(HTTP_HOST="localhost:8000")
    email = fresh_email()
    provider_round_trip(other, "SignInWithApple", email=email, verified=True)
    verified = User.objects.get(pk=other.session["_auth_user_id"])
    assert Profile.objects.get(user=verified).display_name == email.split("@")[0]


def test_linked_providers_partial_renders_forms_with_csrf(rf, new_user, app_client):
    from django.template.loader import render_to_string

    person = new_user(name="Tess Template")
    provider_round_trip(app_client, "Google", email=person.email, verified=True)
    user = User.objects.get(cognito_sub=person.sub)
    request = rf.get("/account/")
    request.user = user
    linked = selectors.user_linked_providers(user=user)
    html = render_to_string(
        "accounts/_linked_providers.html", {"linked_providers": linked, "recent": True}, request=request
    )
    assert "Google" in html and 'name="csrfmiddlewaretoken"' in html and 'value="/account/"' in html
    # Without a recent sign-in there is no form to post (the view refuses it too).
    stale = render_to_string("accounts/_linked_providers.html", {"linked_providers": linked}, request=request)
    assert "Google" in stale and "unlink" not in stale
