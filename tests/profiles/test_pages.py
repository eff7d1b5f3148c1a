"""Profile pages: visibility for every viewer, editing, bad input, the directory, query budgets."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from profiles.models import Profile
from tests.support.users import make_member

pytestmark = pytest.mark.django_db

V = Profile.Visibility


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("visibility", "viewer", "visible"),
    [
        (V.PUBLIC, "anonymous", True),
        (V.PUBLIC, "member", True),
        (V.PUBLIC, "owner", True),
        (V.PUBLIC, "staff", True),
        (V.MEMBERS, "anonymous", False),
        (V.MEMBERS, "member", True),
        (V.MEMBERS, "owner", True),
        (V.MEMBERS, "staff", True),
        (V.PRIVATE, "anonymous", False),
        (V.PRIVATE, "member", False),
        (V.PRIVATE, "owner", True),
        (V.PRIVATE, "staff", True),
    ],
)
def test_visibility_for_every_viewer(visibility, viewer, visible):
    owner, profile = make_member(name="Olive Owner", visibility=visibility)
    viewers = {
        "anonymous": None,
        "member": make_member(name="Other")[0],
        "owner": owner,
        "staff": make_member(name="Staff", staff=True)[0],
    }
    response = client_for(viewers[viewer]).get(reverse("profiles:public", args=[profile.handle]))
    if visible:
        assert response.status_code == HTTPStatus.OK
        assert b"Olive Owner" in response.content
    else:
        # 404, not 403: the page does not tell a hidden profile from a missing one.
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert b"Olive Owner" not in response.content


def test_unknown_handle_is_404():
    assert Client().get("/u/nobody-here/").status_code == HTTPStatus.NOT_FOUND


def test_handles_are_case_insensitive():
    _, profile = make_member(name="Case Test", visibility=V.PUBLIC)
    assert Client().get(f"/u/{profile.handle.upper()}/").status_code == HTTPStatus.OK


def test_me_and_public_page_in_three_queries_and_no_network(django_assert_max_num_queries):
    user, profile = make_member(name="Quiet Reader", visibility=V.PUBLIC, bio="Hello", college="X")
    client = client_for(user)
    client.get("/me/")  # warm-up: nothing is created on the measured requests
    from project.integrations import cognito

    calls = []
    cognito.user_pool().http.hooks["response"].append(lambda r, *a, **k: calls.append(r.url))
    try:
        with django_assert_max_num_queries(3):
            assert client.get("/me/").status_code == HTTPStatus.OK
        with django_assert_max_num_queries(3):
            assert client.get(f"/u/{profile.handle}/").status_code == HTTPStatus.OK
    finally:
        cognito.user_pool().http.hooks["response"].clear()
    assert calls == []


def test_edit_saves_and_shows_the_profile():
    user, profile = make_member(name="Before")
    client = client_for(user)
    form = {
        "display_name": "Zoë Ünïcode 李",
        "handle": "Zoe-Li",
        "college": "Example College",
        "bio": "<script>alert(1)</script> & more",
        "pronouns": "she/her",
        "location": "Zürich",
        "website": "https://zoe.example.org/",
        "visibility": "public",
        "version": profile.version,
    }
    response = client.post("/me/edit/", form)
    assert response.status_code == HTTPStatus.FOUND
    profile.refresh_from_db()
    assert profile.display_name == "Zoë Ünïcode 李"
    assert profile.handle == "zoe-li"
    public = Client().get("/u/zoe-li/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in public
    assert "<script>alert(1)</script>" not in public


def test_the_role_cannot_be_set_through_the_form():
    user, profile = make_member(name="Student", role="member")
    data = {
        "display_name": "Student",
        "handle": profile.handle,
        "visibility": "members",
        "version": profile.version,
        "role": "admin",
    }
    assert client_for(user).post("/me/edit/", data).status_code == HTTPStatus.FOUND
    profile.refresh_from_db()
    assert profile.role == "member"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("display_name", "x" * 101, "at most 100 characters"),
        ("display_name", "   ", "required"),
        ("bio", "b" * 2001, "at most 2000 characters"),
        ("website", "javascript:alert(1)", "valid URL"),
        ("website", "not a url", "valid URL"),
        ("handle", "admin", "reserved"),
        ("handle", "me", "reserved"),
        ("handle", "ab", "3–30 lowercase"),
        ("handle", "people", "reserved"),
        ("handle", "api", "reserved"),
        ("handle", "has space", "3–30 lowercase"),
        ("handle", "ünï", "3–30 lowercase"),
        ("display_name", "\u202eevil", "control or invisible formatting character (U+202E)"),
        ("display_name", "two\u2028lines", "(U+2028)"),
        ("college", "\x1b[31mred", "(U+001B)"),
        ("location", "a\u2029b", "(U+2029)"),
        ("bio", "fine\nthen \x07", "(U+0007)"),
        ("visibility", "everyone", "valid choice"),
    ],
)
def test_bad_input_gets_a_form_error_and_keeps_the_input(field, value, message):
    user, profile = make_member(name="Careful")
    data = {
        "display_name": "Careful",
        "handle": profile.handle,
        "visibility": "members",
        "version": profile.version,
    }
    data[field] = value
    data["pronouns"] = "they/them"  # another field's input survives the error
    response = client_for(user).post("/me/edit/", data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    assert message.lower() in page.lower()
    assert 'value="they/them"' in page
    profile.refresh_from_db()
    assert profile.pronouns == ""


def test_a_taken_handle_is_refused():
    _, taken = make_member(name="First")
    user, profile = make_member(name="Second")
    data = {
        "display_name": "Second",
        "handle": taken.handle,
        "visibility": "members",
        "version": profile.version,
    }
    response = client_for(user).post("/me/edit/", data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "taken" in response.content.decode()


def test_a_concurrent_edit_is_not_silently_overwritten():
    user, profile = make_member(name="Two Tabs")
    tab = {"handle": profile.handle, "visibility": "members", "version": profile.version}
    client = client_for(user)
    assert client.post("/me/edit/", {**tab, "display_name": "First tab", "bio": "one"}).status_code == 302

    response = client.post("/me/edit/", {**tab, "display_name": "Second tab", "bio": "two"})

    assert response.status_code == HTTPStatus.CONFLICT
    page = response.content.decode()
    assert "changed meanwhile" in page
    assert 'value="Second tab"' in page and "two</textarea>" in page  # the input is kept
    assert "<li>Display name: First tab</li>" in page and "<li>Bio: one</li>" in page  # what was saved
    profile.refresh_from_db()
    assert profile.display_name == "First tab" and profile.bio == "one"
    # Saving again from that page applies the second tab's input deliberately.
    version = profile.version
    assert f'name="version" value="{version}"' in page
    assert (
        client.post("/me/edit/", {**tab, "version": version, "display_name": "Second tab"}).status_code == 302
    )
    profile.refresh_from_db()
    assert profile.display_name == "Second tab"


def test_directory_search_by_name_handle_and_college_hides_private_profiles():
    viewer, _ = make_member(name="Viewer")
    make_member(name="Ada Lovelace", college="Analytical College")
    make_member(name="Grace Hopper", college="Navy College")
    make_member(name="Hidden Person", college="Analytical College", visibility=V.PRIVATE)
    client = client_for(viewer)

    def names(q):
        return [p.display_name for p in client.get("/people/", {"q": q}).context["page"].object_list]

    assert names("ada") == ["Ada Lovelace"]
    assert names("analytical") == ["Ada Lovelace"]
    assert names("grace-h") == ["Grace Hopper"]  # handle
    assert "Hidden Person" not in names("")


def test_directory_is_paginated_and_for_members_only():
    viewer, _ = make_member(name="Viewer")
    for i in range(25):
        make_member(name=f"Paged {i:02d}")
    client = client_for(viewer)
    first = client.get("/people/", {"q": "paged"})
    assert len(first.context["page"].object_list) == 20
    assert len(client.get("/people/", {"q": "paged", "page": 2}).context["page"].object_list) == 5
    assert client.get("/people/", {"q": "paged", "page": "junk"}).status_code == HTTPStatus.OK
    assert Client().get("/people/").status_code == HTTPStatus.FOUND  # to sign-in


@pytest.mark.parametrize("path", ["/u/a%00b/", "/u/%ED%A0%80/", "/u/" + "x" * 300 + "/"])
def test_odd_handles_are_404_never_500(path):
    assert Client().get(path).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("query", ["%00", "a%00b", "%ED%A0%80", "%1B%5B31m", "%FF%FE"])
def test_odd_search_terms_never_500(query):
    viewer, _ = make_member(name="Viewer")
    assert client_for(viewer).get("/people/", QUERY_STRING=f"q={query}").status_code == HTTPStatus.OK


@pytest.mark.parametrize("length", ["abc", "1e3", "11, 11"])
@pytest.mark.parametrize("path", ["/me/edit/", "/me/avatar/remove/", "/accounts/sign-out/"])
def test_a_malformed_content_length_on_a_form_post_is_a_400_page(path, length):
    user, profile = make_member(name="Length Tester")
    data = {
        "display_name": "X",
        "handle": profile.handle,
        "visibility": "members",
        "version": profile.version,
    }
    response = client_for(user).post(path, data, CONTENT_LENGTH=length)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Bad request" in response.content.decode()
    profile.refresh_from_db()
    assert profile.display_name == "Length Tester"


def test_a_handle_taken_between_check_and_save_is_a_form_error(handle_taken_meanwhile):
    user, profile = make_member(name="Slow Racer")
    data = {
        "display_name": "Slow Racer",
        "handle": "contested",
        "visibility": "members",
        "version": profile.version,
    }
    response = client_for(user).post("/me/edit/", data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "This handle is taken" in response.content.decode()
    profile.refresh_from_db()
    assert profile.handle != "contested" and profile.version == data["version"]
