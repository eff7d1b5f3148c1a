"""Reconciling local users with the pool: never-seen pool users listed, deleted ones marked."""

from __future__ import annotations

import uuid
from http import HTTPStatus

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import reconcile
from project.integrations import cognito
from tests.support.hosted_ui import APP_HOST, finish_sign_in, hosted_ui_sign_in, start_sign_in

pytestmark = pytest.mark.django_db
User = get_user_model()
POOL = settings.COGNITO_USER_POOL_ID
SIZE = 300  # a few hundred: five ListUsers pages and more


@pytest.fixture(scope="module")
def big_pool(idp):
    """SIZE users in the pool nobody has signed in with (made once; the stack is fresh per run)."""
    tag = uuid.uuid4().hex[:6]
    made = []
    for n in range(SIZE):
        email = f"pool-{tag}-{n}@example.com"
        answer = idp.admin_create_user(
            UserPoolId=POOL, Username=email, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        )  # fmt: skip
        sub = next(a["Value"] for a in answer["User"]["Attributes"] if a["Name"] == "sub")
        made.append((email, sub))
    yield idp, made
    for email, _ in made:
        try:
            idp.admin_delete_user(UserPoolId=POOL, Username=email)
        except idp.exceptions.UserNotFoundException:
            pass


def local(email: str, sub: str):
    return User.objects.create_user(username=sub, cognito_sub=sub, email=email)


def test_reconcile_lists_never_seen_and_marks_deleted(big_pool):
    idp, made = big_pool
    # Ten of them have signed in here; two of those were deleted in the pool since.
    signed = [local(email, sub) for email, sub in made[:10]]
    for email, _ in made[:2]:
        idp.admin_delete_user(UserPoolId=POOL, Username=email)
    ghost = local("ghost@example.com", str(uuid.uuid4()))  # a sub the pool never had (any more)

    with CaptureQueriesContext(connection) as queries:
        result = reconcile.users_reconcile(keep_unseen=25)
    unseen_subs = {sub for _, sub in made[10:]}
    assert result.pages >= SIZE // 60
    assert result.never_signed_in >= len(unseen_subs)  # others' test users may be in the pool too
    assert len(result.unseen) == 25  # only the first are kept; the rest are counted
    # Database work is per page, not per pool user: two queries a page, a fixed few for the sweep,
    # and a few per user newly found missing (ending their sessions: accounts.sessions, per user).
    assert len(queries) <= 2 * result.pages + 8 + 7 * result.newly_missing

    for user in (ghost, signed[0], signed[1]):
        user.refresh_from_db()
        assert user.pool_missing_since is not None and not user.is_active
    for user in signed[2:]:
        user.refresh_from_db()
        assert user.pool_missing_since is None and user.is_active and user.pool_seen_at is not None

    again = reconcile.users_reconcile(keep_unseen=0)  # idempotent: nothing new to mark
    assert again.newly_missing == 0 and again.missing >= 3
    assert again.never_signed_in == result.never_signed_in
    ghost.refresh_from_db()
    assert ghost.pool_missing_since == User.objects.get(pk=ghost.pk).pool_missing_since


def test_all_unseen_are_streamed_by_the_command(big_pool, capsys):
    _, made = big_pool
    call_command("reconcile_users")
    out = capsys.readouterr().out
    assert all(sub in out for _, sub in made[10:])
    assert "never signed in to the app" in out


def test_a_pass_cut_short_marks_nothing(big_pool, settings):
    ghost = local("ghost2@example.com", str(uuid.uuid4()))
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.COGNITO_TIMEOUT = 1
    cognito.user_pool().reset()
    try:
        with pytest.raises(cognito.CognitoError):
            reconcile.users_reconcile()
    finally:
        cognito.user_pool().reset()
    ghost.refresh_from_db()
    assert ghost.pool_missing_since is None and ghost.is_active


def test_the_admin_view_runs_it(big_pool, new_user):
    email, password, _ = new_user(groups=("admin",), role="admin")
    client = Client(HTTP_HOST=APP_HOST)
    finish_sign_in(client, hosted_ui_sign_in(start_sign_in(client), email, password))
    page = client.post("/admin/accounts/user/reconcile/")
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert "never signed in to the app" in html and "The first 500 are shown" not in html
    assert big_pool[1][-1][1] in html  # a never-seen pool user, listed with their sub
    member = Client(HTTP_HOST=APP_HOST)
    assert member.post("/admin/accounts/user/reconcile/").status_code == HTTPStatus.FOUND  # to sign-in
