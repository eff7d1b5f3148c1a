"""Reconciling local users with the pool: never-seen pool users listed, deleted ones marked."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from http import HTTPStatus

import pytest
from django import db
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import reconcile
from accounts.models import OperatorAction
from project.integrations import cognito
from tests.support.hosted_ui import APP_HOST, finish_sign_in, hosted_ui_sign_in, start_sign_in
from tests.support.waiting import wait_until

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
    # Database work is per page, not per pool user: three queries a page, a fixed few for the sweep,
    # and a few per user newly found missing (ending their sessions: accounts.sessions, per user).
    assert len(queries) <= 3 * result.pages + 8 + 7 * result.newly_missing

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


# --- Overlapping passes (the admin's button and the cron job) ----------------------------------


def test_a_second_pass_is_refused_while_one_runs(big_pool, new_user):
    _, made = big_pool
    signed = local(*made[20])
    other = connection.copy()  # another server's connection, holding the lock as a running pass does
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [reconcile.LOCK_KEY])
        with pytest.raises(reconcile.ReconcileRunning):
            reconcile.users_reconcile()
        email, password, _ = new_user(groups=("admin",), role="admin")
        client = Client(HTTP_HOST=APP_HOST)
        finish_sign_in(client, hosted_ui_sign_in(start_sign_in(client), email, password))
        page = client.post("/admin/accounts/user/reconcile/")
        assert (
            page.status_code == HTTPStatus.OK and "Another reconciliation is running" in page.content.decode()
        )
    finally:
        # Unlock before closing: closing only asks the server to end that backend, which may still
        # hold the lock for a moment after close() returns (the next pass then found it taken).
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [reconcile.LOCK_KEY])
        other.close()
    signed.refresh_from_db()
    assert signed.pool_seen_at is None and signed.is_active  # the refused passes touched nothing
    refused = OperatorAction.objects.filter(action="reconcile").latest("id")
    assert not refused.succeeded and refused.actor_email == email and "running" in refused.error
    reconcile.users_reconcile(keep_unseen=0)  # the lock is free again
    signed.refresh_from_db()
    assert signed.pool_seen_at is not None


def test_a_later_pass_stamp_never_moves_back(big_pool):
    _, made = big_pool
    signed = local(*made[21])
    later = timezone.now() + timedelta(hours=1)  # stamped by a pass that started after this one
    User.objects.filter(pk=signed.pk).update(pool_seen_at=later)
    reconcile.users_reconcile(keep_unseen=0)
    signed.refresh_from_db()
    assert signed.pool_seen_at == later and signed.is_active


def test_a_user_missed_by_a_pass_is_active_again_when_found(big_pool):
    idp, made = big_pool
    missed, disabled, other = local(*made[22]), local(*made[23]), local(*made[24])
    for user, reason in ((missed, "missing"), (disabled, "missing"), (other, "")):
        User.objects.filter(pk=user.pk).update(
            is_active=False, deactivated_as=reason, pool_missing_since=timezone.now()
        )
    idp.admin_disable_user(UserPoolId=POOL, Username=made[23][0])  # back in the pool, but disabled
    try:
        result = reconcile.users_reconcile(keep_unseen=0)
    finally:
        idp.admin_enable_user(UserPoolId=POOL, Username=made[23][0])
    assert result.back_in_pool >= 3
    missed.refresh_from_db()
    assert missed.is_active and missed.pool_missing_since is None and missed.deactivated_as == ""
    disabled.refresh_from_db()  # found, disabled there: still inactive here, now for that reason
    assert not disabled.is_active and disabled.pool_missing_since is None
    assert disabled.deactivated_as == "disabled"
    other.refresh_from_db()  # inactive for a reason the pool does not stand for: stays so
    assert not other.is_active and other.pool_missing_since is None and other.deactivated_as == ""


# --- The pool's Enabled, mirrored (a user disabled in the Cognito console) ---------------------


def test_a_user_disabled_in_the_console_is_deactivated_and_signed_out_then_back(new_user, idp):
    pool = new_user(name="Console Disabled")
    alice = Client(HTTP_HOST=APP_HOST)
    finish_sign_in(alice, hosted_ui_sign_in(start_sign_in(alice), pool.email, pool.password))
    assert alice.get("/me/").status_code == HTTPStatus.OK
    user = User.objects.get(cognito_sub=pool.sub)
    idp.admin_disable_user(UserPoolId=POOL, Username=pool.email)  # in the console: the app is not told

    result = reconcile.users_reconcile(keep_unseen=0)
    assert result.newly_disabled >= 1
    user.refresh_from_db()
    assert not user.is_active and user.deactivated_as == "disabled" and user.pool_missing_since is None
    page = alice.get("/me/", follow=True)  # her open session ended, and she is told why
    assert page.redirect_chain[-1][0] == "/accounts/disabled/"
    assert "Your account is disabled" in page.content.decode()
    entry = OperatorAction.objects.filter(action="reconcile").latest("id")
    assert entry.succeeded and "newly disabled" in entry.detail

    again = reconcile.users_reconcile(keep_unseen=0)  # idempotent: nothing new
    user.refresh_from_db()
    assert not user.is_active and again.newly_disabled == 0

    idp.admin_enable_user(UserPoolId=POOL, Username=pool.email)  # enabled in the console again
    back = reconcile.users_reconcile(keep_unseen=0)
    user.refresh_from_db()
    assert user.is_active and user.deactivated_as == "" and back.enabled_again >= 1
    fresh = Client(HTTP_HOST=APP_HOST)
    finish_sign_in(fresh, hosted_ui_sign_in(start_sign_in(fresh), pool.email, pool.password))
    assert fresh.get("/me/").status_code == HTTPStatus.OK


def test_a_pass_never_reactivates_a_user_deactivated_for_another_reason(new_user, idp):
    pool = new_user(name="Kept Out")
    user = local(pool.email, pool.sub)
    # Inactive here for a reason the pool does not stand for (no DISABLED / MISSING recorded).
    User.objects.filter(pk=user.pk).update(is_active=False, deactivated_as="")
    reconcile.users_reconcile(keep_unseen=0)
    user.refresh_from_db()
    assert not user.is_active and user.deactivated_as == ""
    # Disabled in the pool meanwhile: the pass keeps the reason it had, and still does not reactivate.
    idp.admin_disable_user(UserPoolId=POOL, Username=pool.email)
    reconcile.users_reconcile(keep_unseen=0)
    idp.admin_enable_user(UserPoolId=POOL, Username=pool.email)
    reconcile.users_reconcile(keep_unseen=0)
    user.refresh_from_db()
    assert not user.is_active and user.deactivated_as == ""


def test_a_pass_cut_short_keeps_what_its_pages_said_about_enabled(big_pool, faults):
    idp, made = big_pool
    user = local(*made[25])  # early in the pool's listing: on a page before the last
    ghost = local("ghost3@example.com", str(uuid.uuid4()))
    pages = reconcile.users_reconcile(keep_unseen=0).pages
    ghost.refresh_from_db()
    User.objects.filter(pk=ghost.pk).update(is_active=True, deactivated_as="", pool_missing_since=None)
    idp.admin_disable_user(UserPoolId=POOL, Username=made[25][0])
    faults.put("ListUsers", Skip=pages - 1, Count=0)  # every page is read but the last
    try:
        with pytest.raises(cognito.CognitoError):
            reconcile.users_reconcile(keep_unseen=0)
    finally:
        faults.clear()
        idp.admin_enable_user(UserPoolId=POOL, Username=made[25][0])
    user.refresh_from_db()
    ghost.refresh_from_db()
    assert not user.is_active and user.deactivated_as == "disabled"  # a fact of a page read
    assert ghost.is_active and ghost.pool_missing_since is None  # no one marked missing
    entry = OperatorAction.objects.filter(action="reconcile").latest("id")
    assert not entry.succeeded and "no one was marked missing" in entry.error
    assert "1 newly disabled" in entry.error


# --- A page out of date: an operator's Disable or Enable made while the pass runs ------------------


def _operator_acts_after_the_page_is_read(monkeypatch, sub: str, act) -> list[str]:
    """The race made certain: `act()` runs once, just after the page listing `sub` is read and
    before the pass applies it. Returns the subs of the users the pass then asked AdminGetUser about."""
    read_page = cognito.CognitoUserPool.list_users_page
    get_user = cognito.CognitoUserPool.admin_get_user
    asked: list[str] = []
    acting = []

    def list_users_page(pool, **kwargs):
        users, token = read_page(pool, **kwargs)
        if not acting and any(u["Attributes"].get("sub") == sub for u in users):
            acting.append(True)
            act()
            acting.append(False)
        return users, token

    def admin_get_user(pool, *, username):
        answer = get_user(pool, username=username)
        if acting[-1:] != [True]:  # the pass's own calls, not the console's
            asked.append(answer["Attributes"]["sub"])
        return answer

    monkeypatch.setattr(cognito.CognitoUserPool, "list_users_page", list_users_page)
    monkeypatch.setattr(cognito.CognitoUserPool, "admin_get_user", admin_get_user)
    return asked


def _operator(new_user) -> Client:
    email, password, _ = new_user(groups=("admin",), name="Operator", role="admin")
    client = Client(HTTP_HOST=APP_HOST)
    finish_sign_in(client, hosted_ui_sign_in(start_sign_in(client), email, password))
    return client


def _press(console: Client, user, action: str) -> None:
    response = console.post(f"/admin/accounts/user/{user.pk}/cognito/", {"action": action})
    assert response.status_code == HTTPStatus.FOUND, response


def test_a_pass_never_undoes_a_disable_made_after_its_page_was_read(new_user, idp, monkeypatch):
    console = _operator(new_user)
    dave = new_user(name="Dave Racer")
    session = Client(HTTP_HOST=APP_HOST)
    finish_sign_in(session, hosted_ui_sign_in(start_sign_in(session), dave.email, dave.password))
    user = User.objects.get(cognito_sub=dave.sub)
    # The page says dave is enabled; the operator presses Disable before the pass applies it.
    asked = _operator_acts_after_the_page_is_read(
        monkeypatch, dave.sub, lambda: _press(console, user, "disable")
    )

    result = reconcile.users_reconcile(keep_unseen=0)
    user.refresh_from_db()
    assert not user.is_active and user.deactivated_as == "disabled" and result.enabled_again == 0
    assert not idp.admin_get_user(UserPoolId=POOL, Username=dave.email)["Enabled"]
    assert session.get("/me/").status_code == HTTPStatus.FOUND  # still signed out
    # Only the one user whose state would have flipped cost an AdminGetUser.
    assert asked == [dave.sub]


def test_a_pass_never_undoes_an_enable_made_after_its_page_was_read(new_user, idp, monkeypatch):
    console = _operator(new_user)
    carol = new_user(name="Carol Back")
    local(carol.email, carol.sub)
    user = User.objects.get(cognito_sub=carol.sub)
    _press(console, user, "disable")
    user.refresh_from_db()
    assert not user.is_active and user.deactivated_as == "disabled"
    session = Client(HTTP_HOST=APP_HOST)

    def enable_and_sign_in() -> None:
        _press(console, user, "enable")
        finish_sign_in(session, hosted_ui_sign_in(start_sign_in(session), carol.email, carol.password))

    # The page says carol is disabled; the operator presses Enable and she signs in before it is applied.
    asked = _operator_acts_after_the_page_is_read(monkeypatch, carol.sub, enable_and_sign_in)

    result = reconcile.users_reconcile(keep_unseen=0)
    user.refresh_from_db()
    assert user.is_active and user.deactivated_as == "" and result.newly_disabled == 0
    assert idp.admin_get_user(UserPoolId=POOL, Username=carol.email)["Enabled"]
    assert session.get("/me/").status_code == HTTPStatus.OK  # not signed out by the pass
    assert asked == [carol.sub]


@pytest.mark.django_db(transaction=True)  # two connections: the pass's, and the operator's request's
def test_a_disable_pressed_while_the_pass_confirms_lands_after_it(new_user, idp, monkeypatch):
    """The narrowest window: the pool confirmed 'enabled', then the operator presses Disable before
    the pass writes the row. Their write waits for the pass's row lock, so theirs is the last word."""
    console = _operator(new_user)
    dave = new_user(name="Dave Locked")
    local(dave.email, dave.sub)
    user = User.objects.get(cognito_sub=dave.sub)
    User.objects.filter(pk=user.pk).update(is_active=False, deactivated_as="disabled")  # disabled before
    # Enabled again in the console: the pass will reactivate him, unless the operator's Disable wins.
    get_user = cognito.CognitoUserPool.admin_get_user
    pressed: list[threading.Thread] = []

    def press_disable() -> None:
        try:
            _press(console, user, "disable")
        finally:
            db.connections.close_all()

    def waiting_for_a_row_lock() -> bool:
        with watcher.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            return cursor.fetchone()[0] > 0

    def admin_get_user(pool, *, username):
        answer = get_user(pool, username=username)
        if threading.current_thread() is threading.main_thread() and not pressed:
            pressed.append(threading.Thread(target=press_disable))
            pressed[0].start()
            # Until their local write waits for this row (or, without the lock, is done).
            wait_until(lambda: not pressed[0].is_alive() or waiting_for_a_row_lock(), what="the Disable")
        return answer

    monkeypatch.setattr(cognito.CognitoUserPool, "admin_get_user", admin_get_user)
    watcher = connection.copy()
    try:
        reconcile.users_reconcile(keep_unseen=0)
        pressed[0].join(timeout=10)
    finally:
        watcher.close()
    assert not pressed[0].is_alive()
    user.refresh_from_db()
    assert not user.is_active and user.deactivated_as == "disabled"
    assert not idp.admin_get_user(UserPoolId=POOL, Username=dave.email)["Enabled"]
