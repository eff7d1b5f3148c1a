"""Forms people can use with a screen reader or a keyboard: an error summary, references that resolve."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from tests.support.markup import read_markup
from tests.support.users import make_member

pytestmark = pytest.mark.django_db


def signed_in(**fields):
    user, profile = make_member(name="Ada Lovelace", **fields)
    client = Client(HTTP_HOST="localhost:8000")
    client.force_login(user)
    return client, profile


def test_the_edit_form_refers_only_to_ids_that_exist_and_hints_the_real_address():
    client, profile = signed_in()
    page = client.get(reverse("profiles:edit")).content.decode()
    markup = read_markup(page)
    assert markup.dangling() == []
    assert markup.controls["id_handle"]["aria-describedby"] == "id_handle_helptext"
    assert f"Your public page&#x27;s address: http://localhost:8000/u/{profile.handle}/" in page
    assert "&lt;handle&gt;" not in page and "/u//" not in page


def test_errors_are_summarised_first_with_a_link_to_each_field_and_marked_on_the_fields():
    client, profile = signed_in()
    form = {"version": profile.version, "display_name": "", "handle": "No Good!", "visibility": "members",
            "website": "ftp://example.com"}  # fmt: skip
    response = client.post(reverse("profiles:edit"), form)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    markup = read_markup(page)
    assert markup.dangling() == []
    summary = re.search(
        r'<div class="form-errors" id="error-summary" tabindex="-1" autofocus.*?</div>', page, re.S
    )
    assert summary, page
    links = re.findall(r'<a href="#([^"]+)">', summary.group(0))
    assert links == ["id_display_name", "id_handle", "id_website"]
    for field_id in links:
        control = markup.controls[field_id]
        assert control["aria-invalid"] == "true"
        assert f"{field_id}_error" in control["aria-describedby"].split()
    assert "<title>Error: Edit your profile" in page
    # Summary before the form: the first thing read after the heading.
    assert page.index('id="error-summary"') < page.index('<form method="post" action="/me/edit/"')


def test_the_admin_shows_the_profiles_real_address_not_a_swallowed_placeholder():
    admin, _ = make_member(name="Root Admin", staff=True)
    admin.is_superuser = True
    admin.save()
    _, profile = make_member(name="Grace Hopper")
    client = Client(HTTP_HOST="localhost:8000")
    client.force_login(admin)
    page = client.get(reverse("admin:profiles_profile_change", args=[profile.pk])).content.decode()
    assert f"/u/{profile.handle}/" in page
    assert "/u//" not in page


def test_the_first_sign_in_asks_to_complete_the_profile_until_something_is_saved():
    client, profile = signed_in()
    page = client.get(reverse("profiles:me")).content.decode()
    assert 'data-testid="complete-profile"' in page and "Welcome, Ada Lovelace! Complete your profile" in page
    form = {"version": profile.version, "display_name": "Ada Lovelace", "handle": profile.handle,
            "visibility": "public", "pronouns": "she/her"}  # fmt: skip
    assert client.post(reverse("profiles:edit"), form).status_code == HTTPStatus.FOUND
    assert 'data-testid="complete-profile"' not in client.get(reverse("profiles:me")).content.decode()
