"""Moderation without pictures: who may hide whom, what a hidden profile looks like, bad input.

The role is the profile's, which sign-ins set from the verified token (tests/profiles/test_roles.py);
here local members carry it directly. Removing a picture (S3 with the moderator's own credentials)
is tested in tests/avatars/test_moderation.py.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from profiles.models import Moderation, Profile
from tests.support.users import make_member

pytestmark = pytest.mark.django_db
V = Profile.Visibility


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def member():
    return make_member(name="Mallory Member", visibility=V.PUBLIC, role="member")


@pytest.fixture
def moderator():
    return make_member(name="Mona Moderator", role="moderator")


def hide(client: Client, profile: Profile, reason: str = "Spam links in the bio"):
    return client.post(f"/u/{profile.handle}/moderate/hide/", {"reason": reason})


def test_a_moderator_hides_a_profile_and_its_owner_sees_why(member, moderator):
    owner, profile = member
    actor, _ = moderator
    mod = client_for(actor)
    page = mod.get(f"/u/{profile.handle}/").content.decode()
    assert "Hide this profile" in page and 'name="csrfmiddlewaretoken"' in page
    assert f"/u/{profile.handle}/" in mod.get("/people/", {"q": "Mallory"}).content.decode()
    response = hide(mod, profile)
    assert response.status_code == HTTPStatus.FOUND
    profile.refresh_from_db()
    assert profile.hidden_at is not None and profile.hidden_reason == "Spam links in the bio"
    record = Moderation.objects.get(profile=profile)
    assert (record.actor, record.actor_email, record.actor_role, record.action, record.reason) == (
        actor, actor.email, "moderator", "hide", "Spam links in the bio",
    )  # fmt: skip

    # Gone for everybody else: public page, directory.
    stranger, _ = make_member(name="Sam Stranger")
    for viewer in (Client(), client_for(stranger)):
        assert viewer.get(f"/u/{profile.handle}/").status_code == HTTPStatus.NOT_FOUND
    directory = client_for(stranger).get("/people/", {"q": "Mallory"}).content.decode()
    assert f"/u/{profile.handle}/" not in directory and "Nobody matches." in directory

    # The owner sees that it is hidden, and why, on /me/ and on the page itself.
    me = client_for(owner).get("/me/").content.decode()
    assert "A moderator hid your profile" in me and "Spam links in the bio" in me
    assert "Profile hidden</strong> by a moderator" in me
    own_page = client_for(owner).get(f"/u/{profile.handle}/")
    assert own_page.status_code == HTTPStatus.OK and b"hidden by a moderator" in own_page.content

    # The moderator still reaches it, and shows it again.
    assert "Show this profile again" in mod.get(f"/u/{profile.handle}/").content.decode()
    assert mod.post(f"/u/{profile.handle}/moderate/unhide/", {"reason": "Bio fixed"}).status_code == 302
    assert Client().get(f"/u/{profile.handle}/").status_code == HTTPStatus.OK
    assert list(Moderation.objects.filter(profile=profile).values_list("action", flat=True)) == [
        "unhide",
        "hide",
    ]
    assert "Profile shown again" in client_for(owner).get("/me/").content.decode()


@pytest.mark.parametrize("role", ["member", "", "Moderator", "superadmin"])
def test_anyone_without_a_moderator_role_is_refused(member, role):
    _, profile = member
    forger, _ = make_member(name="Forger", role=role)
    client = client_for(forger)
    assert "Hide this profile" not in client.get(f"/u/{profile.handle}/").content.decode()
    for action in ("hide", "unhide", "remove-avatar"):
        response = client.post(f"/u/{profile.handle}/moderate/{action}/", {"reason": "because"})
        assert response.status_code == HTTPStatus.FORBIDDEN, action
        # A refused forger does not learn whether the reason would have passed.
        empty = client.post(f"/u/{profile.handle}/moderate/{action}/", {"reason": ""})
        assert empty.status_code == HTTPStatus.FORBIDDEN, action
    assert client.get("/moderation/").status_code == HTTPStatus.FORBIDDEN
    profile.refresh_from_db()
    assert profile.hidden_at is None and not Moderation.objects.exists()


def test_a_superuser_without_the_role_is_refused(member):
    _, profile = member
    root, _ = make_member(name="Root")
    type(root).objects.filter(pk=root.pk).update(is_superuser=True, is_staff=True)
    root.refresh_from_db()
    assert hide(client_for(root), profile).status_code == HTTPStatus.FORBIDDEN
    assert client_for(root).get("/moderation/").status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize(
    ("actor_role", "target", "allowed"),
    [
        ("moderator", {"role": "member"}, True),
        ("moderator", {"role": ""}, True),
        ("moderator", {"role": "moderator"}, False),
        ("moderator", {"role": "admin"}, False),
        ("admin", {"role": "moderator"}, True),
        ("admin", {"role": "admin"}, False),
        ("admin", {"role": "member", "staff": True}, False),
        ("admin", {"role": "member", "superuser": True}, False),
    ],
)
def test_one_moderates_only_lower_ranks_never_operators(actor_role, target, allowed):
    actor, _ = make_member(name="Actor", role=actor_role)
    user, profile = make_member(name="Target", role=target["role"], staff=target.get("staff", False))
    if target.get("superuser"):
        type(user).objects.filter(pk=user.pk).update(is_superuser=True)
    response = hide(client_for(actor), profile)
    assert response.status_code == (HTTPStatus.FOUND if allowed else HTTPStatus.FORBIDDEN)
    profile.refresh_from_db()
    assert (profile.hidden_at is not None) == allowed


def test_a_moderator_cannot_moderate_themselves(moderator):
    actor, profile = moderator
    assert hide(client_for(actor), profile).status_code == HTTPStatus.FORBIDDEN


def test_a_demoted_moderator_is_refused_at_once(member, moderator):
    _, profile = member
    actor, actor_profile = moderator
    client = client_for(actor)
    Profile.objects.filter(pk=actor_profile.pk).update(role="member")  # an admin took the role away
    assert hide(client, profile).status_code == HTTPStatus.FORBIDDEN


def test_a_moderator_cannot_change_roles(member, moderator):
    _, profile = member
    actor, _ = moderator
    client = client_for(actor)
    response = client.post(
        f"/admin/profiles/profile/{profile.pk}/change/",
        {"role": "moderator", "handle": profile.handle, "display_name": "X", "version": profile.version},
    )
    assert response.status_code in (HTTPStatus.FOUND, HTTPStatus.FORBIDDEN)
    assert response.status_code == HTTPStatus.FORBIDDEN or "/admin/" in response["Location"]
    profile.refresh_from_db()
    assert profile.role == "member"


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("\u3164\u200b", "control or invisible"),
        ("bad\u202ereason", "control or invisible"),
        ("x" * 501, "at most 500 characters"),
    ],
)
def test_a_bad_reason_is_a_form_error_and_nothing_changes(member, moderator, reason, message):
    _, profile = member
    actor, _ = moderator
    response = hide(client_for(actor), profile, reason=reason)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in response.content.decode()
    profile.refresh_from_db()
    assert profile.hidden_at is None and not Moderation.objects.exists()


def test_bad_requests_never_500(member, moderator):
    _, profile = member
    actor, _ = moderator
    client = client_for(actor)
    assert client.get(f"/u/{profile.handle}/moderate/hide/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert client.post(f"/u/{profile.handle}/moderate/delete/", {"reason": "x"}).status_code == 404
    assert client.post("/u/nobody-here/moderate/hide/", {"reason": "x"}).status_code == 404
    assert client.post("/u/%00/moderate/hide/", {"reason": "x"}).status_code == 404
    assert (
        client.post(f"/u/{profile.handle}/moderate/unhide/", {"reason": "x"}).status_code == 302
    )  # not hidden
    assert client.post(f"/u/{profile.handle}/moderate/remove-avatar/", {"reason": "x"}).status_code == 302
    anonymous = Client().post(f"/u/{profile.handle}/moderate/hide/", {"reason": "x"})
    assert anonymous.status_code == HTTPStatus.FOUND and "/accounts/" in anonymous["Location"]
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(actor)
    assert hide(csrf, profile).status_code == HTTPStatus.FORBIDDEN
    profile.refresh_from_db()
    assert profile.hidden_at is None and not Moderation.objects.exists()


def test_hiding_twice_says_so(member, moderator):
    _, profile = member
    actor, _ = moderator
    client = client_for(actor)
    assert hide(client, profile).status_code == HTTPStatus.FOUND
    again = hide(client, profile)
    assert again.status_code == HTTPStatus.FOUND
    assert "hidden already" in client.get(again["Location"]).content.decode()
    assert Moderation.objects.count() == 1


def test_the_moderation_page_lists_actions_and_hidden_profiles(member, moderator):
    _, profile = member
    actor, _ = moderator
    client = client_for(actor)
    hide(client, profile)
    page = client.get("/moderation/").content.decode()
    assert f"@{profile.handle}" in page and actor.email in page and "Spam links in the bio" in page


def test_a_page_without_moderation_costs_no_extra_query(member, django_assert_max_num_queries):
    owner, profile = member
    client = client_for(owner)
    client.get("/me/")
    with django_assert_max_num_queries(3):
        assert client.get("/me/").status_code == HTTPStatus.OK
    with django_assert_max_num_queries(3):
        assert client.get(f"/u/{profile.handle}/").status_code == HTTPStatus.OK


def test_a_moderator_acts_only_on_profiles_they_may_see(moderator):
    actor, _ = moderator
    _, private = make_member(name="Priya Private", visibility=V.PRIVATE, role="member")
    client = client_for(actor)
    assert client.get(f"/u/{private.handle}/").status_code == HTTPStatus.NOT_FOUND
    for reason in ("", "Spam"):  # an empty reason must not show the page either
        response = hide(client, private, reason=reason)
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert "Priya" not in response.content.decode()
    private.refresh_from_db()
    assert private.hidden_at is None
