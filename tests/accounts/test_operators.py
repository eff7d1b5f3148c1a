"""The operator console: admin actions that reach Cognito, checked in the pool after each."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import pyotp
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client

from accounts.models import OperatorAction
from project.integrations import cognito
from tests.support.hosted_ui import (
    APP_HOST,
    finish_sign_in,
    hosted_ui_sign_in,
    start_sign_in,
    submit_hosted_form,
)
from tests.support.users import make_member, outbox, pool_user

pytestmark = pytest.mark.django_db
User = get_user_model()
POOL = settings.COGNITO_USER_POOL_ID


def signed_in(email: str, password: str) -> Client:
    client = Client(HTTP_HOST=APP_HOST)
    response = finish_sign_in(client, hosted_ui_sign_in(start_sign_in(client), email, password))
    assert response.status_code == HTTPStatus.FOUND and "/me/" in response["Location"], response
    return client


@pytest.fixture
def admin_client(new_user):
    """A staff member with the admin role in their token, signed in."""
    email, password, sub = new_user(groups=("admin",), name="Operator", role="admin")
    return signed_in(email, password), User.objects.get(cognito_sub=sub)


@pytest.fixture
def target(new_user):
    """A member who has signed in (so has a local account and a live session)."""
    pool = new_user(name="Alice Example")
    client = signed_in(pool.email, pool.password)
    return pool, client, User.objects.get(cognito_sub=pool.sub)


def act(client: Client, user: Any, action: str, **fields: str):
    return client.post(f"/admin/accounts/user/{user.pk}/cognito/", {"action": action, **fields})


def shown(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def last_audit(action: str) -> OperatorAction:
    return OperatorAction.objects.filter(action=action).latest("id")


# --- Each action, with the pool's state checked after it ------------------------------------------


def test_disable_disables_in_cognito_revokes_refresh_and_signs_the_user_out(admin_client, target, idp):
    client, operator = admin_client
    pool, alice, user = target
    refresh_token = alice.session["cognito_refresh_token"]

    response = act(client, user, "disable")
    assert response.status_code == HTTPStatus.FOUND
    assert pool_user(idp, pool.email)["Enabled"] is False
    with pytest.raises(cognito.TokenRejected):  # AdminUserGlobalSignOut: the refresh token is dead
        cognito.user_pool().refresh(refresh_token)
    user.refresh_from_db()
    assert not user.is_active
    # Her next request: signed out, and told why (not a sign-in loop).
    page = alice.get("/me/", follow=True)
    assert page.redirect_chain[-1][0] == "/accounts/disabled/"
    assert "Your account is disabled" in page.content.decode()
    assert alice.get("/me/")["Location"].startswith("/accounts/sign-in/")
    entry = last_audit("disable")
    assert entry.succeeded and entry.actor_email == operator.email and entry.target_sub == pool.sub


def test_a_disabled_user_signing_in_sees_disabled_not_a_loop(admin_client, target, idp):
    client, _ = admin_client
    pool, _, user = target
    # Disabled here only (e.g. by reconcile), still enabled in Cognito: Cognito lets her in.
    User.objects.filter(pk=user.pk).update(is_active=False)
    fresh = Client(HTTP_HOST=APP_HOST)
    response = finish_sign_in(fresh, hosted_ui_sign_in(start_sign_in(fresh), pool.email, pool.password))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Your account is disabled" in response.content.decode()
    assert "Sign-in failed" not in response.content.decode()


def test_enable_lets_the_user_sign_in_again(admin_client, target, idp):
    client, _ = admin_client
    pool, _, user = target
    act(client, user, "disable")
    response = act(client, user, "enable")
    assert "Enabled" in " ".join(shown(response))
    assert pool_user(idp, pool.email)["Enabled"] is True
    user.refresh_from_db()
    assert user.is_active
    signed_in(pool.email, pool.password)


def test_sign_out_everywhere_revokes_the_refresh_token(admin_client, target, idp):
    client, _ = admin_client
    pool, alice, user = target
    refresh_token = alice.session["cognito_refresh_token"]
    act(client, user, "sign_out")
    with pytest.raises(cognito.TokenRejected):
        cognito.user_pool().refresh(refresh_token)
    assert pool_user(idp, pool.email)["Enabled"] is True
    # Her Django session ended at once: the next request is signed out, and says so.
    response = alice.get("/me/", follow=True)
    assert response.redirect_chain[0][0].startswith("/accounts/sign-in/")
    assert "You have been signed out" in response.content.decode()
    assert last_audit("sign_out").succeeded


def test_reset_password_sends_a_code_and_the_hosted_ui_takes_the_user_through(admin_client, target, idp):
    import requests

    client, _ = admin_client
    pool, _, user = target
    act(client, user, "reset_password")
    assert pool_user(idp, pool.email)["UserStatus"] == "RESET_REQUIRED"
    assert outbox(pool.email)[0]["kind"] == "admin_reset"
    # The old password no longer signs in: the hosted UI asks for the reset (a fresh code).
    fresh = Client(HTTP_HOST=APP_HOST)
    browser = requests.Session()
    page = browser.get(start_sign_in(fresh), timeout=10)
    reset = submit_hosted_form(browser, page, {"username": pool.email, "password": pool.password})
    assert "confirmforgotPassword" in reset.headers["Location"]
    page = browser.get(reset.headers["Location"] if "://" in reset.headers["Location"] else
                       settings.COGNITO_DOMAIN + reset.headers["Location"], timeout=10)  # fmt: skip
    code = outbox(pool.email)[0]["code"]
    done = submit_hosted_form(
        browser, page, {"code": code, "password": "New-pass-22", "password2": "New-pass-22"}
    )
    assert done.status_code in (302, 303)
    assert pool_user(idp, pool.email)["UserStatus"] == "CONFIRMED"
    signed_in(pool.email, "New-pass-22")


def test_reset_mfa_turns_off_totp(admin_client, target, idp):
    client, _ = admin_client
    pool, _, user = target
    tokens = cognito.user_pool().password_sign_in(username=pool.email, password=pool.password)
    secret = idp.associate_software_token(AccessToken=tokens["AccessToken"])["SecretCode"]
    idp.verify_software_token(AccessToken=tokens["AccessToken"], UserCode=pyotp.TOTP(secret).now())
    idp.set_user_mfa_preference(
        AccessToken=tokens["AccessToken"], SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    assert pool_user(idp, pool.email)["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    page = client.get(f"/admin/accounts/user/{user.pk}/cognito/").content.decode()
    assert "SOFTWARE_TOKEN_MFA" in page
    act(client, user, "reset_mfa")
    assert not pool_user(idp, pool.email).get("UserMFASettingList")
    signed_in(pool.email, pool.password)  # the password alone signs in again


def test_set_role_from_the_list_writes_cognito_and_mirrors_it(admin_client, target, idp):
    client, _ = admin_client
    pool, _, user = target
    act(client, user, "set_role", role="moderator")
    assert pool_user(idp, pool.email)["Attributes"]["custom:role"] == "moderator"
    user.refresh_from_db()
    assert user.profile.role == "moderator"
    response = act(client, user, "set_role", role="superhero")
    assert "not a role" in " ".join(shown(response))
    assert pool_user(idp, pool.email)["Attributes"]["custom:role"] == "moderator"


def test_groups_are_added_and_removed_in_cognito_and_mirrored(admin_client, target, idp):
    client, _ = admin_client
    pool, _, user = target
    act(client, user, "add_group", group="admin")
    assert pool_user(idp, pool.email)["Groups"] == ["admin"]
    user.refresh_from_db()
    assert list(user.groups.values_list("name", flat=True)) == ["admin"] and user.is_staff
    act(client, user, "remove_group", group="admin")
    assert pool_user(idp, pool.email)["Groups"] == []
    user.refresh_from_db()
    assert not user.groups.exists() and not user.is_staff


def test_invite_creates_the_user_with_a_temporary_password_to_change(admin_client, idp):
    import uuid

    client, _ = admin_client
    email = f"invited-{uuid.uuid4().hex[:8]}@example.com"
    response = client.post(
        "/admin/accounts/user/invite/", {"email": email, "name": "Invited Person", "role": "member"}
    )
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:1000]
    invited = pool_user(idp, email)
    assert invited["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert invited["Attributes"]["custom:role"] == "member"
    temporary = outbox(email)[0]["code"]
    # First sign-in: the hosted UI forces a new password, then the app makes the account.
    import requests

    fresh = Client(HTTP_HOST=APP_HOST)
    browser = requests.Session()
    page = browser.get(start_sign_in(fresh), timeout=10)
    step = submit_hosted_form(browser, page, {"username": email, "password": temporary})
    assert step.status_code == 200 and "new" in step.text.lower()
    callback = submit_hosted_form(browser, step, {"password": "Chosen-pass-1", "password2": "Chosen-pass-1"})
    assert finish_sign_in(fresh, callback.headers["Location"]).status_code == HTTPStatus.FOUND
    assert User.objects.get(email=email).cognito_sub == invited["Attributes"]["sub"]
    for dup in ("", "not-an-email"):
        bad = client.post("/admin/accounts/user/invite/", {"email": dup})
        assert bad.status_code == HTTPStatus.BAD_REQUEST
    again = client.post("/admin/accounts/user/invite/", {"email": email})
    assert again.status_code == HTTPStatus.BAD_REQUEST and "already exists" in " ".join(shown(again))


def test_delete_removes_the_user_in_cognito_and_here(admin_client, target, idp):
    client, operator = admin_client
    pool, alice, user = target
    response = act(client, user, "delete")
    assert response["Location"] == "/admin/accounts/user/"
    assert pool_user(idp, pool.email) is None
    assert not User.objects.filter(pk=user.pk).exists()
    entry = last_audit("delete")
    assert entry.succeeded and entry.target_email == pool.email and entry.target_id is None
    assert entry.actor_email == operator.email
    assert alice.get("/me/").status_code == HTTPStatus.FOUND  # signed out


def test_the_state_page_reads_cognito_on_demand(admin_client, target, idp):
    client, _ = admin_client
    pool, _, user = target
    page = client.get(f"/admin/accounts/user/{user.pk}/cognito/").content.decode()
    for fact in ("CONFIRMED", pool.sub, pool.email, "Last modified"):
        assert fact in page
    with cognito_calls() as calls:
        client.get("/admin/accounts/user/")
    assert calls == []  # the list view never asks Cognito


def cognito_calls():
    from project.integrations import outbound

    return outbound.recording()


def test_same_names_are_told_apart_in_the_list(admin_client, new_user):
    client, _ = admin_client
    subs = []
    for _ in range(2):
        pool = new_user(name="Alice Example")
        signed_in(pool.email, pool.password)
        subs.append((pool.email, pool.sub))
    listing = client.get("/admin/accounts/user/", {"q": "Alice Example"}).content.decode()
    for email, sub in subs:
        assert email in listing and sub in listing
    assert "Invite a user" in listing and "Reconcile with the pool" in listing
    assert "Disable in Cognito and sign out" in listing  # the bulk actions


# --- Who may not ----------------------------------------------------------------------------------


def test_forged_posts_by_anonymous_and_members_change_nothing(target, new_user, idp):
    pool, alice, user = target
    assert act(Client(HTTP_HOST=APP_HOST), user, "disable").status_code == HTTPStatus.FOUND  # to login
    other = new_user()
    member = signed_in(other.email, other.password)
    response = act(member, user, "disable")
    assert response.status_code in (HTTPStatus.FOUND, HTTPStatus.FORBIDDEN)
    assert act(alice, user, "delete").status_code in (HTTPStatus.FOUND, HTTPStatus.FORBIDDEN)
    assert member.post(
        "/admin/accounts/user/invite/", {"email": "x@example.com"}
    ).status_code != HTTPStatus.FOUND or (pool_user(idp, "x@example.com") is None)
    assert pool_user(idp, pool.email)["Enabled"] is True
    assert User.objects.filter(pk=user.pk, is_active=True).exists()


def test_staff_without_the_permission_are_refused(target, idp):
    pool, _, user = target
    staff, _ = make_member(name="Staff Without Perms", staff=True)
    client = Client(HTTP_HOST=APP_HOST)
    client.force_login(staff)
    assert act(client, user, "disable").status_code == HTTPStatus.FORBIDDEN
    assert client.get(f"/admin/accounts/user/{user.pk}/cognito/").status_code == HTTPStatus.FORBIDDEN
    assert pool_user(idp, pool.email)["Enabled"] is True


def test_a_moderator_cannot_change_roles_groups_or_delete(new_user, target, idp):
    email, password, sub = new_user(groups=("admin",), name="Moderator", role="moderator")
    client = signed_in(email, password)
    pool, _, user = target
    for action, fields in (
        ("set_role", {"role": "admin"}),
        ("add_group", {"group": "admin"}),
        ("delete", {}),
    ):
        response = act(client, user, action, **fields)
        assert "Only administrators" in " ".join(shown(response)), action
    state = pool_user(idp, pool.email)
    assert "custom:role" not in state["Attributes"] and state["Groups"] == []
    assert User.objects.filter(pk=user.pk).exists()
    moderator = User.objects.get(cognito_sub=sub)
    act(client, moderator, "set_role", role="admin")  # nor their own
    assert pool_user(idp, email)["Attributes"]["custom:role"] == "moderator"
    refused = last_audit("set_role")
    assert not refused.succeeded and refused.actor_email == email and "refused" in refused.error
    # Moderators may still do what operators do.
    act(client, user, "sign_out")
    assert last_audit("sign_out").succeeded


def test_staff_cannot_touch_a_superuser(admin_client, new_user, idp):
    client, _ = admin_client
    pool = new_user()
    signed_in(pool.email, pool.password)
    root = User.objects.get(cognito_sub=pool.sub)
    User.objects.filter(pk=root.pk).update(is_superuser=True)
    response = act(client, root, "disable")
    assert "superuser" in " ".join(shown(response))
    assert pool_user(idp, pool.email)["Enabled"] is True


def test_acting_on_a_user_deleted_in_cognito_meanwhile(admin_client, target, idp):
    client, _ = admin_client
    pool, _, user = target
    idp.admin_delete_user(UserPoolId=POOL, Username=pool.email)
    response = act(client, user, "reset_password")
    assert response.status_code == HTTPStatus.FOUND
    assert "No longer exists in the user pool" in " ".join(shown(response))
    user.refresh_from_db()
    assert user.pool_missing_since is not None and not user.is_active
    page = client.get(f"/admin/accounts/user/{user.pk}/cognito/")
    assert page.status_code == HTTPStatus.OK and "no longer exists" in page.content.decode()


# --- Bulk -----------------------------------------------------------------------------------------


def bulk(client: Client, action: str, users: list[Any]):
    data = {"action": f"bulk_{action}", "_selected_action": [str(u.pk) for u in users], "index": "0"}
    return client.post("/admin/accounts/user/", data)


def three_members(new_user) -> list[tuple[Any, Any]]:
    made = []
    for n in range(3):
        pool = new_user(name=f"Bulk {n}")
        signed_in(pool.email, pool.password)
        made.append((pool, User.objects.get(cognito_sub=pool.sub)))
    return sorted(made, key=lambda pair: pair[1].email)


def test_bulk_disable_enable_and_sign_out(admin_client, new_user, idp):
    client, _ = admin_client
    made = three_members(new_user)
    users = [u for _, u in made]
    response = bulk(client, "disable", users)
    assert response.status_code == HTTPStatus.FOUND
    assert "Done for 3" in " ".join(shown(response))
    assert [pool_user(idp, p.email)["Enabled"] for p, _ in made] == [False] * 3
    bulk(client, "enable", users)
    assert [pool_user(idp, p.email)["Enabled"] for p, _ in made] == [True] * 3
    assert "Done for 3" in " ".join(shown(bulk(client, "sign_out", users)))


def throttle_second_disable(client: Any) -> list[str]:
    """Cognito answers TooManyRequestsException from the second user's AdminDisableUser on.

    The local stack cannot throttle (that fault injection is being built elsewhere), so this
    patches the network at botocore's edge: the request never leaves, and botocore parses the
    400 exactly as AWS sends it (and retries it as it would a real one).
    """
    from botocore.awsrequest import AWSResponse

    seen: list[str] = []

    class Raw:
        def stream(self, **kwargs):
            yield b""

    def handler(request, **kwargs):
        username = re.search(rb'"Username":\s*"([^"]+)"', request.body).group(1).decode()
        seen.append(username)
        if len(set(seen)) < 2:
            return None
        body = b'{"__type": "TooManyRequestsException", "message": "Too many requests"}'
        response = AWSResponse(request.url, 400, {"x-amzn-ErrorType": "TooManyRequestsException"}, Raw())
        response._content = body
        return response

    client.meta.events.register("before-send.cognito-identity-provider.AdminDisableUser", handler)
    return seen


def test_throttling_in_the_middle_of_a_bulk_action_is_reported_per_user(admin_client, new_user, idp):
    client, _ = admin_client
    made = three_members(new_user)
    cognito.user_pool().reset()
    throttle_second_disable(cognito.user_pool()._client())
    try:
        response = bulk(client, "disable", [u for _, u in made])
    finally:
        cognito.user_pool().reset()
    text = shown(response)
    (first, u1), (second, u2), (third, u3) = made
    assert any(m.startswith("Done for 1") and first.email in m for m in text)
    assert any(second.email in m and "TooManyRequestsException" in m for m in text)
    assert any(third.email in m and "Not tried" in m for m in text)
    assert [pool_user(idp, p.email)["Enabled"] for p, _ in made] == [False, True, True]
    assert [User.objects.get(pk=u.pk).is_active for u in (u1, u2, u3)] == [False, True, True]
    failed = OperatorAction.objects.filter(action="disable", target_sub=second.sub).latest("id")
    assert not failed.succeeded and "TooManyRequests" in failed.error


def test_cognito_unreachable_in_a_bulk_action(admin_client, new_user, idp, settings):
    client, _ = admin_client
    made = three_members(new_user)
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there: a real refusal
    settings.COGNITO_TIMEOUT = 1
    cognito.user_pool().reset()
    try:
        response = bulk(client, "disable", [u for _, u in made])
    finally:
        cognito.user_pool().reset()
    text = " ".join(shown(response))
    assert "could not be reached" in text and text.count("Not tried") == 2
    assert all(User.objects.get(pk=u.pk).is_active for _, u in made)


def test_only_a_superuser_adds_to_the_superuser_group(admin_client, target, idp, settings):
    client, _ = admin_client
    pool, _, user = target
    settings.COGNITO_SUPERUSER_GROUP = "admin"  # members of "admin" would become superusers
    response = act(client, user, "add_group", group="admin")
    assert "Only a superuser" in " ".join(shown(response))
    assert pool_user(idp, pool.email)["Groups"] == []
    user.refresh_from_db()
    assert not user.is_superuser


def test_bad_operator_input_is_an_answer_not_an_error(admin_client, target, idp):
    client, _ = admin_client
    pool, _, user = target
    for action, fields in (("bogus", {}), ("add_group", {"group": ""}), ("add_group", {"group": "nosuch"})):
        response = act(client, user, action, **fields)
        assert response.status_code == HTTPStatus.FOUND, action
        assert shown(response), action  # a message says what went wrong
    assert client.get(f"/admin/accounts/user/{user.pk}/cognito/", {"x": "\x00"}).status_code == HTTPStatus.OK
    assert client.get("/admin/accounts/user/999999/cognito/").status_code == HTTPStatus.NOT_FOUND
    assert client.put(f"/admin/accounts/user/{user.pk}/cognito/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert pool_user(idp, pool.email)["Groups"] == []


def test_cognito_accounts_are_never_deleted_by_the_plain_admin(admin_client, target, idp):
    client, _ = admin_client
    pool, _, user = target
    response = client.post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert User.objects.filter(pk=user.pk).exists() and pool_user(idp, pool.email) is not None


def test_operator_posts_need_the_csrf_token(admin_client, target, idp):
    client, _ = admin_client
    pool, _, user = target
    forged = Client(HTTP_HOST=APP_HOST, enforce_csrf_checks=True)
    forged.cookies = client.cookies  # the operator's own session, from another site's form
    assert act(forged, user, "disable").status_code == HTTPStatus.FORBIDDEN
    assert forged.post(
        "/admin/accounts/user/", {"action": "bulk_disable", "_selected_action": [user.pk]}
    ).status_code == (HTTPStatus.FORBIDDEN)
    assert pool_user(idp, pool.email)["Enabled"] is True
