"""Pool users who never signed in: listed with their Cognito state a window at a time, sent their
invitation again (AdminCreateUser RESEND) or imported as their first sign-in would make them."""

from __future__ import annotations

import re
import uuid
from html import unescape
from http import HTTPStatus
from typing import Any

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import Client

from accounts import operators, reconcile
from accounts.models import OperatorAction
from profiles.models import Profile
from project.integrations import cognito
from tests.support.hosted_ui import (
    APP_HOST,
    finish_sign_in,
    hosted_ui_sign_in,
    provider_round_trip,
    start_sign_in,
    submit_hosted_form,
)
from tests.support.users import make_member, outbox, pool_user
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db
User = get_user_model()
POOL = settings.COGNITO_USER_POOL_ID
LIST = "/admin/accounts/user/never-signed-in/"
GROUP = "reviewers"


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


class Invited:
    """Users invited by AdminCreateUser (a real invitation in the outbox); deleted afterwards."""

    def __init__(self, idp: Any) -> None:
        self.idp, self.made = idp, []

    def __call__(self, *, role: str = "", college: str = "", group: str = "") -> tuple[str, str]:
        email = f"invited-{uuid.uuid4().hex[:10]}@example.com"
        attributes = {"email": email, "email_verified": "true", "name": "Invited Person"}
        attributes.update({k: v for k, v in (("custom:role", role), ("custom:college", college)) if v})
        answer = self.idp.admin_create_user(
            UserPoolId=POOL,
            Username=email,
            UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
            DesiredDeliveryMediums=["EMAIL"],
        )
        if group:
            self.idp.admin_add_user_to_group(UserPoolId=POOL, Username=email, GroupName=group)
        self.made.append(email)
        return email, next(a["Value"] for a in answer["User"]["Attributes"] if a["Name"] == "sub")


@pytest.fixture
def invited(idp):
    made = Invited(idp)
    yield made
    for email in made.made:
        try:
            idp.admin_delete_user(UserPoolId=POOL, Username=email)
        except idp.exceptions.UserNotFoundException:
            pass


@pytest.fixture(scope="module")
def reviewers_group(idp):
    try:
        idp.create_group(UserPoolId=POOL, GroupName=GROUP)
    except idp.exceptions.GroupExistsException:
        pass
    return GROUP


def shown(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def act(client: Client, action: str, *subs: str, query: str = ""):
    return client.post(LIST + query, {"action": action, "sub": list(subs)})


def listed_rows(client: Client, status: str = "") -> list[list[str]]:
    """Every row of the list, following its "Next page" links (each page's size checked on the way)."""
    rows: list[list[str]] = []
    url = LIST + (f"?status={status}" if status else "")
    for _ in range(200):
        page = client.get(url)
        assert page.status_code == HTTPStatus.OK
        html = page.content.decode()
        table = html.split('id="never-signed-in"', 1)[1].split("</table>", 1)[0]
        found = [
            [
                unescape(re.sub(r"<[^>]+>", "", cell)).strip()
                for cell in re.findall(r"<td>(.*?)</td>", row, re.S)
            ]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
        ]
        found = [r for r in found if len(r) == 6]
        # Bounded: whole ListUsers pages until WINDOW_USERS are found or WINDOW_PAGES are read.
        assert len(found) < reconcile.WINDOW_USERS + 60
        rows += found
        following = re.search(r'<a href="([^"]+)" id="next-page">', html)
        if following is None:
            return rows
        url = LIST + unescape(following.group(1))
    raise AssertionError("the list never ended")


def row_of(rows: list[list[str]], sub: str) -> list[str] | None:
    return next((r for r in rows if r[2] == sub), None)


def audit(action: str, sub: str) -> OperatorAction:
    return OperatorAction.objects.filter(action=action, target_sub=sub).latest("id")


def accept_invitation(email: str, temporary: str) -> Client:
    """The invited person's real first sign-in: hosted UI, temporary password, a new one, the app."""
    client = Client(HTTP_HOST=APP_HOST)
    browser = requests.Session()
    page = browser.get(start_sign_in(client), timeout=10)
    step = submit_hosted_form(browser, page, {"username": email, "password": temporary})
    assert step.status_code == HTTPStatus.OK and "new" in step.text.lower(), step.text[:500]
    callback = submit_hosted_form(browser, step, {"password": "Chosen-pass-1", "password2": "Chosen-pass-1"})
    assert finish_sign_in(client, callback.headers["Location"]).status_code == HTTPStatus.FOUND
    return client


def temporary_password_works(email: str, password: str) -> bool:
    """Whether Cognito takes this password (a temporary one answers NEW_PASSWORD_REQUIRED)."""
    try:
        cognito.user_pool().password_sign_in(username=email, password=password)
    except cognito.TokenRejected as exc:
        return exc.error == "NEW_PASSWORD_REQUIRED"
    return True


# --- The list --------------------------------------------------------------------------------------


def test_an_invited_user_is_listed_with_their_state_and_a_user_here_is_not(
    admin_client, invited, new_user, idp
):
    client, operator = admin_client
    email, sub = invited()
    confirmed = new_user(name="Never Came")  # a password of their own, never used the app
    idp.admin_disable_user(UserPoolId=POOL, Username=confirmed.email)
    rows = listed_rows(client)
    assert row_of(rows, sub)[1:5] == [email, sub, "FORCE_CHANGE_PASSWORD", "yes"]
    assert row_of(rows, sub)[5] != "—"  # UserCreateDate
    assert row_of(rows, confirmed.sub)[3:5] == ["CONFIRMED", "no — disabled"]
    assert row_of(rows, operator.cognito_sub) is None  # signed in here
    only_invited = listed_rows(client, "FORCE_CHANGE_PASSWORD")  # filtered by Cognito
    assert row_of(only_invited, sub) and row_of(only_invited, confirmed.sub) is None
    assert {r[3] for r in only_invited} == {"FORCE_CHANGE_PASSWORD"}


def test_a_large_pool_is_paged(admin_client, idp):
    client, _ = admin_client
    made = []
    for n in range(2 * reconcile.WINDOW_USERS + 20):
        email = f"paged-{uuid.uuid4().hex[:8]}-{n}@example.com"
        answer = idp.admin_create_user(UserPoolId=POOL, Username=email, MessageAction="SUPPRESS")
        made.append((email, next(a["Value"] for a in answer["User"]["Attributes"] if a["Name"] == "sub")))
    try:
        first = client.get(LIST).content.decode()
        assert 'id="next-page"' in first
        subs = [r[2] for r in listed_rows(client)]
        assert len(subs) == len(set(subs))  # no one twice across pages
        assert {sub for _, sub in made} <= set(subs)
    finally:
        for email, _ in made:
            idp.admin_delete_user(UserPoolId=POOL, Username=email)


def test_a_stale_or_forged_page_token_is_an_answer_not_an_error(admin_client):
    client, _ = admin_client
    for token in ("garbage", "\x00" * 3, "x" * 5000):
        page = client.get(LIST, {"page": token, "status": "NOT_A_STATUS"})
        assert page.status_code == HTTPStatus.OK
        assert "start again from the first page" in page.content.decode()


def test_the_command_streams_them_with_their_state(invited, capsys):
    email, sub = invited()
    call_command("reconcile_users")
    line = next(line for line in capsys.readouterr().out.splitlines() if sub in line)
    assert email in line and "FORCE_CHANGE_PASSWORD" in line and "enabled" in line and "created 20" in line


# --- Resend invitation ---------------------------------------------------------------------------


def test_resend_sends_a_new_temporary_password_and_the_old_one_stops_working(admin_client, invited):
    client, operator = admin_client
    email, sub = invited()
    first = outbox(email)[0]["code"]
    assert temporary_password_works(email, first)
    response = act(client, "resend_invitation", sub, query="?status=FORCE_CHANGE_PASSWORD")
    assert response.status_code == HTTPStatus.FOUND and response["Location"].endswith(
        "?status=FORCE_CHANGE_PASSWORD"
    )
    assert any(sub in m and "Invitation sent again" in m for m in shown(response))
    second = outbox(email)[0]["code"]
    assert second != first and len(outbox(email)) == 2
    assert not temporary_password_works(email, first)
    entry = audit("resend_invitation", sub)
    assert entry.succeeded and entry.actor_email == operator.email and entry.target_email == email
    accept_invitation(email, second)  # the new one is the invitation now
    assert User.objects.filter(cognito_sub=sub).count() == 1


def test_resend_to_a_user_with_a_password_is_refused_in_words(admin_client, new_user, idp):
    client, _ = admin_client
    confirmed = new_user()
    response = act(client, "resend_invitation", confirmed.sub)
    message = " ".join(shown(response))
    assert "Not sent" in message and "FORCE_CHANGE_PASSWORD" in message and confirmed.email in message
    assert outbox(confirmed.email) == []
    assert pool_user(idp, confirmed.email)["UserStatus"] == "CONFIRMED"
    entry = audit("resend_invitation", confirmed.sub)
    assert not entry.succeeded and "UnsupportedUserStateException" in entry.error


def test_throttling_in_the_middle_of_a_bulk_resend_is_reported_per_user(admin_client, invited, faults):
    client, _ = admin_client
    users = [invited() for _ in range(3)]
    act(client, "import", users[2][1])  # known here: its "not tried" row names the local account
    faults.put("AdminCreateUser", "throttle", Skip=1, Count=0)  # the first passes, then throttled
    response = act(client, "resend_invitation", *(sub for _, sub in users))
    faults.clear()
    messages = shown(response)
    (e1, s1), (e2, s2), (e3, s3) = users
    assert any(s1 in m and "Invitation sent again" in m for m in messages)
    assert any(s2 in m and "TooManyRequestsException" in m for m in messages)
    assert any(s3 in m and "Not tried" in m for m in messages)
    assert [len(outbox(e)) for e, _ in users] == [2, 1, 1]
    assert audit("resend_invitation", s2).succeeded is False
    not_tried = audit("resend_invitation", s3)
    assert not_tried.error.startswith("not tried")
    assert (not_tried.target_email, not_tried.target_id) == (e3, User.objects.get(cognito_sub=s3).pk)


def test_bad_selections_are_answers(admin_client, invited):
    client, _ = admin_client
    _, sub = invited()
    for action, subs in (
        ("bogus", [sub]),
        ("import", []),
        ("import", ["not-a-sub\x00"]),
        ("import", ["a" * 9000]),
    ):
        response = act(client, action, *subs)
        assert response.status_code == HTTPStatus.FOUND and shown(response), (action, subs)
    too_many = [str(uuid.uuid4()) for _ in range(operators.POOL_USERS_AT_ONCE + 1)]
    assert "At most" in " ".join(shown(act(client, "import", *too_many)))
    gone = str(uuid.uuid4())
    assert "No such user in the pool" in " ".join(shown(act(client, "import", gone)))
    assert not User.objects.filter(cognito_sub__in=[sub, gone]).exists()


# --- Import ------------------------------------------------------------------------------------------


def test_import_makes_one_user_as_a_first_sign_in_would_and_the_sign_in_lands_on_it(
    admin_client, invited, reviewers_group
):
    client, _ = admin_client
    email, sub = invited(role="moderator", college="Balliol", group=reviewers_group)
    response = act(client, "import", sub)
    assert any(sub in m and "Imported" in m for m in shown(response)), shown(response)
    user = User.objects.get(cognito_sub=sub)
    assert (user.email, user.name, user.last_login) == (email, "Invited Person", None)
    assert list(user.groups.values_list("name", flat=True)) == [reviewers_group] and not user.is_staff
    profile = Profile.objects.get(user=user)
    assert (profile.role, profile.college) == ("moderator", "Balliol")
    entry = audit("import", sub)
    assert entry.succeeded and entry.target_id == user.pk
    assert row_of(listed_rows(client, "FORCE_CHANGE_PASSWORD"), sub) is None  # known here now

    again = act(client, "import", sub)
    assert "Already a user here" in " ".join(shown(again))
    assert User.objects.filter(cognito_sub=sub).count() == 1

    accept_invitation(email, outbox(email)[0]["code"])
    assert User.objects.filter(cognito_sub=sub).count() == 1
    signed = User.objects.get(cognito_sub=sub)
    assert (
        signed.pk == user.pk
        and signed.last_login is not None
        and Profile.objects.filter(user=user).count() == 1
    )


def test_an_import_that_races_a_first_sign_in_keeps_the_one_row(admin_client, new_user, monkeypatch):
    """The person signs in between the import's check and its insert: the unique sub refuses the
    second row and the import reports it. The timing is forced by running the real sign-in (hosted
    UI, over HTTP) just before the import's real insert; nothing is mocked away."""
    client, _ = admin_client
    person = new_user(name="Racer")
    create = operators.services.user_get_or_create_from_claims

    def sign_in_first(**kwargs):
        monkeypatch.setattr(operators.services, "user_get_or_create_from_claims", create)
        signed_in(person.email, person.password)  # its own first sign-in makes the row
        return create(**kwargs)

    monkeypatch.setattr(operators.services, "user_get_or_create_from_claims", sign_in_first)
    response = act(client, "import", person.sub)
    assert "meanwhile" in " ".join(shown(response))
    user = User.objects.get(cognito_sub=person.sub)  # exactly one
    assert user.last_login is not None  # the sign-in's row, untouched
    assert not audit("import", person.sub).succeeded


def test_a_user_disabled_in_the_pool_is_imported_inactive(admin_client, invited, idp):
    client, _ = admin_client
    email, sub = invited()
    idp.admin_disable_user(UserPoolId=POOL, Username=email)
    act(client, "import", sub)
    user = User.objects.get(cognito_sub=sub)
    assert not user.is_active and user.deactivated_as == "disabled"


def test_an_imported_user_can_be_sent_the_invitation_from_their_page(admin_client, invited):
    client, _ = admin_client
    email, sub = invited()
    act(client, "import", sub)
    user = User.objects.get(cognito_sub=sub)
    page = client.get(f"/admin/accounts/user/{user.pk}/cognito/").content.decode()
    assert 'value="resend_invitation"' in page
    response = client.post(f"/admin/accounts/user/{user.pk}/cognito/", {"action": "resend_invitation"})
    assert "Invitation sent again" in " ".join(shown(response)) and len(outbox(email)) == 2


# --- Who may not -------------------------------------------------------------------------------------


def nothing_happened(email: str, sub: str) -> bool:
    return len(outbox(email)) == 1 and not User.objects.filter(cognito_sub=sub).exists()


@pytest.mark.parametrize("action", ["resend_invitation", "import"])
def test_anonymous_members_and_staff_without_permission_cannot_act(action, invited, new_user):
    email, sub = invited()
    assert act(Client(HTTP_HOST=APP_HOST), action, sub).status_code == HTTPStatus.FOUND  # to sign-in
    member = new_user()
    member_client = signed_in(member.email, member.password)
    assert act(member_client, action, sub).status_code in (HTTPStatus.FOUND, HTTPStatus.FORBIDDEN)
    assert member_client.get(LIST).status_code in (HTTPStatus.FOUND, HTTPStatus.FORBIDDEN)
    staff, _ = make_member(name="Staff Without Perms", staff=True)
    staff_client = Client(HTTP_HOST=APP_HOST)
    staff_client.force_login(staff)
    assert act(staff_client, action, sub).status_code == HTTPStatus.FORBIDDEN
    assert nothing_happened(email, sub)


@pytest.mark.parametrize("action", ["resend_invitation", "import"])
def test_a_moderator_operator_cannot_act(action, invited, new_user):
    """Invitations and new accounts are for administrators (MANAGE and role admin), as Invite is."""
    email, sub = invited()
    moderator = new_user(groups=("admin",), name="Moderator", role="moderator")
    client = signed_in(moderator.email, moderator.password)
    assert client.get(LIST).status_code == HTTPStatus.OK  # may look
    response = act(client, action, sub)
    assert "Only administrators" in " ".join(shown(response))
    assert nothing_happened(email, sub)
    assert audit(action, sub).error.startswith("refused")


@pytest.mark.parametrize("action", ["resend_invitation", "import"])
def test_a_forged_post_needs_the_csrf_token(action, admin_client, invited):
    client, _ = admin_client
    email, sub = invited()
    forged = Client(HTTP_HOST=APP_HOST, enforce_csrf_checks=True)
    forged.cookies = client.cookies  # the operator's own session, from another site's form
    assert act(forged, action, sub).status_code == HTTPStatus.FORBIDDEN
    assert nothing_happened(email, sub)


def test_only_a_superuser_imports_a_member_of_the_superuser_group(admin_client, invited, settings):
    client, _ = admin_client
    settings.COGNITO_SUPERUSER_GROUP = "admin"  # members of "admin" would become superusers
    _, sub = invited(group="admin")
    assert "Only a superuser" in " ".join(shown(act(client, "import", sub)))
    assert not User.objects.filter(cognito_sub=sub).exists()


# --- Who can sign in, who may act on whom, what the trail says ------------------------------------


@pytest.fixture
def signed_up(idp):
    """signed_up(name=, college=) → (email, sub): a self sign-up, UNCONFIRMED (code never entered)."""
    made: list[str] = []

    def make(*, name: str = "Self Named", college: str = "Self College") -> tuple[str, str]:
        email = f"signup-{uuid.uuid4().hex[:10]}@example.com"
        attributes = {"email": email, "name": name, "custom:college": college}
        answer = idp.sign_up(
            ClientId=settings.COGNITO_CLIENT_ID,
            Username=email,
            Password="Signup-pass-1",
            SecretHash=cognito.secret_hash(email),
            UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
        )
        made.append(email)
        return email, answer["UserSub"]

    yield make
    for email in made:
        try:
            idp.admin_delete_user(UserPoolId=POOL, Username=email)
        except idp.exceptions.UserNotFoundException:
            pass


def page_listing(client: Client, sub: str, status: str) -> str:
    """The HTML of the list's page (filtered by `status`) that shows this sub."""
    url = f"{LIST}?status={status}"
    for _ in range(200):
        html = client.get(url).content.decode()
        if sub in html:
            return html
        following = re.search(r'<a href="([^"]+)" id="next-page">', html)
        assert following is not None, "not listed"
        url = LIST + unescape(following.group(1))
    raise AssertionError("the list never ended")


def test_an_unconfirmed_sign_up_is_neither_imported_nor_offered(admin_client, signed_up, idp):
    """A sign-up nobody confirmed cannot sign in yet: no account, no profile in /people/ with the
    name and college they typed; the list offers no selection for them; Resend says what to do."""
    client, operator = admin_client
    email, sub = signed_up(name="Chosen Name", college="Chosen College")
    assert pool_user(idp, email)["UserStatus"] == "UNCONFIRMED"
    assert f'value="{sub}"' not in page_listing(client, sub, "UNCONFIRMED")  # no checkbox
    message = " ".join(shown(act(client, "import", sub)))
    assert "Not imported (UNCONFIRMED)" in message
    assert not User.objects.filter(cognito_sub=sub).exists()
    assert not Profile.objects.filter(college="Chosen College").exists()
    entry = audit("import", sub)
    assert not entry.succeeded and entry.target_email == email and entry.actor_id == operator.pk

    resent = " ".join(shown(act(client, "resend_invitation", sub)))
    assert "not confirmed their sign-up e-mail" in resent and "new code on the sign-in page" in resent
    assert [m["kind"] for m in outbox(email)] == ["signup"] or len(
        outbox(email)
    ) == 1  # only the sign-up code


def test_a_user_with_an_unverified_email_is_imported_as_their_sign_in_would_make_them(
    admin_client, new_user, idp
):
    """CONFIRMED with email_verified false: the hosted UI signs them in, so Import does, taking the
    address as a sign-in does (pending, not the account's); the trail still names the pool's address."""
    client, _ = admin_client
    person = new_user(name="Unverified")
    idp.admin_update_user_attributes(
        UserPoolId=POOL, Username=person.email, UserAttributes=[{"Name": "email_verified", "Value": "false"}]
    )
    assert any("Imported" in m for m in shown(act(client, "import", person.sub)))
    user = User.objects.get(cognito_sub=person.sub)
    assert (user.email, user.pending_email) == ("", person.email)
    entry = audit("import", person.sub)
    assert entry.succeeded and entry.target_email == person.email and entry.target_id == user.pk


def test_only_a_superuser_resends_to_a_member_of_the_superuser_group(admin_client, invited, idp, settings):
    client, _ = admin_client
    settings.COGNITO_SUPERUSER_GROUP = "admin"  # their first sign-in would make them a superuser
    email, sub = invited(group="admin")
    assert "Only a superuser" in " ".join(shown(act(client, "resend_invitation", sub)))
    assert len(outbox(email)) == 1
    entry = audit("resend_invitation", sub)
    assert entry.error.startswith("refused") and entry.target_email == email  # the pool's, read

    # Imported while an ordinary user, added to the group in Cognito afterwards: the pool's groups
    # (read now) decide, not the local row's.
    other_email, other = invited()
    act(client, "import", other)
    idp.admin_add_user_to_group(UserPoolId=POOL, Username=other_email, GroupName="admin")
    user = User.objects.get(cognito_sub=other)
    response = client.post(f"/admin/accounts/user/{user.pk}/cognito/", {"action": "resend_invitation"})
    assert "Only a superuser" in " ".join(shown(response)) and len(outbox(other_email)) == 1


def test_a_refusal_on_a_local_superuser_names_the_account(admin_client, invited):
    client, _ = admin_client
    email, sub = invited()
    act(client, "import", sub)
    User.objects.filter(cognito_sub=sub).update(is_superuser=True)
    assert "Only a superuser" in " ".join(shown(act(client, "resend_invitation", sub)))
    entry = audit("resend_invitation", sub)
    assert entry.target_id == User.objects.get(cognito_sub=sub).pk and entry.target_email == email
    assert len(outbox(email)) == 1


def test_a_clash_with_another_account_fails_that_import_only(admin_client, invited):
    """A local account whose username is the pool user's sub (made here by hand) refuses the new
    row: that user is reported and recorded, the rest of the batch is imported."""
    client, _ = admin_client
    (_, clashing), (other_email, other) = invited(), invited()
    squatter = User.objects.create_user(username=clashing, email="squatter@example.com")
    response = act(client, "import", clashing, other)
    assert response.status_code == HTTPStatus.FOUND
    messages = shown(response)
    assert any(clashing in m and "Could not import" in m for m in messages), messages
    assert any(other in m and "Imported" in m for m in messages), messages
    assert User.objects.get(cognito_sub=other).email == other_email
    assert not User.objects.filter(cognito_sub=clashing).exists()
    assert User.objects.get(pk=squatter.pk).cognito_sub in ("", None)
    entry = audit("import", clashing)
    assert not entry.succeeded and "Could not import" in entry.error


def test_resend_to_a_disabled_invitee_is_sent_with_a_warning(admin_client, invited, idp):
    client, _ = admin_client
    email, sub = invited()
    idp.admin_disable_user(UserPoolId=POOL, Username=email)
    message = " ".join(shown(act(client, "resend_invitation", sub)))
    assert "Invitation sent again" in message and "cannot sign in until enabled" in message
    assert len(outbox(email)) == 2


def test_outcomes_are_shown_as_written(admin_client, invited):
    """The admin's messages are not capitalised: an e-mail or a sub is shown as it is."""
    client, _ = admin_client
    email, sub = invited()
    page = act(client, "resend_invitation", sub)
    html = client.get(page["Location"]).content.decode()
    assert f'<li class="success">{email} ({sub}): Invitation sent again' in html, html


def test_a_resend_that_timed_out_is_not_sent_again(admin_client, invited, faults, settings):
    """The first attempt reaches Cognito but its answer comes after the client's timeout (the
    stack's delay fault); botocore would retry and e-mail a second password. Not retried: one
    e-mail, once the delayed call runs, and the operator is told it may not have been done."""
    client, _ = admin_client
    email, sub = invited()
    timeout, settings.COGNITO_TIMEOUT = settings.COGNITO_TIMEOUT, 1
    cognito.user_pool().reset()
    try:
        faults.put("AdminCreateUser", "delay", Seconds=30, Count=1)
        message = " ".join(shown(act(client, "resend_invitation", sub)))
        assert "could not be reached" in message
        assert len(outbox(email)) == 1  # a retry would have run (and e-mailed) by now
        faults.clear()  # the delayed first attempt runs now
        wait_until(lambda: len(outbox(email)) == 2, what="the delayed RESEND")
    finally:
        settings.COGNITO_TIMEOUT = timeout
        cognito.user_pool().reset()
    assert len(outbox(email)) == 2


def test_resend_to_a_google_user_says_there_is_no_invitation(admin_client, idp):
    """An EXTERNAL_PROVIDER user (a real Google sign-in through the fake provider; their account
    here removed, so the pool user is one never seen here): Cognito refuses, the outcome says why."""
    client, _ = admin_client
    email = f"fed-{uuid.uuid4().hex[:10]}@example.com"
    provider_round_trip(Client(HTTP_HOST=APP_HOST), "Google", email=email, name="Gina Google")
    user = User.objects.get(email=email)
    username, sub = user.cognito_username, user.cognito_sub
    user.delete()
    try:
        assert pool_user(idp, username)["UserStatus"] == "EXTERNAL_PROVIDER"
        message = " ".join(shown(act(client, "resend_invitation", sub)))
        assert "sign in through Google" in message and "no invitation to resend" in message, message
        assert not audit("resend_invitation", sub).succeeded
    finally:
        idp.admin_delete_user(UserPoolId=POOL, Username=username)
