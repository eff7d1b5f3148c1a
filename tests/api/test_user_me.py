"""GET/PATCH /api/user/me and GET /api/users/ with real tokens from the local pool."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from profiles.models import Profile
from project.integrations import cognito, outbound
from tests.support.users import make_member

pytestmark = pytest.mark.django_db


def patch(api, token, body, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return api("PATCH", "/api/user/me", token, data=data, content_type="application/json", headers=headers)


def test_a_valid_token_for_an_unseen_user_creates_them_once(api, new_user, idp):
    email, password, sub = new_user(name="Api Newcomer")
    token = cognito.user_pool().password_sign_in(username=email, password=password)["AccessToken"]
    assert not get_user_model().objects.filter(cognito_sub=sub).exists()

    body = api("GET", "/api/user/me", token).json()

    assert body["sub"] == sub and body["email"] == email
    assert body["profile"]["display_name"] == "Api Newcomer"
    with outbound.recording() as calls:  # no GetUser again, nor anything else
        assert api("GET", "/api/user/me", token).status_code == 200
    assert calls == [] and get_user_model().objects.filter(cognito_sub=sub).count() == 1


def test_a_concurrent_first_request_of_a_new_user_uses_the_row_the_other_created(api, new_user, monkeypatch):
    """N4: both requests saw no user; the other one inserts it before this one does (not a 500)."""
    from accounts import bearer, selectors
    from accounts import services as account_services

    email, password, sub = new_user(name="Api Racer")
    token = cognito.user_pool().password_sign_in(username=email, password=password)["AccessToken"]
    real_read = selectors.user_for_api

    def read_then_lose_the_race(*, sub):
        user = real_read(sub=sub)
        assert user is None
        claims = {**cognito.user_pool().get_user(access_token=token), "sub": sub}
        account_services.user_create_from_claims(claims=claims)  # the parallel request wins
        return user

    monkeypatch.setattr(bearer.selectors, "user_for_api", read_then_lose_the_race)
    response = api("GET", "/api/user/me", token)

    assert response.status_code == 200, response.content
    assert response.json()["sub"] == sub and response.json()["email"] == email
    assert get_user_model().objects.filter(cognito_sub=sub).count() == 1
    assert Profile.objects.filter(user__cognito_sub=sub).count() == 1


def test_patch_updates_through_the_form_rules_and_syncs_to_cognito(api, new_user, idp):
    email, password, sub = new_user(name="Api Editor")
    token = cognito.user_pool().password_sign_in(username=email, password=password)["AccessToken"]
    etag = api("GET", "/api/user/me", token)["ETag"]

    response = patch(api, token, {"display_name": "Api Edited", "bio": "<b>hi</b>"}, **{"If-Match": etag})

    assert response.status_code == 200, response.content
    assert response.json()["profile"]["display_name"] == "Api Edited"
    attributes = {
        a["Name"]: a["Value"]
        for a in idp.admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email)[
            "UserAttributes"
        ]
    }
    assert attributes["name"] == "Api Edited"
    stale = patch(api, token, {"bio": "stale"}, **{"If-Match": etag})
    assert stale.status_code == 412
    assert Profile.objects.get(user__cognito_sub=sub).bio == "<b>hi</b>"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "admin"}, "role"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"handle": "admin"}, "handle"),
        ({"display_name": "x" * 101}, "display_name"),
        ({"is_staff": True}, "is_staff"),
        ({"bio": 42}, "bio"),
        ({"visibility": "everyone"}, "visibility"),
    ],
)
def test_bad_fields_get_400_with_per_field_messages(api, alice_token, body, field):
    response = patch(api, alice_token, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Profile.objects.get(user__email="alice@example.com").role == "member"


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", "null", b"\xff\xfe"])
def test_bad_bodies_are_400(api, alice_token, raw):
    assert patch(api, alice_token, raw).status_code == 400


@pytest.mark.parametrize("raw", ["[" * 60000, '{"a":' * 8000 + "1" + "}" * 8000])
def test_deeply_nested_json_is_a_400_problem_not_a_500(api, alice_token, raw):
    """N3: Python's JSON parser recurses per level; the RecursionError is the client's bad input."""
    response = patch(api, alice_token, raw)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "The body is not valid JSON."


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("display_name", "\u202eevil", "U+202E"),
        ("display_name", "a\u2028b", "U+2028"),
        ("display_name", "next\x85line", "U+0085"),
        ("pronouns", "\x1b[31m", "U+001B"),
        ("college", "soft\u00adhyphen", "U+00AD"),
        ("location", "a\u2029b", "U+2029"),
        ("website", "https://example.com/\u202e", "U+202E"),
        ("bio", "a\x1bb", "U+001B"),
        ("bio", "rtl \u202e override", "U+202E"),
    ],
)
def test_control_and_format_characters_are_refused(api, alice_token, field, value, code):
    """N6: one validator for every text field, form and API alike."""
    response = patch(api, alice_token, {field: value})
    assert response.status_code == 400, response.content
    [message] = response.json()["errors"][field]
    assert f"({code})" in message


def test_line_breaks_in_the_bio_and_joiners_anywhere_are_text(api, new_user):
    email, password, _ = new_user(name="Joiner Tester")  # its name goes to Cognito: not alice's
    token = cognito.user_pool().password_sign_in(username=email, password=password)["AccessToken"]
    body = {
        "bio": "one\r\ntwo\tthree",
        "display_name": "Ana \U0001f469\u200d\U0001f4bb",
        "college": "\u0645\u06cc\u200c\u062e",
    }
    response = patch(api, token, body)
    assert response.status_code == 200, response.content
    assert {k: response.json()["profile"][k] for k in body} == body


def test_wrong_content_type_is_415(api, alice_token):
    response = api(
        "PATCH", "/api/user/me", alice_token, data="bio=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


def test_users_list_is_for_the_admin_group(api, alice_token):
    assert api("GET", "/api/users/", alice_token).status_code == 403
    admin = cognito.user_pool().password_sign_in(username="admin@example.com", password="Admin-pass-1")[
        "AccessToken"
    ]
    api("GET", "/api/user/me", alice_token)  # alice is known to the app
    page = api("GET", "/api/users/", admin).json()
    assert "alice@example.com" in [row["email"] for row in page["results"]]
    assert page["previous"] is None
    assert api("GET", "/api/users/?page=x", admin).status_code == 400


def test_methods_and_schema(api, alice_token, client):
    assert api("DELETE", "/api/user/me", alice_token).status_code == 405
    schema = client.get("/api/schema").json()
    assert schema["openapi"].startswith("3.1")
    assert set(schema["paths"]) >= {"/api/user/me", "/api/users/"}


@pytest.mark.parametrize("value", ["\ud800", "a\x00b"])
def test_unencodable_text_is_400_never_500(api, alice_token, value):
    response = patch(api, alice_token, {"bio": value, "handle": value})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"bio", "handle"}


@pytest.mark.parametrize("page", ["0", "-1", "99999999999999999999", "1e3"])
def test_out_of_range_pages_are_400(api, page):
    admin = cognito.user_pool().password_sign_in(username="admin@example.com", password="Admin-pass-1")[
        "AccessToken"
    ]
    assert api("GET", f"/api/users/?page={page}", admin).status_code == 400


@pytest.mark.parametrize("length", ["abc", "1e3", "11, 11", "-1", " 1 1"])
def test_a_malformed_content_length_is_a_400_problem(api, alice_token, length):
    """The WSGI environ carries the header as sent (the test client lets it through unchanged)."""
    body = json.dumps({"bio": "x"})
    response = api(
        "PATCH",
        "/api/user/me",
        alice_token,
        data=body,
        content_type="application/json",
        CONTENT_LENGTH=length,
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 400


def test_a_handle_taken_between_check_and_save_is_a_400_with_a_field_error(
    api, alice_token, handle_taken_meanwhile
):
    response = patch(api, alice_token, {"handle": "contested-api"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "taken" in response.json()["errors"]["handle"][0]
    assert Profile.objects.filter(handle="contested-api").count() == 1


def test_an_edit_moves_updated_at_with_the_version(api, alice_token):
    """.update() skips auto_now: updated_at stayed at creation while the version went 1 → 3."""
    before = api("GET", "/api/user/me", alice_token).json()["profile"]
    after = patch(api, alice_token, {"bio": "Edited just now"}).json()["profile"]
    assert after["version"] == before["version"] + 1
    assert datetime.fromisoformat(after["updated_at"]) > datetime.fromisoformat(before["updated_at"])
    stored = Profile.objects.get(user__email="alice@example.com")
    assert stored.updated_at > stored.created_at


def test_a_stale_session_cookie_on_the_bearer_api_gets_a_json_401_not_a_redirect(client):
    """The API never uses the session: a browser's ended session is no business of it."""
    user, _ = make_member(name="Stale Cookie")
    client.force_login(user)
    get_user_model().objects.filter(pk=user.pk).update(
        is_active=False
    )  # disabled since: the session is stale
    response = client.get("/api/user/me")
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"
    assert client.get("/me/").url.endswith("/accounts/disabled/")  # pages still say why


def test_the_caller_learns_what_moderators_did_to_their_profile_but_not_who(api, new_user):
    email, password, sub = new_user(name="Api Moderated")
    token = cognito.user_pool().password_sign_in(username=email, password=password)["AccessToken"]
    fresh = api("GET", "/api/user/me", token).json()
    assert fresh["moderation"] == {"hidden": False, "hidden_at": None, "hidden_reason": None, "actions": []}

    moderator, _ = make_member(name="Mod Eratorsky", role="moderator")
    web = Client()
    web.force_login(moderator)
    handle = fresh["profile"]["handle"]
    hidden = web.post(f"/u/{handle}/moderate/hide/", {"reason": "Spam links in the bio"})
    assert hidden.status_code == 302

    response = api("GET", "/api/user/me", token)
    body = response.json()
    stored = Profile.objects.get(user__cognito_sub=sub)
    assert body["moderation"]["hidden"] is True
    assert body["moderation"]["hidden_reason"] == "Spam links in the bio"
    assert datetime.fromisoformat(body["moderation"]["hidden_at"]) == stored.hidden_at
    (action,) = body["moderation"]["actions"]
    assert action["action"] == "hide" and action["label"] == "Profile hidden"
    assert action["by_role"] == "moderator" and action["reason"] == "Spam links in the bio"
    assert datetime.fromisoformat(action["at"]) == stored.moderations.get().created_at
    # The moderator's identity stays out, as on /me/: neither address, name nor id.
    text = response.content.decode()
    for secret in (moderator.email, "Eratorsky", '"actor'):
        assert secret not in text

    assert web.post(f"/u/{handle}/moderate/unhide/", {"reason": "Bio fixed"}).status_code == 302
    after = api("GET", "/api/user/me", token).json()["moderation"]
    assert after["hidden"] is False and after["hidden_at"] is None and after["hidden_reason"] is None
    assert [a["action"] for a in after["actions"]] == ["unhide", "hide"]
    assert after["actions"][0]["reason"] == "Bio fixed"
    # The PATCH answer (the same document) carries it too.
    patched = patch(api, token, {"bio": "Tidied up"}).json()
    assert [a["action"] for a in patched["moderation"]["actions"]] == ["unhide", "hide"]
