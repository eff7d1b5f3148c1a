"""The account page's e-mail change, account deletion and data download, over HTTP against the stack."""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from http import HTTPStatus

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from accounts import services
from accounts.signals import AccountDeletionBlocked, user_deleting
from profiles import credentials as creds
from profiles.models import Profile
from project.integrations import cognito, s3
from tests.support.avatars import operator_s3, upload
from tests.support.hosted_ui import APP_HOST, sign_in_again
from tests.support.images import jpeg
from tests.support.outbox import latest_code
from tests.support.sessions import make_stale

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(signed_in_person):
    return signed_in_person(name="Mail Mover")


@pytest.fixture
def outage(settings):
    """`with outage(name):` Cognito's API ("cognito") or S3 ("s3") is unreachable (nothing listens)."""
    original = {"cognito": settings.AWS_ENDPOINT_URL, "s3": settings.AWS_S3_ENDPOINT_URL}

    @contextlib.contextmanager
    def down(what: str = "cognito"):
        setting = "AWS_ENDPOINT_URL" if what == "cognito" else "AWS_S3_ENDPOINT_URL"
        setattr(settings, setting, "http://127.0.0.1:9")
        settings.COGNITO_TIMEOUT = 1
        cognito.user_pool().reset()
        s3.bucket().reset()
        try:
            yield
        finally:
            setattr(settings, setting, original[what])
            cognito.user_pool().reset()
            s3.bucket().reset()

    return down


def keys_under(prefix: str) -> list[str]:
    answer = operator_s3().list_objects_v2(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Prefix=prefix)
    return sorted(o["Key"] for o in answer.get("Contents", []))


def at_cognito(idp, username: str) -> dict[str, str] | None:
    try:
        user = idp.admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=username)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "UserNotFoundException"
        return None
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


def can_sign_in(email: str, password: str) -> bool:
    try:
        cognito.user_pool().password_sign_in(username=email, password=password)
    except cognito.CognitoError:
        return False
    return True


def new_address() -> str:
    return f"moved-{uuid.uuid4().hex[:10]}@example.com"


def user_of(sub: str):
    return get_user_model().objects.filter(cognito_sub=sub).first()


# --- E-mail change ---------------------------------------------------------------------------------


def test_a_new_address_waits_for_its_code_while_the_old_one_keeps_working(person, idp, sign_in):
    client, email, password, sub = person
    new = new_address()

    response = client.post("/account/email/", {"email": new})

    assert response.status_code == HTTPStatus.FOUND
    assert at_cognito(idp, email)["email"] == email  # Cognito keeps the old address
    assert can_sign_in(email, password) and not can_sign_in(new, password)
    html = client.get("/account/").content.decode()
    assert 'data-testid="pending-email"' in html and new in html
    assert user_of(sub).email == email and user_of(sub).pending_email == new
    # A sign-in meanwhile (claims: the old, verified address) keeps the change pending.
    sign_in(email, password, client=Client(HTTP_HOST=APP_HOST))
    assert user_of(sub).pending_email == new

    code = latest_code(new)
    wrong = client.post("/account/email/verify/", {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == HTTPStatus.BAD_REQUEST
    assert "That code is not right." in wrong.content.decode()

    assert client.post("/account/email/verify/", {"code": code}).status_code == HTTPStatus.FOUND
    assert at_cognito(idp, new)["email"] == new
    assert user_of(sub).email == new and user_of(sub).pending_email == ""
    assert can_sign_in(new, password) and not can_sign_in(email, password)
    claims = cognito.user_pool().verify_token(client.session[services.ID_TOKEN], token_use="id")
    assert claims["email"] == new  # the session's tokens were renewed


def test_resend_replaces_the_code_and_cancel_forgets_the_change(person, idp):
    client, email, password, sub = person
    new = new_address()
    client.post("/account/email/", {"email": new})
    first = latest_code(new)
    assert client.post("/account/email/resend/").status_code == HTTPStatus.FOUND
    second = latest_code(new)
    assert first != second
    stale = client.post("/account/email/verify/", {"code": first})
    assert stale.status_code == HTTPStatus.BAD_REQUEST

    assert client.post("/account/email/cancel/").status_code == HTTPStatus.FOUND
    assert user_of(sub).pending_email == ""
    client.post("/account/email/verify/", {"code": second})
    assert at_cognito(idp, email)["email"] == email and can_sign_in(email, password)


def test_another_accounts_address_is_refused_on_the_field(person, new_user):
    client, _, _, _ = person
    taken, _, _ = new_user()
    response = client.post("/account/email/", {"email": taken})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Another account already uses that address." in response.content.decode()


def test_changing_the_address_needs_a_recent_sign_in_and_keeps_the_input(person, idp):
    client, email, password, _ = person
    make_stale(client)
    assert 'data-testid="reauth-email"' in client.get("/account/").content.decode()
    new = new_address()
    response = client.post("/account/email/", {"email": new})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert f'value="{new}"' in response.content.decode()  # nothing typed is lost
    assert at_cognito(idp, email)["email"] == email
    assert sign_in_again(client, "/account/#email", email, password)["Location"] == "/account/#email"
    assert client.post("/account/email/", {"email": new}).status_code == HTTPStatus.FOUND


def test_the_page_never_writes_custom_role_or_other_attributes(person, idp):
    client, email, _, _ = person
    idp.admin_update_user_attributes(
        UserPoolId=settings.COGNITO_USER_POOL_ID, Username=email,
        UserAttributes=[{"Name": "custom:role", "Value": "student"}],
    )  # fmt: skip
    client.post("/account/email/", {"email": new_address(), "custom:role": "admin", "name": "Mallory"})
    attributes = at_cognito(idp, email)
    assert attributes["custom:role"] == "student" and attributes["name"] == "Mail Mover"


def test_cognito_down_at_each_email_step_says_so(person, outage):
    client, _, _, sub = person
    new = new_address()
    with outage():
        response = client.post("/account/email/", {"email": new})
    assert response.status_code == HTTPStatus.BAD_REQUEST and "cannot be reached" in response.content.decode()
    assert user_of(sub).pending_email == ""
    client.post("/account/email/", {"email": new})
    for url, data in (("/account/email/verify/", {"code": "123456"}), ("/account/email/resend/", {})):
        with outage():
            response = client.post(url, data)
        assert (
            response.status_code == HTTPStatus.BAD_REQUEST
            and "cannot be reached" in response.content.decode()
        )
    assert user_of(sub).pending_email == new


# --- Delete my account -----------------------------------------------------------------------------


def test_deleting_removes_cognito_user_avatar_profile_and_sessions_then_the_address_starts_afresh(
    person, idp, sign_in
):
    client, email, password, sub = person
    other = Client(HTTP_HOST=APP_HOST)
    sign_in(email, password, client=other)
    assert upload(client, jpeg()).status_code == HTTPStatus.FOUND
    profile = Profile.objects.get(user__cognito_sub=sub)
    profile.bio = "Old life"
    profile.save()
    prefix = f"protected/{profile.identity_id}/"
    assert keys_under(prefix)

    wrong = client.post("/account/delete/", {"confirm_email": "someone@example.com"})
    assert wrong.status_code == HTTPStatus.BAD_REQUEST and user_of(sub) is not None

    response = client.post("/account/delete/", {"confirm_email": email.upper()})

    assert response.status_code == HTTPStatus.FOUND and response["Location"].startswith(
        settings.COGNITO_DOMAIN
    )
    assert at_cognito(idp, email) is None
    assert user_of(sub) is None and not Profile.objects.filter(pk=profile.pk).exists()
    assert keys_under(prefix) == []
    assert (
        client.get("/me/").status_code == HTTPStatus.FOUND
        and other.get("/me/").status_code == HTTPStatus.FOUND
    )

    idp.sign_up(
        ClientId=settings.COGNITO_CLIENT_ID, Username=email, Password=password,
        SecretHash=cognito.secret_hash(email), UserAttributes=[{"Name": "email", "Value": email}],
    )  # fmt: skip
    idp.confirm_sign_up(
        ClientId=settings.COGNITO_CLIENT_ID, Username=email, ConfirmationCode=latest_code(email),
        SecretHash=cognito.secret_hash(email),
    )  # fmt: skip
    again = Client(HTTP_HOST=APP_HOST)
    sign_in(email, password, client=again)
    fresh = Profile.objects.get(user__email=email)
    assert fresh.user.cognito_sub != sub and fresh.bio == "" and fresh.avatar_key == ""


def test_delete_needs_a_recent_sign_in(person, idp):
    client, email, _, sub = person
    make_stale(client)
    assert 'data-testid="reauth-delete"' in client.get("/account/").content.decode()
    response = client.post("/account/delete/", {"confirm_email": email})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert user_of(sub) is not None and at_cognito(idp, email) is not None


def test_cognito_down_at_delete_leaves_the_account_and_deleting_again_finishes(person, idp, outage):
    client, email, _, sub = person
    upload(client, jpeg())
    with outage("cognito"):
        response = client.post("/account/delete/", {"confirm_email": email})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "cannot be reached" in response.content.decode()
    assert user_of(sub) is not None and at_cognito(idp, email) is not None
    assert client.get("/me/").status_code == HTTPStatus.OK  # still signed in, can retry
    assert client.post("/account/delete/", {"confirm_email": email}).status_code == HTTPStatus.FOUND
    assert user_of(sub) is None and at_cognito(idp, email) is None


def test_storage_down_at_delete_deletes_nothing(person, idp, outage):
    client, email, _, sub = person
    upload(client, jpeg())
    stem = Profile.objects.get(user__cognito_sub=sub).avatar_key
    with outage("s3"):
        response = client.post("/account/delete/", {"confirm_email": email})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "picture could not be deleted" in response.content.decode()
    assert at_cognito(idp, email) is not None
    assert Profile.objects.get(user__cognito_sub=sub).avatar_key == stem


# --- Download my data ------------------------------------------------------------------------------


def test_download_my_data_holds_account_profile_and_picture_links_only_mine(person, new_user, sign_in):
    client, email, _, sub = person
    other_email, other_password, _ = new_user(name="Someone Else")
    sign_in(other_email, other_password, client=Client(HTTP_HOST=APP_HOST))
    upload(client, jpeg())

    response = client.get("/account/my-data.json")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Disposition"] == 'attachment; filename="my-data.json"'
    data = json.loads(response.content)
    assert data["account"]["sub"] == sub and data["account"]["email"] == email
    assert data["profile"]["display_name"] == "Mail Mover"
    assert re.match(r"^http://127\.0\.0\.1:\d+/", data["profile"]["avatar"]["512px"])
    assert len(data["sessions"]) == 1
    assert other_email not in response.content.decode() and "Someone Else" not in response.content.decode()


def test_another_users_code_and_a_used_code_are_refused(person, new_user, sign_in):
    client, _, _, sub = person
    other_email, other_password, _ = new_user()
    other = Client(HTTP_HOST=APP_HOST)
    sign_in(other_email, other_password, client=other)
    mine, theirs = new_address(), new_address()
    client.post("/account/email/", {"email": mine})
    other.post("/account/email/", {"email": theirs})
    their_code = latest_code(theirs)
    if their_code != latest_code(mine):  # codes are random: equal once in a million
        response = client.post("/account/email/verify/", {"code": their_code})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "That code is not right." in response.content.decode()
    code = latest_code(mine)
    assert client.post("/account/email/verify/", {"code": code}).status_code == HTTPStatus.FOUND
    again = client.post("/account/email/verify/", {"code": code}, follow=True)
    assert "No change of address is waiting for a code" in again.content.decode()
    assert user_of(sub).email == mine


def test_an_operator_without_the_moderator_role_is_refused_before_fetching_credentials(
    person, new_user, sign_in
):
    """user_deleting from the operator console: the request is the operator's, not the user's.

    An operator whose sign-in lacks the moderator role cannot delete the picture: the deletion is
    blocked (tests/avatars/test_operator_delete.py covers the console end to end).
    """
    client, email, _, sub = person
    upload(client, jpeg())
    operator_email, operator_password, _ = new_user()
    operator = Client(HTTP_HOST=APP_HOST)
    sign_in(operator_email, operator_password, client=operator)
    request = RequestFactory().post("/admin/")
    request.user = get_user_model().objects.get(email=operator_email)
    request.session = operator.session
    victim = user_of(sub)

    with pytest.raises(AccountDeletionBlocked, match="moderator role"):
        user_deleting.send(sender=type(victim), user=victim, request=request, operator=request.user)

    assert creds.SESSION_CREDENTIALS not in request.session  # nothing fetched or cached as the operator
